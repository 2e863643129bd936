"""The cache: the second run of a program compiles nothing; any change to the
compiler, its flags or a header it read makes it compile again."""

import ctypes
import time

import pytest

from pyctypes import configure
from pyctypes.configure import ExternalCompilationInfo
from pyctypes.configure import core


def make_config(header_dir):
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(
            includes=["stdio.h", "sys/stat.h", "mine.h"], include_dirs=[str(header_dir)])
        stat = configure.Struct("struct stat", [("st_size", ctypes.c_int)])
        mine = configure.Struct("struct mine", [("a", ctypes.c_int), ("b", ctypes.c_int)])
        VALUE = configure.ConstantInteger("MINE_VALUE")
        has_printf = configure.Has("printf")
        has_nothing = configure.Has("nothing_like_this")
    return CConfig


@pytest.fixture
def header_dir(tmp_path):
    d = tmp_path / "include"
    d.mkdir()
    (d / "mine.h").write_text("#define MINE_VALUE 7\nstruct mine { char a; int b; };\n")
    return d


def test_cold_then_warm(header_dir, counting_cc):
    cfg = make_config(header_dir)
    first = configure.configure(cfg)
    assert counting_cc() == 1
    assert core.last_run["cached"] is False
    second = configure.configure(cfg)
    assert counting_cc() == 1                    # the warm run starts no compiler
    assert core.last_run["cached"] is True
    assert second["VALUE"] == first["VALUE"] == 7
    assert (second["has_printf"], second["has_nothing"]) == (True, False)
    for key in ("stat", "mine"):
        assert ctypes.sizeof(second[key]) == ctypes.sizeof(first[key])
        assert [f[:1] for f in second[key]._fields_] == [f[:1] for f in first[key]._fields_]
    assert second["mine"].b.offset == 4


def test_header_change_invalidates(header_dir, counting_cc):
    cfg = make_config(header_dir)
    assert configure.configure(cfg)["mine"].b.offset == 4
    configure.configure(cfg)
    assert counting_cc() == 1
    (header_dir / "mine.h").write_text(
        "#define MINE_VALUE 8\nstruct mine { char a; long long b; };\n")
    res = configure.configure(cfg)
    assert counting_cc() == 2
    assert res["VALUE"] == 8 and res["mine"].b.offset == 8


def test_flags_are_part_of_the_key(header_dir, counting_cc):
    cfg = make_config(header_dir)
    configure.configure(cfg)
    res = configure.configure(cfg, cflags="-DMINE_EXTRA=1")
    assert counting_cc() == 2
    assert res["VALUE"] == 7


def test_failures_are_cached_too(header_dir, counting_cc):
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(includes=["stdio.h"])
        good = configure.ConstantInteger("EOF")
        bad = configure.ConstantInteger("NOT_DECLARED_ANYWHERE")
    for _ in range(2):
        res = configure.configure(CConfig, errors="return")
        assert res["good"] == -1
        assert isinstance(res["bad"], configure.NameNotFound)
        assert "NOT_DECLARED_ANYWHERE" in str(res["bad"])
    assert counting_cc() == 2            # cold: 2 runs (isolation); warm: none


def test_missing_header_is_not_cached(tmp_path, counting_cc):
    class CConfig:
        _compilation_info_ = ExternalCompilationInfo(includes=["later.h"],
                                                     include_dirs=[str(tmp_path)])
        x = configure.ConstantInteger("LATER")
    with pytest.raises(configure.HeaderNotFound):
        configure.configure(CConfig)
    (tmp_path / "later.h").write_text("#define LATER 3\n")
    assert configure.configure(CConfig)["x"] == 3


@pytest.mark.parametrize("how", ["env", "argument"])
def test_cache_off(header_dir, counting_cc, monkeypatch, how):
    cfg = make_config(header_dir)
    kwargs = {}
    if how == "env":
        monkeypatch.setenv("PYCTYPES_CONFIGURE_CACHE", "0")
    else:
        kwargs["cache"] = False
    configure.configure(cfg, **kwargs)
    configure.configure(cfg, **kwargs)
    assert counting_cc() == 2


def test_cache_location(header_dir, tmp_path, monkeypatch):
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    configure.configure(make_config(header_dir))
    entries = list((xdg / "pyctypes" / "configure").rglob("*.json"))
    assert len(entries) == 1
    other = tmp_path / "elsewhere"
    configure.configure(make_config(header_dir), cache=str(other))
    assert list(other.rglob("*.json"))


def test_warm_is_faster(header_dir):
    cfg = make_config(header_dir)
    t0 = time.perf_counter()
    configure.configure(cfg)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    configure.configure(cfg)
    warm = time.perf_counter() - t0
    assert warm < cold
