"""Terminal summary of the runs on the other CPython versions: each version on
a line of its own, with where its interpreter is or why it is missing."""

import interpreters
import test_other_versions as tov


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    selected = [item for item in terminalreporter.stats.get("passed", []) +
                terminalreporter.stats.get("failed", []) + terminalreporter.stats.get("skipped", [])
                if "tests/versions/" in str(getattr(item, "nodeid", ""))]
    if not selected:
        return
    terminalreporter.section("pyctypes on the other CPython versions")
    for version in tov.VERSIONS:
        python, how = interpreters.find_interpreter(version)
        if python is None:
            terminalreporter.write_line(f"CPython {version}: MISSING, not tested: {how}",
                                        yellow=True, bold=True)
            continue
        run = tov._results.get(("conformance", version))
        line = f"CPython {version}: {python} ({how})"
        if run is not None and run.data is not None:
            totals = run.data["totals"]
            line += "; its ctypes suite: " + ", ".join(
                f"{label} {totals[impl]['pass']}/{totals['cpython']['run']} pass "
                f"({totals[impl]['skip']} skip)"
                for label, impl in (("CPython", "cpython"), ("pyctypes", "pyctypes"),
                                    ("PURE", "pyctypes-pure")))
        terminalreporter.write_line(line)
