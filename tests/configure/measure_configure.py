"""Measure configure() on a 50-item config over system headers (5 of them Has
items, 2 answering False): compiler runs and wall time, cold and warm.

    python tests/configure/measure_configure.py [--repeat N]

Also times the alternative the probe does not take (link the same probe into
a program and run it, as ctypes-configure 0.1 did) on the identical source.
"""

import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "src"))

from pyctypes import configure                       # noqa: E402
from pyctypes.configure import compiler as cc        # noqa: E402
from pyctypes.configure import core                  # noqa: E402
from pyctypes.configure.probe import Probe           # noqa: E402

I = ctypes.c_int


def fifty_item_config():
    class CConfig:
        _compilation_info_ = configure.ExternalCompilationInfo(includes=[
            "sys/types.h", "sys/stat.h", "sys/time.h", "time.h", "fcntl.h", "signal.h",
            "termios.h", "dirent.h", "sys/socket.h", "netinet/in.h", "sys/resource.h",
            "sys/utsname.h", "pwd.h", "stdio.h", "errno.h", "limits.h", "unistd.h"])
        # 14 structs
        stat = configure.Struct("struct stat", [("st_size", I), ("st_mode", I), ("st_ino", I)])
        tm = configure.Struct("struct tm", [("tm_sec", I), ("tm_zone", ctypes.c_char_p)])
        timeval = configure.Struct("struct timeval", [("tv_sec", I), ("tv_usec", I)])
        timespec = configure.Struct("struct timespec", [("tv_sec", I), ("tv_nsec", I)])
        sockaddr_in = configure.Struct("struct sockaddr_in", [("sin_port", I), ("sin_addr", I)])
        sockaddr_in6 = configure.Struct("struct sockaddr_in6", [("sin6_port", I)])
        sockaddr = configure.Struct("struct sockaddr", [("sa_family", I)])
        msghdr = configure.Struct("struct msghdr", [("msg_iovlen", I), ("msg_flags", I)])
        flock = configure.Struct("struct flock", [("l_type", I), ("l_start", I)])
        termios = configure.Struct("struct termios", [("c_cc", ctypes.c_ubyte * 0)])
        dirent = configure.Struct("struct dirent", [("d_name", ctypes.c_char * 0)])
        rusage = configure.Struct("struct rusage", [("ru_maxrss", I)])
        utsname = configure.Struct("struct utsname", [("machine", ctypes.c_char * 0)])
        passwd = configure.Struct("struct passwd", [("pw_uid", I), ("pw_dir", ctypes.c_char_p)])
        # 14 constants
        O_RDONLY = configure.ConstantInteger("O_RDONLY")
        O_CREAT = configure.ConstantInteger("O_CREAT")
        O_NONBLOCK = configure.ConstantInteger("O_NONBLOCK")
        SIGINT = configure.ConstantInteger("SIGINT")
        SA_RESTART = configure.ConstantInteger("SA_RESTART")
        TCSANOW = configure.ConstantInteger("TCSANOW")
        AF_INET = configure.ConstantInteger("AF_INET")
        SOCK_STREAM = configure.ConstantInteger("SOCK_STREAM")
        INADDR_LOOPBACK = configure.ConstantInteger("INADDR_LOOPBACK")
        EOF = configure.ConstantInteger("EOF")
        EINTR = configure.ConstantInteger("EINTR")
        INT_MIN = configure.ConstantInteger("INT_MIN")
        PATH_MAX = configure.ConstantInteger("PATH_MAX")
        SEEK_END = configure.ConstantInteger("SEEK_END")
        # 10 simple types
        size_t = configure.SimpleType("size_t")
        ssize_t = configure.SimpleType("ssize_t")
        off_t = configure.SimpleType("off_t")
        pid_t = configure.SimpleType("pid_t")
        uid_t = configure.SimpleType("uid_t")
        mode_t = configure.SimpleType("mode_t")
        time_t = configure.SimpleType("time_t")
        socklen_t = configure.SimpleType("socklen_t")
        speed_t = configure.SimpleType("speed_t")
        dev_t = configure.SimpleType("dev_t")
        # 4 Defined, 3 DefinedConstantInteger
        d_cloexec = configure.Defined("O_CLOEXEC")
        d_path = configure.Defined("O_PATH")
        d_none = configure.Defined("NOT_DEFINED_ANYWHERE")
        d_eof = configure.Defined("EOF")
        dc_bufsiz = configure.DefinedConstantInteger("BUFSIZ")
        dc_none = configure.DefinedConstantInteger("NO_SUCH_MACRO")
        dc_nccs = configure.DefinedConstantInteger("NCCS")
        # 5 Has (2 answer False)
        has_stat = configure.Has("stat")
        has_pipe = configure.Has("pipe")
        has_uname = configure.Has("uname")
        has_nothing = configure.Has("no_such_function_xyz")
        has_nothing2 = configure.Has("also_not_there")
    entries = core.config_entries(CConfig)
    assert len(entries) == 50, len(entries)
    return CConfig


def measure(repeat: int):
    cfg = fifty_item_config()
    cold, warm = [], []
    cold_runs, warm_runs = set(), set()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            cache_dir = os.path.join(tmp, f"cache{i}")
            before = cc.stats["compiler_runs"]
            t0 = time.perf_counter()
            res = configure.configure(cfg, cache=cache_dir)
            cold.append(time.perf_counter() - t0)
            cold_runs.add(cc.stats["compiler_runs"] - before)
            before = cc.stats["compiler_runs"]
            t0 = time.perf_counter()
            configure.configure(cfg, cache=cache_dir)
            warm.append(time.perf_counter() - t0)
            warm_runs.add(cc.stats["compiler_runs"] - before)
    assert res["has_stat"] and not res["has_nothing"]
    return cold, warm, cold_runs, warm_runs


def alternative(repeat: int):
    """The same probe compiled to an object (what configure does) versus
    linked into a program and run."""
    cfg = fifty_item_config()
    entries = [e for e in core.config_entries(cfg) if not isinstance(e[1], configure.Has)]
    probe = Probe(core.compilation_info(cfg), entries, cc.find_compiler())
    regions = probe.regions(entries)
    src = probe.source(entries, regions, executable=True)
    argv = list(probe.compiler.argv) + list(cc.BASE_FLAGS)
    obj, exe = [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "probe.c")
        with open(path, "w") as f:
            f.write(src)
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run(argv + ["-c", path, "-o", os.path.join(tmp, "p.o")], check=True)
            obj.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            subprocess.run(argv + [path, "-o", os.path.join(tmp, "p")], check=True)
            subprocess.run([os.path.join(tmp, "p")], check=True, stdout=subprocess.DEVNULL)
            exe.append(time.perf_counter() - t0)
    return obj, exe


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cold, warm, cold_runs, warm_runs = measure(args.repeat)
    obj, exe = alternative(args.repeat)
    ms = lambda xs: f"{1000 * statistics.median(xs):.0f} ms"    # noqa: E731
    print(f"50 items (14 Struct, 14 ConstantInteger, 10 SimpleType, 4 Defined, "
          f"3 DefinedConstantInteger, 5 Has of which 2 False); median of {args.repeat}")
    print(f"  cold: {sorted(cold_runs)} compiler run(s), {ms(cold)}")
    print(f"  warm: {sorted(warm_runs)} compiler run(s), {ms(warm)}")
    print(f"  ctypes-configure 0.1's scheme would run the compiler {1 + 5} times "
          f"(one executable for all non-Has items, one per Has)")
    print(f"  the 45-item probe alone: compile to object {ms(obj)}; "
          f"link to a program and run it {ms(exe)}")


if __name__ == "__main__":
    main()
