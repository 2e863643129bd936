"""Answers over real system headers, each compared with C compiled on the spot."""

import ctypes
import errno
import os
import signal
import socket

import pytest

from pyctypes import configure
from pyctypes.configure import ExternalCompilationInfo

I = ctypes.c_int        # a deliberately poor hint: configure must fix it

# (includes, C type, {field: ("int" | "other", hint)})
STRUCTS = {
    "stat": (["sys/stat.h"], "struct stat", {
        "st_dev": ("int", I), "st_ino": ("int", I), "st_nlink": ("int", I),
        "st_mode": ("int", I), "st_uid": ("int", I), "st_gid": ("int", I),
        "st_rdev": ("int", I), "st_size": ("int", I), "st_blksize": ("int", I),
        "st_blocks": ("int", I), "st_atim": ("other", I), "st_mtim": ("other", I)}),
    "tm": (["time.h"], "struct tm", {
        **{f: ("int", ctypes.c_long) for f in ("tm_sec", "tm_min", "tm_hour", "tm_mday",
                                                "tm_mon", "tm_year", "tm_wday", "tm_yday",
                                                "tm_isdst", "tm_gmtoff")},
        "tm_zone": ("other", ctypes.c_char_p)}),
    "timespec": (["time.h"], "struct timespec", {"tv_sec": ("int", I), "tv_nsec": ("int", I)}),
    "timeval": (["sys/time.h"], "struct timeval", {"tv_sec": ("int", I), "tv_usec": ("int", I)}),
    "sockaddr_in": (["netinet/in.h"], "struct sockaddr_in", {
        "sin_family": ("int", I), "sin_port": ("int", I), "sin_addr": ("other", I),
        "sin_zero": ("other", ctypes.c_char * 0)}),
    "sockaddr_in6": (["netinet/in.h"], "struct sockaddr_in6", {
        "sin6_family": ("int", I), "sin6_port": ("int", I), "sin6_flowinfo": ("int", I),
        "sin6_addr": ("other", I), "sin6_scope_id": ("int", I)}),
    "sockaddr": (["sys/socket.h"], "struct sockaddr", {
        "sa_family": ("int", I), "sa_data": ("other", ctypes.c_char * 0)}),
    "msghdr": (["sys/socket.h"], "struct msghdr", {
        "msg_name": ("other", ctypes.c_void_p), "msg_namelen": ("int", I),
        "msg_iov": ("other", ctypes.c_void_p), "msg_iovlen": ("int", I),
        "msg_control": ("other", ctypes.c_void_p), "msg_controllen": ("int", I),
        "msg_flags": ("int", I)}),
    "flock": (["fcntl.h"], "struct flock", {
        "l_type": ("int", I), "l_whence": ("int", I), "l_start": ("int", I),
        "l_len": ("int", I), "l_pid": ("int", I)}),
    "sigaction": (["signal.h"], "struct sigaction", {
        "sa_handler": ("other", ctypes.c_void_p), "sa_mask": ("other", I),
        "sa_flags": ("int", I)}),
    "termios": (["termios.h"], "struct termios", {
        "c_iflag": ("int", I), "c_oflag": ("int", I), "c_cflag": ("int", I),
        "c_lflag": ("int", I), "c_line": ("int", I), "c_cc": ("other", ctypes.c_ubyte * 0),
        "c_ispeed": ("int", I), "c_ospeed": ("int", I)}),
    "dirent": (["dirent.h"], "struct dirent", {
        "d_ino": ("int", I), "d_off": ("int", I), "d_reclen": ("int", I),
        "d_type": ("int", I), "d_name": ("other", ctypes.c_char * 0)}),
    "rusage": (["sys/resource.h"], "struct rusage", {
        "ru_utime": ("other", I), "ru_maxrss": ("int", I), "ru_nvcsw": ("int", I)}),
    "utsname": (["sys/utsname.h"], "struct utsname", {
        "sysname": ("other", ctypes.c_char * 0), "machine": ("other", ctypes.c_char * 0)}),
    "passwd": (["pwd.h"], "struct passwd", {
        "pw_name": ("other", ctypes.c_char_p), "pw_uid": ("int", I), "pw_gid": ("int", I),
        "pw_dir": ("other", ctypes.c_char_p)}),
    "statvfs": (["sys/statvfs.h"], "struct statvfs", {
        "f_bsize": ("int", I), "f_blocks": ("int", I), "f_fsid": ("int", I),
        "f_namemax": ("int", I)}),
}

CONSTANTS = {
    "fcntl.h": ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_CREAT", "O_NONBLOCK", "O_CLOEXEC",
                "F_GETFL", "F_SETLK", "AT_FDCWD"],
    "signal.h": ["SIGINT", "SIGKILL", "SIGTERM", "SIG_BLOCK", "SA_RESTART", "SA_SIGINFO"],
    "termios.h": ["TCSANOW", "B9600", "ECHO", "ICANON", "VMIN", "VTIME", "NCCS"],
    "sys/socket.h": ["AF_INET", "AF_INET6", "AF_UNIX", "SOCK_STREAM", "SOCK_DGRAM",
                     "SOL_SOCKET", "SO_REUSEADDR", "MSG_PEEK"],
    "netinet/in.h": ["IPPROTO_TCP", "IPPROTO_UDP", "INADDR_ANY", "INADDR_LOOPBACK",
                     "INADDR_NONE"],
    "stdio.h": ["EOF", "BUFSIZ", "SEEK_SET", "SEEK_END", "FILENAME_MAX"],
    "errno.h": ["EINTR", "EAGAIN", "ENOENT", "EWOULDBLOCK"],
    "limits.h": ["INT_MIN", "INT_MAX", "LONG_MIN", "ULONG_MAX", "LLONG_MIN", "ULLONG_MAX",
                 "CHAR_MIN", "PATH_MAX"],
    "stdint.h": ["INT64_MIN", "UINT64_MAX", "SIZE_MAX", "INT8_MIN", "UINTPTR_MAX"],
    "sys/stat.h": ["S_IFMT", "S_IFDIR", "S_IRWXU", "S_IXOTH"],
    "dirent.h": ["DT_DIR", "DT_REG"],
    "sys/time.h": ["ITIMER_REAL"],
}

TYPES = {
    "stdint.h": ["int8_t", "uint8_t", "int16_t", "uint16_t", "int32_t", "uint32_t",
                 "int64_t", "uint64_t", "intptr_t", "uintptr_t", "intmax_t"],
    "sys/types.h": ["size_t", "ssize_t", "off_t", "pid_t", "uid_t", "gid_t", "mode_t",
                    "dev_t", "ino_t", "nlink_t", "blksize_t", "blkcnt_t"],
    "time.h": ["time_t", "clock_t", "clockid_t"],
    "sys/socket.h": ["socklen_t", "sa_family_t"],
    "netinet/in.h": ["in_port_t", "in_addr_t"],
    "termios.h": ["speed_t", "tcflag_t", "cc_t"],
    "signal.h": ["sig_atomic_t"],
    "stddef.h": ["wchar_t", "ptrdiff_t"],
}


def _prelude(includes):
    return "\n".join(f"#include <{h}>" for h in includes)


@pytest.fixture(scope="module")
def struct_answers():
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(
            pre_include_lines=["#define _GNU_SOURCE 1"],
            includes=sorted({h for inc, _, _ in STRUCTS.values() for h in inc}))
    for key, (_inc, cname, fields) in STRUCTS.items():
        setattr(CConfig, key, configure.Struct(cname, [(f, hint) for f, (_, hint)
                                                       in fields.items()]))
    return configure.configure(CConfig)


@pytest.mark.parametrize("key", sorted(STRUCTS))
def test_struct_against_c(key, struct_answers, cprog):
    includes, cname, fields = STRUCTS[key]
    cls = struct_answers[key]
    truth = cprog.layout("#define _GNU_SOURCE 1\n" + _prelude(includes), cname,
                         {f: kind for f, (kind, _) in fields.items()})
    assert ctypes.sizeof(cls) == truth["size"]
    assert ctypes.alignment(cls) == truth["align"]
    for name, (kind, _hint) in fields.items():
        c = truth["fields"][name]
        tp = dict(cls._fields_).get(name) or getattr(cls, name)
        assert getattr(cls, name).offset == c["offset"], name
        assert getattr(cls, name).size == c["size"], name
        if kind == "int":
            assert (tp(-1).value < 0) == bool(c["signed"]), name


def test_struct_details(struct_answers):
    fields = dict(struct_answers["sockaddr_in"]._fields_)
    assert fields["sin_zero"] is ctypes.c_char * 8
    assert fields["sin_port"] is ctypes.c_ushort
    tm = dict(struct_answers["tm"]._fields_)
    assert tm["tm_sec"] is ctypes.c_int
    assert tm["tm_zone"] is ctypes.c_char_p            # a pointer hint that fits is kept
    assert dict(struct_answers["termios"]._fields_)["c_cc"]._type_ is ctypes.c_ubyte
    assert dict(struct_answers["msghdr"]._fields_)["msg_name"] is ctypes.c_void_p


@pytest.fixture(scope="module")
def constant_answers():
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(includes=sorted(CONSTANTS))
    for names in CONSTANTS.values():
        for name in names:
            setattr(CConfig, name, configure.ConstantInteger(name))
    return configure.configure(CConfig)


@pytest.mark.parametrize("header", sorted(CONSTANTS))
def test_constants_against_c(header, constant_answers, cprog):
    truth = cprog.values(_prelude(sorted(CONSTANTS)), {n: n for n in CONSTANTS[header]})
    for name in CONSTANTS[header]:
        assert constant_answers[name] == truth[name], name


def test_constants_agree_with_python(constant_answers):
    assert constant_answers["O_CREAT"] == os.O_CREAT
    assert constant_answers["SIGINT"] == signal.SIGINT
    assert constant_answers["AF_INET6"] == socket.AF_INET6
    assert constant_answers["EWOULDBLOCK"] == errno.EWOULDBLOCK
    assert constant_answers["INT_MIN"] == -2 ** 31
    assert constant_answers["ULLONG_MAX"] == 2 ** 64 - 1
    assert constant_answers["INADDR_NONE"] == 0xFFFFFFFF


@pytest.mark.parametrize("header", sorted(TYPES))
def test_simple_types_against_c(header, cprog):
    names = TYPES[header]

    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(includes=[header])
    for name in names:
        setattr(CConfig, name, configure.SimpleType(name, ctypes.c_int))
    answers = configure.configure(CConfig)
    exprs = {}
    for name in names:
        exprs[f"{name}.size"] = f"sizeof({name})"
        exprs[f"{name}.signed"] = f"(({name})-1 < 0)"
    truth = cprog.values(_prelude([header]), exprs)
    for name in names:
        tp = answers[name]
        assert ctypes.sizeof(tp) == truth[f"{name}.size"], name
        assert (tp(-1).value < 0) == bool(truth[f"{name}.signed"]), name


def test_defined_and_has_against_c(cprog):
    macros = ["O_CLOEXEC", "O_PATH", "SIGRTMIN", "NOT_A_MACRO_AT_ALL", "EOF", "_GNU_SOURCE"]

    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(includes=["fcntl.h", "signal.h",
                                                               "stdio.h", "sys/stat.h"])
        has_stat = configure.Has("stat")
        has_fopen = configure.Has("fopen")
        has_nothing = configure.Has("no_such_function_xyz")
        has_sigset = configure.Has("sigset_t")     # `sigset_t;` compiles: a type name
    for m in macros:
        setattr(CConfig, "def_" + m, configure.Defined(m))
    res = configure.configure(CConfig)
    body = "\n".join(f'#ifdef {m}\nprintf("{m} 1\\n");\n#else\nprintf("{m} 0\\n");\n#endif'
                     for m in macros)
    truth = cprog.run(_prelude(["fcntl.h", "signal.h", "stdio.h", "sys/stat.h"]), body)
    for m in macros:
        assert res["def_" + m] == bool(truth[m]), m
    assert res["has_stat"] is True and res["has_fopen"] is True
    assert res["has_nothing"] is False
    assert res["has_sigset"] is True


def test_configured_stat_calls_stat(tmp_path):
    """The configured struct stat used for a real stat() call through ctypes."""
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(includes=["sys/stat.h", "time.h"])
        timespec = configure.Struct("struct timespec", [("tv_sec", I), ("tv_nsec", I)])
        stat = configure.Struct("struct stat", [
            ("st_dev", I), ("st_ino", I), ("st_mode", I), ("st_nlink", I), ("st_uid", I),
            ("st_gid", I), ("st_size", I), ("st_mtim", timespec)])

    res = configure.configure(CConfig)
    st_type = res["stat"]
    path = tmp_path / "some file"
    path.write_bytes(b"x" * 12345)
    libc = ctypes.CDLL(None, use_errno=True)
    func = getattr(libc, "stat", None)
    assert func is not None, "libc exports no stat() (glibc < 2.33)"
    func.argtypes = [ctypes.c_char_p, ctypes.POINTER(st_type)]
    func.restype = ctypes.c_int
    st = st_type()
    assert func(os.fsencode(path), ctypes.byref(st)) == 0, ctypes.get_errno()
    ref = os.stat(path)
    assert st.st_size == ref.st_size == 12345
    assert st.st_mode == ref.st_mode
    assert st.st_ino == ref.st_ino
    assert st.st_dev == ref.st_dev
    assert st.st_nlink == ref.st_nlink
    assert st.st_uid == ref.st_uid and st.st_gid == ref.st_gid
    assert st.st_mtim.tv_sec == int(ref.st_mtime)
    assert st.st_mtim.tv_sec * 10 ** 9 + st.st_mtim.tv_nsec == ref.st_mtime_ns
    assert isinstance(st.st_mtim, res["timespec"])


def test_flexible_array_member(cprog):
    """`char name[];` (here struct inotify_event) is found on a second compile
    and becomes a zero-length array at its offset."""
    from pyctypes.configure.layout import check_layout
    ev = configure.getstruct("struct inotify_event", "#include <sys/inotify.h>",
                             [("wd", I), ("len", I), ("name", ctypes.c_char * 0)])
    truth = cprog.values("#include <sys/inotify.h>", {
        "size": "sizeof(struct inotify_event)",
        "name": "offsetof(struct inotify_event, name)",
        "len": "offsetof(struct inotify_event, len)"})
    assert ctypes.sizeof(ev) == truth["size"]
    assert ev.name.offset == truth["name"] and ev.len.offset == truth["len"]
    assert dict(ev._fields_)["name"] is ctypes.c_char * 0
    assert dict(ev._fields_)["len"] is ctypes.c_uint32

    class mine(ctypes.Structure):
        _fields_ = [("wd", ctypes.c_int), ("mask", ctypes.c_uint32),
                    ("cookie", ctypes.c_uint32), ("len", ctypes.c_uint32),
                    ("name", ctypes.c_char * 0)]
    eci = ExternalCompilationInfo(includes=["sys/inotify.h"])
    assert check_layout(mine, "struct inotify_event", eci).ok

    class wrong(ctypes.Structure):
        _fields_ = mine._fields_[:-1] + [("name", ctypes.c_char * 16)]
    report = check_layout(wrong, "struct inotify_event", eci)
    assert {(m.field, m.what) for m in report.mismatches} == {
        (None, "size"), ("name", "size"), ("name", "array length")}
