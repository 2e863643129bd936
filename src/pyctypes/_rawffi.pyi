"""pyctypes._rawffi: the native core (C++ over libffi).  This stub is its contract.

Mechanism: raw memory, typed loads and stores, libffi calls and closures,
dlopen, and the executors of the Python level's plans (CallPlan, TypePlan,
Closure plans, the native slots of the families).  The Python level
(pyctypes._ctypes) decides; where a decision depends on a value's type, this
module asks the Python rule and remembers its answer (CallPlan).  It trusts
the addresses it is given (a wild address crashes, as in C) but raises a
Python exception for every malformed Python-level argument or plan (wrong
type, unknown type code, negative size).  docs/ARCHITECTURE.md says which
rules still have a native twin.

Type codes are CPython's (`struct` module letters as ctypes uses them):
    b B h H i I l L q Q   signed/unsigned char, short, int, long, long long
    f d g                 float, double, long double
    ?                     _Bool
    c                     char (value: bytes of length 1; store also takes an int 0..255)
    u                     wchar_t (value: str of length 1)
    z                     char *     (load: bytes up to NUL, or None for NULL;
                                      store: bytes -> pointer to its buffer, int -> address, None -> NULL)
    Z                     wchar_t *  (load: str up to NUL, or None for NULL;
                                      store: str -> pointer to a new NUL-terminated wchar_t buffer
                                      (the returned keep-alive owns it), int -> address, None -> NULL)
    P                     void *     (load: int, or None for NULL; store: int or None)
    O                     PyObject * (load: new reference, ValueError("PyObject is NULL") for NULL;
                                      store: writes the pointer WITHOUT taking a reference and returns
                                      the object as the keep-alive, as CPython's ctypes does)
    v                     void (only as an FFIType / restype)
"""

import enum
from typing import Any, Callable, Optional, Sequence

# ---------------------------------------------------------------- memory
class CData:
    """Base type of every ctypes instance.

    Subclassable from Python, with Python metaclasses.  Holds in native slots:
    the block's address, its size, whether it owns it, the base object it is a
    view into (``_b_base_``), the ``_objects`` keep-alive slot, and b_index /
    b_length.  No instance ``__dict__`` of its own (Python subclasses get one
    unless they declare ``__slots__``, as in CPython).

    ``cls()`` (tp_new) allocates an owned, zeroed block of
    ``cls._rawffi_size_`` bytes (looked up on the type through the MRO; a
    missing attribute raises ``TypeError("abstract class")``), aligned to 16
    (max_align_t and long double).  Blocks of at most 16 bytes live inside the
    object.  tp_new ignores its arguments; ``__init__`` is the Python level's
    (CData.__init__ accepts and ignores any arguments, so a subclass's
    ``super().__init__(*args)`` works).  ``_rawffi_size_`` not an int ->
    TypeError, negative -> ValueError.
    """
    _b_base_: Optional["CData"]      # read-only: the object this is a view into
    _b_needsfree_: int               # read-only: 1 if the block is owned
    _objects: Any                    # read-only view of the keep-alive slot (None if unset)
    _b_objects_: Any                 # read/write: the same slot, for the Python level
    _b_address_: int                 # read-only: address of the block
    _b_size_: int                    # read-only: size of the block in bytes
    _b_index_: int                   # read/write: index in the base's _objects
    _b_length_: int                  # read/write: element count (arrays), free for the Python level

    # Buffer protocol: exported read-write, len = _b_size_.  Format, itemsize
    # and shape come from ``type(self)._rawffi_pep3118_`` = (format: str,
    # itemsize: int, shape: tuple[int, ...]); when missing: ("B", 1, ()).
    # ndim == len(shape).  PyBUF flags are honoured: format only with
    # PyBUF_FORMAT, shape only with PyBUF_ND (else ndim 1 and shape NULL),
    # strides (C order) only with PyBUF_STRIDES.  A malformed spec raises
    # TypeError/ValueError; a shape larger than the block, BufferError.
    # Every live export counts: resize() refuses while one exists.

def at_address(cls: type, address: int) -> CData:
    """An instance of ``cls`` (a CData subclass) viewing ``address``; owns nothing,
    ``_b_base_`` None, size ``cls._rawffi_size_``."""

def new_instance(cls: type) -> CData:
    """A zeroed instance of ``cls`` (a CData subclass) owning its memory, as
    CData's ``__new__`` makes it, whatever ``cls.__new__`` is (pointer types
    have their own); a structure type not yet final goes through the Python
    level's ``__new__`` first, as for CData's."""

def view(cls: type, address: int, base: CData, index: int = 0) -> CData:
    """An instance of ``cls`` viewing ``address`` (inside ``base``'s memory);
    ``_b_base_`` = base (a strong reference), ``_b_index_`` = index."""

def resize(obj: CData, size: int) -> None:
    """Grow or shrink an owned block to ``size`` bytes, new bytes zeroed.
    Policy (minimum size, ownership) is checked by the Python level; this
    raises ValueError("Memory cannot be resized because this object doesn't
    own it") if the block is not owned, and BufferError while a buffer export
    of obj (a memoryview, a from_buffer source) is alive."""

def buffer_address(obj: Any) -> int:
    """Address of the buffer of ``obj`` (any object with the buffer protocol);
    the caller keeps an export alive (e.g. a memoryview) while it uses it.
    The buffer is asked for with PyBUF_FULL_RO and must be C contiguous as
    PyBuffer_IsContiguous says (an empty one always is, strided or not):
    else TypeError("underlying buffer is not C contiguous")."""

# ---------------------------------------------------------------- access
def sizeof_code(code: str) -> int: ...
def alignof_code(code: str) -> int: ...

def load(code: str, address: int, swapped: bool = False) -> Any:
    """Read the C value of type ``code`` at ``address`` (unaligned is fine).
    ``swapped``: byte-swapped forms exist for the integers, f and d (and are
    the identity for the 1-byte codes b B c ?); for g u z Z P O, as in CPython
    3.11 (no c_longdouble.__ctype_be__), ValueError("type code 'g' has no
    byte-swapped form").  Unknown code: ValueError("unknown type code 'x'");
    a non-str code: TypeError."""

def store(code: str, address: int, value: Any, swapped: bool = False) -> Any:
    """Write ``value`` as type ``code`` at ``address``; return the object that must
    be kept alive for the stored value to stay valid (or None).
    Integers wrap silently (any object with __index__; float -> TypeError
    "'float' object cannot be interpreted as an integer", CPython 3.11's text);
    f/d/g take anything float() would take via __float__/__index__ (else
    TypeError "must be real number, not str"; f overflows to +-inf);
    ? takes truthiness.  Other errors use CPython's cfield.c texts (c, u, z, Z,
    P).  A failed store leaves the memory unchanged."""

def load_bits(code: str, address: int, bit_offset: int, bit_width: int,
              swapped: bool = False) -> int:
    """Read a bitfield of an integer type ``code`` (b B h H i I l L q Q ?) whose
    storage unit starts at ``address``; bit_offset counts from the least
    significant bit of the (native-order, or swapped) unit.  Signed codes
    sign-extend; '?' returns a bool.  ValueError unless 1 <= bit_width and
    bit_offset + bit_width <= the unit's bits, or for a non-integer code."""

def store_bits(code: str, address: int, value: int, bit_offset: int, bit_width: int,
               swapped: bool = False) -> None:
    """Write a bitfield; the value is truncated to bit_width bits silently
    ('?' stores the value's truthiness, 0 or 1)."""

def read(address: int, size: int) -> bytes: ...
def write(address: int, data: Any) -> None:
    """Copy the bytes of a buffer-protocol object to ``address``."""
def memmove(dst: int, src: int, size: int) -> None: ...
def memset(dst: int, byte: int, size: int) -> None: ...
def strlen(address: int) -> int: ...
def wcslen(address: int) -> int: ...
def read_wchars(address: int, count: int) -> str:
    """``count`` wchar_t's at address as a str (no NUL handling)."""
def write_wchars(address: int, text: str, count: int) -> None:
    """Write str as wchar_t's at address: at most ``count`` wchar_t's, no NUL
    appended (the Python level decides about terminators)."""
def wchar_count(text: str) -> int:
    """How many wchar_t's ``text`` needs (without terminator)."""

# ---------------------------------------------------------------- ffi types
class FFIType:
    """An ``ffi_type``.  ``size`` and ``alignment`` as libffi computes them.
    Not instantiable: made by for_code() and struct(); compared by identity."""
    size: int
    alignment: int
    kind: int                          # the FFI_TYPE_* number (13 = struct)
    code: Optional[str]                # simple types: the type code; struct types: None
    offsets: Optional[tuple]           # struct types: offset of each element; else None
    elements: Optional[tuple]          # struct types: the element FFITypes; else None
    @staticmethod
    def for_code(code: str) -> "FFIType":
        """The simple ffi_type of a type code (including 'v' void); shared."""
    @staticmethod
    def struct(elements: Sequence["FFIType"], size: int = 0, alignment: int = 0) -> "FFIType":
        """A new FFI_TYPE_STRUCT of these elements (in order; libffi lays them
        out with natural alignment).  Keeps the elements alive; owned and freed
        with this object.  Unions and packed layouts are expressed by the
        Python level as an equivalent element list.  ValueError for an empty
        list (libffi cannot describe empty structs), TypeError for a void or
        non-FFIType element.  With ``size`` and ``alignment`` (given together;
        alignment a power of 2) the type has that size and alignment instead
        of its elements' layout (libffi lays out only structs of size 0): the
        elements then only decide how libffi classifies it."""

# ---------------------------------------------------------------- call
CALL_RELEASE_GIL: int   # release the GIL around the foreign call
CALL_USE_ERRNO: int     # swap the private ctypes errno with C errno around the call
CALL_CHECK_PYERR: int   # after the call, raise if a Python error is set (pythonapi)

class CallInterface:
    """A prepared ``ffi_cif``: ``CallInterface(restype, argtypes, nfixed=-1)``.
    ``nfixed`` >= 0 prepares a variadic cif (ffi_prep_cif_var) with that many
    fixed arguments.  Raises TypeError/ValueError on bad input, and
    RuntimeError naming the libffi status if preparation fails."""
    restype: FFIType
    argtypes: tuple
    nfixed: int                        # -1, or the number of fixed arguments
    def __init__(self, restype: FFIType, argtypes: Sequence[FFIType], nfixed: int = -1) -> None: ...
    def call(self, function: int, args: Sequence[int], result: int, flags: int,
             who: Any = None, pyargs: Optional[tuple] = None) -> None:
        """Call the C function at address ``function``.  ``who`` (the function
        pointer, or its label) and ``pyargs`` (the Python arguments) are what
        the crash report shows if the call dies.  ``args`` holds one
        address per argument, pointing at the argument's value.  The return
        value is written at ``result`` (restype.size bytes; integers narrower
        than ffi_arg are narrowed here, as libffi defines).  ``result`` may be
        0 for a void restype.  ValueError if len(args) != len(argtypes).
        Without CALL_CHECK_PYERR a Python error left set by the C function
        surfaces as SystemError: pass CALL_CHECK_PYERR for pythonapi calls.
        Note libffi rejects variadic arguments that C promotes (float, and
        integers narrower than int): ffi_prep_cif_var fails with
        FFI_BAD_ARGTYPE, so the Python level passes them promoted.  On
        x86-64 SysV a plain (non-variadic) cif also calls variadic functions
        correctly (libffi always sets %al), which is what CPython does there."""

# ---------------------------------------------------------------- callback
class Closure:
    """``Closure(cif, callable, flags=0, plan=None)``: an ffi closure; ``address``
    is the C function pointer.  When C calls it (from any thread; the GIL is
    taken with PyGILState_Ensure):

    - without a plan, ``callable(args, result)`` runs, where ``args`` is the
      address of the ``void *[]`` of argument pointers and ``result`` the
      address where the return value must be written (restype.size bytes,
      zeroed before the call; narrow integer results are widened to ffi_arg
      here).  If callable raises, the exception goes to sys.unraisablehook
      (PyErr_WriteUnraisable) and the result is zero.
    - with a ``plan`` (a ClosurePlan), the closure converts natively and
      calls ``callable(*values)``: each argument as its ClosureArg says.  A
      failed argument calls ``on_error("argument", exc)`` and the callable is
      not called; a raising callable calls ``on_error("call", exc)``.  The
      result: none for a void cif (store_result None); else by
      ``store_result(address, value)``, which stores it (reporting its own
      errors) and answers True when the row of ``result_code`` alone stores
      every value of that exact type: such types are stored natively from
      then on.  Errors in the hooks themselves go to PyErr_WriteUnraisable.
      A failed call leaves a zero result.  While calls are diverted
      (divert_calls), the plan's ``invoke(args, result)`` runs instead, as
      an unplanned closure runs its callable.

    ``flags``: CALL_USE_ERRNO swaps C errno with the private ctypes errno
    around the Python call."""
    address: int
    cif: CallInterface
    callable: Callable[..., Any]
    def __init__(self, cif: CallInterface, callable: Callable[..., Any], flags: int = 0,
                 plan: Optional[tuple] = None) -> None: ...

class ClosureArgKind(enum.IntEnum):
    """How a planned closure makes one argument."""
    LOAD = 0        # the value of the type code at the argument's address
    NEW = 1         # a new instance of the class (CData's tp_new) holding a copy of size bytes
    INSTANCE = 2    # the same made by calling the class (it must give a CData instance)
    READER = 3      # reader(address), the Python level's

class ClosureArg(tuple):
    """``ClosureArg((kind, obj, code, size, swapped))``: obj is the class
    (NEW, INSTANCE) or the reader (READER), code and swapped the type code
    (LOAD), size the bytes copied (NEW, INSTANCE).  Checked when the Closure
    is made."""

class ClosurePlan(tuple):
    """``ClosurePlan((args, result_code, store_result, on_error, invoke))``:
    one ClosureArg per argument of the cif; the type code whose row may store
    results, or None; store_result(address, value), None for void;
    on_error(stage, exc); invoke(args, result), the Python level's executor
    (run while calls are diverted).  Checked when the Closure is made."""

def divert_calls(on: bool) -> bool:
    """While on, function pointers call ``_pycall_`` and closures run their
    plan's ``invoke``: the Python level executes every call (tracing turns
    it on).  Returns the old state."""

def set_thread_end_hook(hook: Optional[Callable[[], Any]]) -> None:
    """hook() runs when a callback called on a thread Python never saw has
    returned, before that thread's Python state ends (an exception in it goes
    to sys.unraisablehook); None: nothing runs."""

# ---------------------------------------------------------------- converted arguments and calls
class CArgObject:
    """``CArgObject(tag, ffi_type, obj=None)``: a converted call argument
    (CPython's PyCArgObject; named CArgObject, module builtins): its value in
    a 16-byte slot at ``_address``, passed as ``_ffi_type`` (not void, at most
    16 bytes), keeping ``_obj`` (read/write) alive.  ``_tag`` is the tag.
    repr is CPython's PyCArg_repr.  Not subclassable; not GC-tracked."""
    _tag: str
    _obj: Any
    _ffi_type: FFIType
    _address: int

def name_carg_type(name: str) -> None:
    """CArgObject's full name, its module included ("_ctypes.CArgObject"; it is
    "CArgObject", module builtins, until named)."""

def byref(obj: CData, offset: int = 0, /) -> CArgObject:
    """A CArgObject 'P' whose value is obj's address plus offset (wrapped to
    pointer width), keeping obj.  TypeError "byref() argument must be a ctypes
    instance, not 'T'" for a non-CData; offset by __index__; no keywords."""

def bind_classes(*, SimpleCData: type, Pointer: type) -> None:
    """The family classes the native ``value`` and ``contents`` descriptors
    check instances against (until bound: SimpleBase, PointerBase)."""

class Pass(enum.IntEnum):
    """What the native call does with one argument value (the Python level's
    rules decide which; conversion.perform does the same in Python)."""
    NULL = 0        # a NULL pointer
    STORE = 1       # the value stored by a type code's row (detail) into the argument's slot
    INT = 2         # an int as ConvParam passes it: its low bits as a C int (refused
                    # outside the long long / unsigned long long ranges)
    MEMORY = 3      # a ctypes instance's memory, by value, as the FFIType in detail
    ADDRESS = 4     # a ctypes instance's address, as a pointer
    CARG = 5        # a CArgObject's value, as its own ffi type

class ArgDecision(tuple):
    """``ArgDecision((how, obj, detail, cacheable[, converted]))``, a struct sequence: how
    one argument is passed, as a rule decided it.  ``how`` a Pass; ``obj``
    the object passed; ``detail`` the type code (STORE) or FFIType (MEMORY);
    ``cacheable``: the same action holds for every value of obj's exact type
    (for CArgObjects: of the same tag and _obj type), and obj is the value the
    rule was asked about.  The call checks a decision before executing it:
    TypeError "malformed ArgDecision: ..." for one that does not fit (STORE
    without a known code, INT of a non-int, MEMORY of a non-instance, of a
    void FFIType or one larger than the instance, ADDRESS of a non-instance,
    CARG of a non-CArgObject, ``converted`` on anything but a STORE or not a
    CArgObject).  ``converted``: None, or a CArgObject in which the rule
    already stored obj (a simple type's setter, which may run the value's
    ``__index__``/``__float__``): it is passed this time, and the STORE
    remembered for the next values."""
    how: Pass
    obj: Any
    detail: Any
    cacheable: bool
    converted: Optional[CArgObject]

def forget_decisions() -> None:
    """Every call site forgets the decisions it remembers (what a rule decided
    from changed: a pointer type's target was set)."""

class ResultKind(enum.IntEnum):
    INT = 0         # no restype: a C int
    VOID = 1        # None
    SIMPLE = 2      # the value of a fundamental simple type (code)
    OBJECT = 3      # py_object: the returned reference is taken over
    INSTANCE = 4    # a new restype instance holding a copy of size bytes
    CALL = 5        # restype(C int result): a plain callable
    PYTHON = 6      # restype(address of the result): a reader the Python level made

class ResultPlan(tuple):
    """``ResultPlan((kind, restype, code, size, checker))``, a struct
    sequence: how a foreign function's result is made (CPython's GetResult),
    then passed to ``checker`` (SIMPLE, OBJECT, INSTANCE) unless None."""
    kind: ResultKind
    restype: Any
    code: Optional[str]
    size: int
    checker: Optional[Callable[[Any], Any]]

class CallPlan:
    """``CallPlan(rules, extra_rule, refuse, result, rtype, cif, flags,
    extra_args)``: how one foreign function is called, as the Python level
    planned it (pyctypes._ctypes.fastpath makes them).

    rules: None (no argtypes) or one callable per argtype,
    ``rule(value, index) -> ArgDecision`` (raising ArgumentError itself);
    extra_rule: the same for arguments past the argtypes (all of them without
    argtypes): ConvParam's rule.  Each argument position keeps a small inline
    cache, exact type -> Pass action, of the cacheable decisions its rule
    made: a value of a remembered type is passed by the remembered action;
    any other value (or one the remembered STORE's row refuses) is decided by
    the rule again.  refuse(nconv, extra_args, nargs, null_function) raises
    the error of a call refused before conversion (argument count, NULL
    function pointer, more than 1024 arguments).  result: a ResultPlan.
    rtype: the result FFIType; cif: the CallInterface of the declared
    argtypes or None; flags: CALL_*; extra_args: more arguments than argtypes
    allowed (cdecl, variadic).  A malformed plan is refused (TypeError or
    ValueError) when it is made.

    The call goes through the declared cif when every argument went as
    declared (else a cif made for the call, variadic past the argtypes), and
    makes the result.  On x86-64 System V, signatures of at most 6
    integer/pointer and 8 float/double arguments with scalar results (or
    structures larger than 16 bytes) are called directly, without libffi."""
    nargs: int                       # number of argtypes, -1 without
    def call(self, address: int, *args: Any) -> Any:
        """Call the C function at address as planned."""

class FuncPtr(CData):
    """Base of function pointer types: a CData whose block holds a C function
    address.  Calling an instance (tp_call, and vectorcall for classes that
    enable_vectorcall accepted) runs ``_fp_plan_``, then ``_fp_errcheck_``
    (``errcheck(result, func, args)``: its value is the result unless it is
    args itself).  Without a plan, or with keyword arguments, the call goes to
    ``type(self)._pycall_(self, *args, **kwargs)``."""
    _fp_plan_: Optional[CallPlan]
    _fp_errcheck_: Optional[Callable[[Any, Any, tuple], Any]]
    _fp_label_: Optional[str]          # "library:name", named by the crash report

# ---------------------------------------------------------------- crash report
def enable_crash_report() -> bool:
    """On SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT inside a foreign call
    (every call records itself, on the caller's stack, while it runs), write
    to stderr the function (its ``_fp_label_``), its arguments as C received
    them, the fault address and where it lies among the Python arguments'
    buffers, and the calls it runs inside through callbacks; then the signal
    goes to the handler installed before (faulthandler's, for the Python
    stacks), or its default action.  Async-signal-safe.  False if on already."""

def disable_crash_report() -> bool:
    """The handlers installed before come back; False if it was off."""

def enable_vectorcall(cls: type) -> bool:
    """Let a FuncPtr subclass take vectorcalls (3.11 does not give heap
    classes the flag); False, nothing changed, if the class has its own
    __call__.  A __call__ assigned later still wins: vectorcalls then go to
    the class's tp_call."""

# ---------------------------------------------------------------- plans and the fast data slots
class TypeKind(enum.IntEnum):
    SIMPLE = 0            # values convert to Python objects
    SIMPLE_SUBCLASS = 1   # read back as instances
    STRUCT = 2
    UNION = 3
    ARRAY = 4
    POINTER = 5
    FUNCPTR = 6
    OTHER = 7

class TypePlan:
    """``TypePlan(type, kind, size, align, length, flags, *, code=None,
    swapped=False, item=None, itemsize=0, init=None, final=False)``: the
    native plan of a ctypes type, made by the Python level from its StgInfo
    (basics.update_native_plan) and stored on the class as ``_rawffi_plan_``,
    which the fast slots find through the MRO (stginfo()'s rule).  Immutable
    but for ``retire()``.  Instances keep the plan their type had when they
    were made and use it while it is current.

    kind: a TypeKind (a malformed one: ValueError).  code: a simple type's type code ('v' has no native
    row: its values go through Python).  item: array item / pointer target
    type (a CData subclass, or None).  itemsize: array item size.  init:
    struct/union field names __init__ fills positionally.  final: the
    struct/union type was final (instances may be made natively).
    ``type`` must be a CData subclass."""
    kind: TypeKind
    code: Optional[str]
    type: type
    item: Optional[type]
    size: int
    align: int
    length: int
    itemsize: int
    swapped: bool
    final: bool
    retired: bool
    def retire(self) -> None:
        """The type has a newer plan: instances made with this one look it up."""
    # Making a plan of a simple, struct/union (final), array or pointer (with a
    # target) type also makes calling the type a vectorcall (its tp_vectorcall;
    # its metaclass, a CDataType, gets the vectorcall flag): tp_new and tp_init
    # run without an argument tuple while they are the family's native slots.

class SimpleBase(CData):
    """Native slots of simple types: ``value`` (get/set through the code's
    row, keep-alive at index 0; a native descriptor checked as a getset
    descriptor of the bound _SimpleCData) and ``__init__`` (at most one value)."""
class ArrayBase(CData):
    """Native slots of arrays: int items (get, set, negative indices,
    IndexError "invalid index"), ``__init__`` (item i = args[i]) and
    ``__iter__`` (a native iterator; a subclass with its own item access is
    iterated through it)."""
class PointerBase(CData):
    """Native slots of pointers: int items, ``contents`` (get/set, keep-alives
    "1" and "0"; a native descriptor checked as a getset descriptor of the
    bound _Pointer), ``__init__``."""
class StructBase(CData):
    """Native ``__init__`` of structures and unions: positional values into
    the fields named by the plan's init (setattr's rules, straight into native
    fields); keyword arguments go to the Python method."""
class Field:
    """Native base of structure fields (CField).  ``plan(proto, offset, size,
    index)`` makes ``__get__``/``__set__`` read and write the field natively
    through proto's plan (Python values of simple types, views into the
    instance, instances of proto copied); an unplanned field, a value the
    plan does not cover, and ``__delete__`` go to the Python methods."""
    def plan(self, proto: type, offset: int, size: int, index: int) -> None: ...
class CDataType(type):
    """Native base of the ctypes metaclasses: ``T * n`` and ``n * T`` return
    the array type the cache given to set_array_cache holds alive for
    (T, n) with n an exact int >= 0; otherwise the Python __mul__/__rmul__."""

def set_array_cache(cache: dict) -> None:
    """The Python level's dict (itemtype, length) -> weakref(array type)."""

def set_fallback(native_type: type, name: str, method: Any) -> None:
    """The Python method (or property) the native slot `name` of native_type
    calls for what it does not do itself; the slot raises SystemError when it
    needs one that was not given.  Names: SimpleBase __init__/value, ArrayBase
    __init__/__getitem__/__setitem__/__delitem__, PointerBase __init__/
    __getitem__/__setitem__/__delitem__/contents, StructBase __new__/__init__,
    Field __get__/__set__/__delete__, CDataType __mul__/__rmul__.  A native
    slot hands over before it has changed anything, with the same arguments."""

def bind_new(cls: type, native: type) -> None:
    """cls.__new__ becomes native's (found through its MRO) and so does cls's
    tp_new slot, which cls's subclasses then inherit (assigning __new__ from
    Python would leave the slot as it was).  CData's __new__ sends a
    structure or union type that is not final (or has no plan of its own) to
    the StructBase __new__ fallback, which makes it final and comes back."""

def own_new(cls: type, c_name: str) -> None:
    """cls's tp_name becomes c_name (the name of CPython's static type,
    "_ctypes.Structure", which the texts show; __name__ and __qualname__ do
    not change).  If cls's __new__ is a C type's, it becomes the __new__
    wrapper of C types bound to cls itself: cls.__new__(T) refuses a T that is
    not a subtype of cls with CPython's TypeError texts, then calls cls's
    tp_new slot (the slots of cls and its subclasses stay as they were).  A
    Python __new__ of cls's own is left alone: it checks T itself."""

def rebind(descr: Any, cls: type) -> Any:
    """The getset descriptor descr of a native base, made for cls (a subclass
    of its class): its type check then stops at cls."""

# ---------------------------------------------------------------- library
libffi_build_version: str   # the libffi version pkg-config reported at build time ("unknown" without it)

RTLD_LOCAL: int
RTLD_GLOBAL: int
RTLD_NOW: int
RTLD_LAZY: int
def dlopen(name: Optional[str], mode: int) -> int:
    """Handle of the library (None: the process); OSError(dlerror text)."""
def dlsym(handle: int, name: str) -> int:
    """Address of the symbol; OSError(dlerror text) when missing."""
def dladdr(address: int) -> Optional[tuple]:
    """(path of the loaded object holding address, name of the symbol that
    starts exactly there or None), or None if no loaded object holds it."""

def dlclose(handle: int) -> None:
    """OSError(dlerror text) on failure."""

# ---------------------------------------------------------------- helpers
def get_errno() -> int: ...
def set_errno(value: int) -> int:
    """Set ctypes' private (thread-local) errno; return the old value."""
memmove_addr: int      # address of C memmove
memset_addr: int       # address of C memset
checked_memmove_addr: int  # void *memmove(dst, src, size), called with the GIL held: ValueError for NULL, size > 0
checked_memset_addr: int   # void *memset(dst, byte, size), likewise
def sequence_length(obj: Any) -> int:
    """PySequence_Size(obj): TypeError for an object without a sequence length (a dict)."""
string_at_addr: int    # PyObject *string_at(const char *p, int size): bytes; size -1 = strlen
wstring_at_addr: int   # PyObject *wstring_at(const wchar_t *p, int size): str; size -1 = wcslen
cast_addr: int         # PyObject *cast(void *p, PyObject *src, PyObject *ctype): calls the cast hook
def set_cast_hook(hook: Optional[Callable[[int, Any, type], Any]]) -> None:
    """``hook(address, src, ctype)`` implements ctypes.cast; called (GIL held)
    by the C function at cast_addr (RuntimeError from it while no hook is set;
    None unsets)."""
def Py_INCREF(obj: Any) -> Any: ...
def Py_DECREF(obj: Any) -> Any: ...
def PyObj_FromPtr(address: int) -> Any: ...
def seal(cls: type, disallow_instantiation: bool) -> None:
    """cls's attributes can no longer be set or deleted (Py_TPFLAGS_IMMUTABLETYPE,
    as CPython's C types); with disallow_instantiation, the flag saying so too
    (cls's own __new__ refuses).  Not inherited by subclasses."""

def take_object(address: int) -> Any:
    """Read a PyObject* at address and return it, taking over (stealing) the
    reference it holds (a py_object result of a foreign function).
    ValueError("PyObject is NULL") for NULL."""
