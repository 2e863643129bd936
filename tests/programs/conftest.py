"""Terminal summary of the programs harness: each suite on each implementation."""

import harness


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    runs = getattr(config, "_pyctypes_program_runs", None)
    if runs is None or not runs.results:
        return
    terminalreporter.section("real programs on pyctypes")
    for (suite, impl), run in sorted(runs.results.items(),
                                     key=lambda kv: (list(harness.SUITES).index(kv[0][0]), kv[0][1])):
        terminalreporter.write_line(harness.summary_line(run, runs.results.get((suite, "cpython"))))
