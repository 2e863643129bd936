"""Reliability tests: hypothesis profiles, the C library of the thread and
call tests, and the session counters of the differential cases.

HYPOTHESIS_PROFILE=long selects the long profile (the figures of tests/reliability/README.md); the
default "ci" profile keeps this directory within a few minutes on 2 cores.
The counters (cases tried, differing, crashed) are printed at the end of the
session and saved as JSON to $PYCTYPES_RELIABILITY_JSON, or else to the
pytest cache (.pytest_cache/v/reliability/stats).
"""

import json
import os
import pathlib

import pytest

import cbuild
import reldiff

HERE = os.path.dirname(os.path.abspath(__file__))

@pytest.fixture(scope="session")
def rel_lib():
    """tests/reliability/rellib.c compiled as a shared library (pthreads)."""
    return cbuild.shared_library(pathlib.Path(HERE, "rellib.c"), "librel", libs=["-lpthread"])


# ---- session counters, gathered from xdist workers

def _is_worker(config):
    return hasattr(config, "workerinput")


def pytest_sessionfinish(session):
    config = session.config
    if _is_worker(config):
        config.workeroutput["reliability"] = json.dumps(
            {"stats": reldiff.STATS, "messages": reldiff.MESSAGE_DIFFS})


def pytest_testnodedown(node, error):
    data = getattr(node, "workeroutput", {}).get("reliability")
    if data:
        data = json.loads(data)
        reldiff.merge_stats(data["stats"], data["messages"])


def pytest_terminal_summary(terminalreporter, config):
    if _is_worker(config) or not reldiff.STATS["tried"]:
        return
    stats = dict(reldiff.STATS)
    stats["profile"] = reldiff.PROFILE
    stats["mode"] = "pure" if os.environ.get("PYCTYPES_PURE", "") not in ("", "0") else "native"
    terminalreporter.write_sep("-", "pyctypes reliability: differential cases")
    terminalreporter.write_line(
        "profile %(profile)s, mode %(mode)s: %(tried)d cases tried, %(differing)d differing "
        "from CPython, %(crashed)d crashed; %(message_differing)d with the same exception "
        "but another message" % stats)
    for key, count in sorted(reldiff.MESSAGE_DIFFS.items(), key=lambda kv: -kv[1])[:10]:
        terminalreporter.write_line("  message %4d x %s" % (count, key[:200]))
    record = dict(stats, message_examples=reldiff.MESSAGE_DIFFS)
    path = os.environ.get("PYCTYPES_RELIABILITY_JSON")
    if path:
        with open(path, "w") as f:
            json.dump(record, f, indent=1, sort_keys=True)
    elif getattr(config, "cache", None) is not None:       # none under -p no:cacheprovider
        config.cache.set("reliability/stats", record)
