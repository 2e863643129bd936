// ffitypes.h: FFIType, a Python object owning or sharing one libffi ffi_type.
#pragma once
#include "refs.h"
#include <ffi.h>

#include <cstddef>
#include <memory>

namespace rawffi {

// The FFIType type object (set by init_ffitypes).
extern PyTypeObject *FFIType_Type;

// True if o is an FFIType.
bool is_ffitype(PyObject *o) noexcept;

// The ffi_type wrapped by an FFIType (o must be one; see is_ffitype).
ffi_type *ffitype_get(PyObject *o) noexcept;

// The shared FFIType of a type code (borrowed; lives as long as the process),
// or NULL with ValueError for an unknown code.
PyObject *ffitype_for_code(int code) noexcept;

// Name of a libffi status, for error messages ("FFI_BAD_TYPEDEF", ...).
const char *ffi_status_name(ffi_status status) noexcept;

// Whether an ffi_type is an integer type narrower than ffi_arg (libffi widens
// those to a full ffi_arg in return values), and whether it is signed.
inline bool is_narrow_int(const ffi_type *t) noexcept {
    switch (t->type) {
    case FFI_TYPE_UINT8: case FFI_TYPE_SINT8: case FFI_TYPE_UINT16: case FFI_TYPE_SINT16:
    case FFI_TYPE_UINT32: case FFI_TYPE_SINT32: case FFI_TYPE_INT:
        return t->size < sizeof(ffi_arg);
    default:
        return false;
    }
}

// Scratch space for a return value of libffi: at least max(size, sizeof(ffi_arg))
// bytes, 16-aligned, zeroed; on the stack when small.
class ResultBuffer {
public:
    explicit ResultBuffer(const ffi_type *t) {
        size_t n = t->size > sizeof(ffi_arg) ? t->size : sizeof(ffi_arg);
        if (n > sizeof local_) [[unlikely]] {
            heap_.reset(new Chunk[(n + sizeof(Chunk) - 1) / sizeof(Chunk)]());
            p_ = heap_.get();
        }
    }
    ResultBuffer(const ResultBuffer &) = delete;
    ResultBuffer &operator=(const ResultBuffer &) = delete;
    void *get() noexcept { return p_; }

private:
    struct alignas(16) Chunk { unsigned char b[16]; };
    Chunk local_[4]{};
    std::unique_ptr<Chunk[]> heap_;
    void *p_ = local_;
};

}  // namespace rawffi
