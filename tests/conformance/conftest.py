"""Terminal summary of the conformance run: totals per implementation."""

import runner


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    runs = getattr(config, "_pyctypes_conformance_runs", None)
    if runs is None or not runs.results:
        return
    terminalreporter.section("CPython ctypes test suite")
    for impl in runner.IMPLS.values():
        t = runner.totals(runs.results, impl.name)
        if t["modules"]:
            terminalreporter.write_line(
                f"{impl.label:26} {t['modules']:3} modules  {t['run']:4} run  {t['pass']:4} pass"
                f"  {t['skip']:3} skip  {t['fail']:3} fail or not run")
