// directcall.h: calling C functions of small scalar signatures without libffi
// (x86-64 System V only; elsewhere no signature qualifies and libffi is used).
#pragma once
#include "refs.h"
#include <ffi.h>

#include <cstdint>

namespace rawffi {

// How each argument reaches its register, and how the result comes back.
struct DirectSig {
    static constexpr int kMaxArgs = 14;     // 6 integer registers + 8 SSE registers

    enum class Arg : unsigned char { S8, U8, S16, U16, S32, U32, I64, Float, Double };
    // Memory: a structure of more than 16 bytes, written by the callee at the
    // address passed as a hidden first integer argument.
    enum class Ret : unsigned char { Void, S8, U8, S16, U16, S32, U32, I64, Float, Double, Memory };

    bool usable = false;
    unsigned char nargs = 0;
    Arg args[kMaxArgs];
    unsigned char reg[kMaxArgs];            // register index within its class
    Ret ret = Ret::Void;
};

// The direct signature of a prepared (non-variadic) cif, if it has one: at most
// six integer or pointer arguments (five with a Memory result) and eight float
// or double arguments; a void, integer, pointer, float or double result, or a
// structure of more than 16 bytes (returned in memory).
DirectSig direct_sig(const ffi_cif &cif) noexcept;

// The same from an argument type list and result type (no cif needed).
DirectSig direct_sig(ffi_type *rtype, ffi_type *const *atypes, unsigned nargs) noexcept;

// Call fn as sig says with the argument values at args[i]; the result, at its
// C type's size, is written to result (nothing for void).  The GIL and errno
// are handled as call_cif does (CALL_* flags).  Returns 0, or -1 with a Python
// error set (only with CALL_CHECK_PYERR).
int call_direct(const DirectSig &sig, void (*fn)(), void *const *args, void *result, int flags) noexcept;

// The same for a signature without arguments and whose result is not Memory
// (fn is called through a prototype without parameters).
int call_direct_noargs(const DirectSig &sig, void (*fn)(), void *result, int flags) noexcept;

}  // namespace rawffi
