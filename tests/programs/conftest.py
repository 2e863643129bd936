"""Terminal summary of the programs harness: each suite on each implementation."""


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    runs = getattr(config, "_pyctypes_program_runs", None)
    if runs is None or not runs.results:
        return
    import sys
    harness = sys.modules["pyctypes_programs_harness"]
    terminalreporter.section("real programs on pyctypes")
    for (suite, impl), run in sorted(runs.results.items(),
                                     key=lambda kv: (list(harness.SUITES).index(kv[0][0]), kv[0][1])):
        terminalreporter.write_line(harness.summary_line(run, runs.results.get((suite, "cpython"))))
