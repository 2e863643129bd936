// crashreport.cpp: enable_crash_report(): on a fatal signal inside a foreign call, name the
// call, its arguments as C received them and the buffer the fault address falls in or next
// to, then hand the signal on to the handler that was there before (faulthandler's prints
// the Python stacks of every thread), so that the process still dies of the signal.
// Everything the handler does is async-signal-safe: it reads memory prepared before the
// call (ForeignCall records, object headers) and writes with write(2).
#include "crashreport.h"
#include "carg.h"
#include "funcptr.h"
#include "memory.h"
#include "module.h"

#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <unistd.h>

namespace rawffi {

constinit thread_local const ForeignCall *current_foreign_call [[gnu::tls_model("initial-exec")]] = nullptr;

namespace {

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr int kNumSignals = static_cast<int>(std::size(kSignals));
struct sigaction g_previous[kNumSignals];
bool g_enabled = false;

// ---------------------------------------------------------------- writing, no allocation
class Out {
public:
    Out &text(const char *s) { return bytes(s, std::strlen(s)); }
    Out &bytes(const char *s, size_t n) {
        while (n > 0) {
            ssize_t w = ::write(STDERR_FILENO, s, n);
            if (w <= 0) return *this;
            s += w;
            n -= static_cast<size_t>(w);
        }
        return *this;
    }
    Out &unsigned_(unsigned long long v, unsigned base = 10) {
        char buf[32];
        int i = sizeof buf;
        do {
            buf[--i] = "0123456789abcdef"[v % base];
            v /= base;
        } while (v);
        return bytes(buf + i, sizeof buf - static_cast<size_t>(i));
    }
    Out &signed_(long long v) {
        if (v < 0) return text("-").unsigned_(0ULL - static_cast<unsigned long long>(v));
        return unsigned_(static_cast<unsigned long long>(v));
    }
    Out &hex(uintptr_t v) { return text("0x").unsigned_(v, 16); }
    // %.6f for |v| < 1e15, else the bits: enough to recognise a value.
    Out &real(double v) {
        if (std::isnan(v)) return text("nan");
        if (std::isinf(v)) return text(v < 0 ? "-inf" : "inf");
        if (std::fabs(v) >= 1e15) {
            uint64_t bits;
            std::memcpy(&bits, &v, sizeof bits);
            return text("(double bits ").hex(bits).text(")");
        }
        if (v < 0) {
            text("-");
            v = -v;
        }
        auto micro = static_cast<unsigned long long>(std::llround(v * 1e6));
        unsigned_(micro / 1000000).text(".");
        char frac[7] = "000000";
        for (unsigned long long f = micro % 1000000, i = 6; i-- > 0; f /= 10) frac[i] = static_cast<char>('0' + f % 10);
        return text(frac);
    }
    // A str's characters if it is compact ASCII (what identifiers and paths are).
    Out &str(PyObject *s) {
        if (s && PyUnicode_Check(s) && PyUnicode_IS_COMPACT_ASCII(s))
            return bytes(static_cast<const char *>(PyUnicode_DATA(s)), static_cast<size_t>(PyUnicode_GET_LENGTH(s)));
        return text("?");
    }
};

const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "Segmentation fault";
    case SIGBUS: return "Bus error";
    case SIGFPE: return "Floating-point exception";
    case SIGILL: return "Illegal instruction";
    case SIGABRT: return "Aborted";
    default: return "Fatal signal";
    }
}

// ---------------------------------------------------------------- what a call holds
void function_name(Out &out, const ForeignCall &call) {
    PyObject *label = funcptr_label(call.who);
    if (label) out.str(label);
    else out.text("function at ").hex(reinterpret_cast<uintptr_t>(call.fn));
}

void argument_value(Out &out, const ffi_type *t, const void *p) {
    auto get = [p](auto v) {
        std::memcpy(&v, p, sizeof v);
        return v;
    };
    switch (t->type) {
    case FFI_TYPE_SINT8: out.signed_(get(int8_t{})); break;
    case FFI_TYPE_UINT8: out.unsigned_(get(uint8_t{})); break;
    case FFI_TYPE_SINT16: out.signed_(get(int16_t{})); break;
    case FFI_TYPE_UINT16: out.unsigned_(get(uint16_t{})); break;
    case FFI_TYPE_SINT32: case FFI_TYPE_INT: out.signed_(get(int32_t{})); break;
    case FFI_TYPE_UINT32: out.unsigned_(get(uint32_t{})); break;
    case FFI_TYPE_SINT64: out.signed_(get(int64_t{})); break;
    case FFI_TYPE_UINT64: out.unsigned_(get(uint64_t{})); break;
    case FFI_TYPE_FLOAT: out.real(get(float{})); break;
    case FFI_TYPE_DOUBLE: out.real(get(double{})); break;
    case FFI_TYPE_POINTER: out.text("pointer ").hex(reinterpret_cast<uintptr_t>(get(static_cast<void *>(nullptr)))); break;
    case FFI_TYPE_STRUCT: out.text("structure of ").unsigned_(t->size).text(" bytes, by value"); break;
    default: out.text("value of ").unsigned_(t->size).text(" bytes"); break;
    }
}

// The memory a Python argument passes (bytes, a ctypes instance, byref's
// target), or false.
bool argument_buffer(PyObject *o, uintptr_t &start, size_t &size) {
    if (PyBytes_Check(o)) {
        start = reinterpret_cast<uintptr_t>(PyBytes_AS_STRING(o));
        size = static_cast<size_t>(PyBytes_GET_SIZE(o)) + 1;    // its NUL
        return true;
    }
    if (is_carg(o) && as_carg(o)->obj && is_cdata(as_carg(o)->obj)) o = as_carg(o)->obj;
    if (is_cdata(o)) {
        start = reinterpret_cast<uintptr_t>(as_cdata(o)->b_ptr);
        size = static_cast<size_t>(as_cdata(o)->b_size);
        return start != 0;
    }
    return false;
}

// Where the fault address lies relative to the Python arguments' buffers.
void fault_near_arguments(Out &out, const ForeignCall &call, uintptr_t fault) {
    constexpr uintptr_t kNear = 4096;
    for (Py_ssize_t i = 0; call.pyargs && i < call.npyargs; i++) {
        uintptr_t start;
        size_t size;
        if (!argument_buffer(call.pyargs[i], start, size)) continue;
        uintptr_t end = start + size;
        bool inside = fault >= start && fault < end, past = fault >= end && fault - end < kNear,
             before = fault < start && start - fault <= kNear;
        if (!inside && !past && !before) continue;
        out.text("  the fault address is at offset ");
        if (before) out.text("-").unsigned_(start - fault);
        else out.unsigned_(fault - start);
        out.text(" of the buffer of argument ").unsigned_(static_cast<unsigned long long>(i + 1)).text(" (")
            .text(Py_TYPE(call.pyargs[i])->tp_name).text(", ").unsigned_(size).text(" bytes at ").hex(start)
            .text(inside ? ")\n" : past ? "), past its end\n" : "), before its start\n");
    }
}

void describe(Out &out, const ForeignCall &call) {
    function_name(out, call);
    out.text("(");
    for (Py_ssize_t i = 0; i < call.nargs; i++) {
        if (i) out.text(", ");
        argument_value(out, call.types[i], call.values[i]);
    }
    out.text(")");
}

void report(int sig, const siginfo_t *info) {
    const ForeignCall *call = current_foreign_call;
    Out out;
    out.text("\npyctypes: ").text(signal_name(sig));
    if (!call) {
        out.text(", not inside a foreign call of pyctypes\n");
        return;
    }
    out.text(" in a foreign call: ");
    describe(out, *call);
    out.text("\n");
    for (Py_ssize_t i = 0; i < call->nargs; i++) {
        out.text("  argument ").unsigned_(static_cast<unsigned long long>(i + 1)).text(": ");
        argument_value(out, call->types[i], call->values[i]);
        if (call->pyargs && i < call->npyargs) out.text(" (from a Python ").text(Py_TYPE(call->pyargs[i])->tp_name).text(")");
        out.text("\n");
    }
    if ((sig == SIGSEGV || sig == SIGBUS) && info) {
        auto fault = reinterpret_cast<uintptr_t>(info->si_addr);
        out.text("  fault address: ").hex(fault).text("\n");
        fault_near_arguments(out, *call, fault);
    }
    for (const ForeignCall *outer = call->outer; outer; outer = outer->outer) {
        out.text("  in a callback called by: ");
        describe(out, *outer);
        out.text("\n");
    }
}

// ---------------------------------------------------------------- the handler
void on_fatal_signal(int sig, siginfo_t *info, void *context) {
    int saved_errno = errno;
    report(sig, info);
    int k = 0;
    while (k < kNumSignals && kSignals[k] != sig) k++;
    if (k == kNumSignals) return;
    const struct sigaction &prev = g_previous[k];
    sigaction(sig, &prev, nullptr);     // ours is done: from now on the signal is theirs
    errno = saved_errno;
    if ((prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction) {
        prev.sa_sigaction(sig, info, context);
    } else if (!(prev.sa_flags & SA_SIGINFO) && prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
        prev.sa_handler(sig);
    } else {
        // The default action: raised again, delivered when this handler returns.
        ::raise(sig);
    }
}

PyObject *fn_enable_crash_report(PyObject *, PyObject *) {
    if (g_enabled) Py_RETURN_FALSE;
    for (int k = 0; k < kNumSignals; k++) {
        struct sigaction action {};
        action.sa_sigaction = on_fatal_signal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        if (sigaction(kSignals[k], &action, &g_previous[k]) < 0) {
            for (int j = 0; j < k; j++) sigaction(kSignals[j], &g_previous[j], nullptr);
            return PyErr_SetFromErrno(PyExc_OSError);
        }
    }
    g_enabled = true;
    Py_RETURN_TRUE;
}

PyObject *fn_disable_crash_report(PyObject *, PyObject *) {
    if (!g_enabled) Py_RETURN_FALSE;
    for (int k = 0; k < kNumSignals; k++) sigaction(kSignals[k], &g_previous[k], nullptr);
    g_enabled = false;
    Py_RETURN_TRUE;
}

PyMethodDef crashreport_functions[] = {
    {"enable_crash_report", fn_enable_crash_report, METH_NOARGS,
     "enable_crash_report() -> bool: on SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT inside a foreign\n"
     "call, write the call to stderr, then hand the signal to the handler installed before\n"
     "(enable faulthandler first for the Python stacks).  False if it was on already."},
    {"disable_crash_report", fn_disable_crash_report, METH_NOARGS,
     "disable_crash_report() -> bool: the handlers installed before come back."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

int init_crashreport(PyObject *module) {
    return guard_int([&] {
        if (PyModule_AddFunctions(module, crashreport_functions) < 0) throw PyErrorSet{};
        return 0;
    });
}

}  // namespace rawffi
