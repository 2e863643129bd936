// refs.h: owning and borrowed PyObject* references, with ownership in the type.
#pragma once
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <utility>

namespace rawffi {

// A borrowed reference: never decref'd.  Converts to an owned one only by
// an explicit new_ref().
class Borrowed;

// An owned (strong) reference: decref'd when it goes out of scope.
class Ref {
public:
    Ref() noexcept = default;
    // Take over a new reference (the result of a C-API call returning one).
    static Ref steal(PyObject *o) noexcept { Ref r; r.p_ = o; return r; }
    // Take a new reference to a borrowed object.
    static Ref borrow(PyObject *o) noexcept { Py_XINCREF(o); return steal(o); }
    Ref(const Ref &o) noexcept : p_(o.p_) { Py_XINCREF(p_); }
    Ref(Ref &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Ref &operator=(Ref o) noexcept { std::swap(p_, o.p_); return *this; }
    ~Ref() { Py_XDECREF(p_); }

    PyObject *get() const noexcept { return p_; }
    // Give the reference away (to a C-API call that steals, or as a return value).
    [[nodiscard]] PyObject *release() noexcept { return std::exchange(p_, nullptr); }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    void reset() noexcept { Py_CLEAR(p_); }

private:
    PyObject *p_ = nullptr;
};

// Thrown inside the core when a Python error is already set; turned back into
// "return NULL" once, at the method boundary (see guard()).
struct PyErrorSet {};

[[noreturn]] inline void throw_if_error() { throw PyErrorSet{}; }

// Raise exc with msg and throw PyErrorSet.
[[noreturn]] inline void raise(PyObject *exc, const char *msg) {
    PyErr_SetString(exc, msg);
    throw PyErrorSet{};
}

// Raise exc with a PyErr_Format message and throw PyErrorSet.
[[noreturn, gnu::cold]] inline void raise_fmt(PyObject *exc, const char *fmt, auto... args) {
    PyErr_Format(exc, fmt, args...);
    throw PyErrorSet{};
}

// Check a C-API result: NULL (or -1 for ints) means an error is set.
inline PyObject *check(PyObject *o) { if (!o) [[unlikely]] throw PyErrorSet{}; return o; }
inline Ref check_new(PyObject *o) { return Ref::steal(check(o)); }

// Run body at a C-API entry point: returns its result, or NULL with the error set.
template <class F>
PyObject *guard(F &&body) noexcept {
    try {
        return std::forward<F>(body)();
    } catch (PyErrorSet &) {
        return nullptr;
    } catch (std::bad_alloc &) {
        return PyErr_NoMemory();
    }
}

// Same for int-returning slots (0 ok, -1 error).
template <class F>
int guard_int(F &&body) noexcept {
    try {
        return std::forward<F>(body)();
    } catch (PyErrorSet &) {
        return -1;
    } catch (std::bad_alloc &) {
        PyErr_NoMemory();
        return -1;
    }
}

// A buffer export of an object (PyObject_GetBuffer), released when it goes
// out of scope.  Throws PyErrorSet if the object refuses the request.
class BufferView {
public:
    BufferView(PyObject *obj, int flags) {
        if (PyObject_GetBuffer(obj, &view_, flags) < 0) [[unlikely]] throw PyErrorSet{};
    }
    BufferView(const BufferView &) = delete;
    BufferView &operator=(const BufferView &) = delete;
    ~BufferView() { PyBuffer_Release(&view_); }

    Py_buffer *operator->() noexcept { return &view_; }
    Py_buffer *get() noexcept { return &view_; }

private:
    Py_buffer view_;
};

}  // namespace rawffi
