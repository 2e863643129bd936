// directcall.cpp: direct calls of small scalar signatures (x86-64 System V): the
// arguments are loaded into the integer and SSE argument registers by calling
// through a variadic prototype (which also sets %al, as libffi does), so one
// call shape serves every such signature.
#include "directcall.h"
#include "call.h"
#include "helpers.h"

#include <cstring>
#include <utility>

namespace rawffi {

namespace {

#if defined(__x86_64__) && !defined(_WIN32)
constexpr bool kSupported = true;
#else
constexpr bool kSupported = false;
#endif

using Arg = DirectSig::Arg;
using Ret = DirectSig::Ret;

bool arg_kind(const ffi_type *t, Arg &out) noexcept {
    switch (t->type) {
    case FFI_TYPE_SINT8: out = Arg::S8; return true;
    case FFI_TYPE_UINT8: out = Arg::U8; return true;
    case FFI_TYPE_SINT16: out = Arg::S16; return true;
    case FFI_TYPE_UINT16: out = Arg::U16; return true;
    case FFI_TYPE_SINT32: case FFI_TYPE_INT: out = Arg::S32; return true;
    case FFI_TYPE_UINT32: out = Arg::U32; return true;
    case FFI_TYPE_SINT64: case FFI_TYPE_UINT64: case FFI_TYPE_POINTER: out = Arg::I64; return true;
    case FFI_TYPE_FLOAT: out = Arg::Float; return true;
    case FFI_TYPE_DOUBLE: out = Arg::Double; return true;
    default: return false;
    }
}

bool ret_kind(const ffi_type *t, Ret &out) noexcept {
    switch (t->type) {
    case FFI_TYPE_VOID: out = Ret::Void; return true;
    case FFI_TYPE_SINT8: out = Ret::S8; return true;
    case FFI_TYPE_UINT8: out = Ret::U8; return true;
    case FFI_TYPE_SINT16: out = Ret::S16; return true;
    case FFI_TYPE_UINT16: out = Ret::U16; return true;
    case FFI_TYPE_SINT32: case FFI_TYPE_INT: out = Ret::S32; return true;
    case FFI_TYPE_UINT32: out = Ret::U32; return true;
    case FFI_TYPE_SINT64: case FFI_TYPE_UINT64: case FFI_TYPE_POINTER: out = Ret::I64; return true;
    case FFI_TYPE_FLOAT: out = Ret::Float; return true;
    case FFI_TYPE_DOUBLE: out = Ret::Double; return true;
    case FFI_TYPE_STRUCT:
        // larger than two eightbytes: class MEMORY whatever the members
        if (t->size <= 16) return false;
        out = Ret::Memory;
        return true;
    default: return false;
    }
}

template <class T>
T load(const void *p) noexcept {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// An argument as the 64 bits of its register: integers extended as the ABI
// and libffi do, a float in the low half of an SSE register.
uint64_t reg_bits(Arg kind, const void *p) noexcept {
    switch (kind) {
    case Arg::S8: return static_cast<uint64_t>(static_cast<int64_t>(load<int8_t>(p)));
    case Arg::U8: return load<uint8_t>(p);
    case Arg::S16: return static_cast<uint64_t>(static_cast<int64_t>(load<int16_t>(p)));
    case Arg::U16: return load<uint16_t>(p);
    case Arg::S32: return static_cast<uint64_t>(static_cast<int64_t>(load<int32_t>(p)));
    case Arg::U32: return load<uint32_t>(p);
    case Arg::I64: return load<uint64_t>(p);
    case Arg::Float: return load<uint32_t>(p);
    case Arg::Double: return load<uint64_t>(p);
    }
    return 0;
}

double as_double(uint64_t bits) noexcept {
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
}

struct Regs {
    uint64_t i[6];
    double d[8];

    // Element by element: GCC turns `= {}` into `rep stosq`, whose start-up
    // cost showed in the profile of a 0-argument call; these become 7 SSE stores.
    Regs() noexcept {
        for (auto &x : i) x = 0;
        for (auto &x : d) x = 0;
    }
};

// The call itself.  Through a variadic prototype the doubles travel in
// xmm0..xmm7 (unpromoted: they already are doubles) and %al is set.
struct WithRegs {
    void (*fn)();
    const Regs &r;

    template <class R>
    R invoke() const noexcept {
        using F = R (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, ...);
        return reinterpret_cast<F>(fn)(r.i[0], r.i[1], r.i[2], r.i[3], r.i[4], r.i[5], r.d[0], r.d[1],
                                       r.d[2], r.d[3], r.d[4], r.d[5], r.d[6], r.d[7]);
    }
};

// A function without parameters, through a prototype without parameters: no
// register to load.
struct NoArgs {
    void (*fn)();

    template <class R>
    R invoke() const noexcept { return reinterpret_cast<R (*)()>(fn)(); }
};

template <class T>
void store(void *out, T v) noexcept { std::memcpy(out, &v, sizeof v); }

template <class Call>
void run(const DirectSig &sig, const Call &call, void *result) noexcept {
    switch (sig.ret) {
    case Ret::Void: case Ret::Memory: call.template invoke<uint64_t>(); return;
    case Ret::Float: store(result, call.template invoke<float>()); return;
    case Ret::Double: store(result, call.template invoke<double>()); return;
    default: break;
    }
    uint64_t v = call.template invoke<uint64_t>();
    switch (sig.ret) {
    case Ret::S8: store(result, static_cast<int8_t>(v)); return;
    case Ret::U8: store(result, static_cast<uint8_t>(v)); return;
    case Ret::S16: store(result, static_cast<int16_t>(v)); return;
    case Ret::U16: store(result, static_cast<uint16_t>(v)); return;
    case Ret::S32: store(result, static_cast<int32_t>(v)); return;
    case Ret::U32: store(result, static_cast<uint32_t>(v)); return;
    default: store(result, v); return;
    }
}

template <class Call>
void run_errno(const DirectSig &sig, const Call &call, void *result, int flags) noexcept {
    with_errno(flags & CALL_USE_ERRNO, [&] { run(sig, call, result); });
}

// The GIL released around the call as flags say (call_cif's rules).
template <class Call>
int call_with(const DirectSig &sig, const Call &call, void *result, int flags) noexcept {
    if (flags & CALL_RELEASE_GIL) [[likely]] {
        Py_BEGIN_ALLOW_THREADS
        run_errno(sig, call, result, flags);
        Py_END_ALLOW_THREADS
    } else {
        run_errno(sig, call, result, flags);
    }
    if ((flags & CALL_CHECK_PYERR) && PyErr_Occurred()) return -1;
    return 0;
}

}  // namespace

DirectSig direct_sig(ffi_type *rtype, ffi_type *const *atypes, unsigned nargs) noexcept {
    DirectSig sig;
    if (!kSupported || nargs > static_cast<unsigned>(DirectSig::kMaxArgs) || !ret_kind(rtype, sig.ret))
        return sig;
    int nint = sig.ret == Ret::Memory ? 1 : 0, nsse = 0;     // the hidden result pointer first
    for (unsigned i = 0; i < nargs; i++) {
        if (!arg_kind(atypes[i], sig.args[i])) return sig;
        bool sse = sig.args[i] == Arg::Float || sig.args[i] == Arg::Double;
        int &count = sse ? nsse : nint;
        if (count == (sse ? 8 : 6)) return sig;
        sig.reg[i] = static_cast<unsigned char>(count++);
    }
    sig.nargs = static_cast<unsigned char>(nargs);
    sig.usable = true;
    return sig;
}

DirectSig direct_sig(const ffi_cif &cif) noexcept {
    if (cif.abi != FFI_DEFAULT_ABI) return DirectSig{};
    return direct_sig(cif.rtype, cif.arg_types, cif.nargs);
}

int call_direct(const DirectSig &sig, void (*fn)(), void *const *args, void *result, int flags) noexcept {
    Regs r;
    if (sig.ret == Ret::Memory) r.i[0] = reinterpret_cast<uintptr_t>(result);
    for (int i = 0; i < sig.nargs; i++) {
        uint64_t bits = reg_bits(sig.args[i], args[i]);
        if (sig.args[i] == Arg::Float || sig.args[i] == Arg::Double) r.d[sig.reg[i]] = as_double(bits);
        else r.i[sig.reg[i]] = bits;
    }
    return call_with(sig, WithRegs{fn, r}, result, flags);
}

int call_direct_noargs(const DirectSig &sig, void (*fn)(), void *result, int flags) noexcept {
    return call_with(sig, NoArgs{fn}, result, flags);
}

}  // namespace rawffi
