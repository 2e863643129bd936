#!/usr/bin/env python3
"""Print the table of real programs on pyctypes in Markdown, for docs/status.md.

Runs every suite of tests/programs/harness.py (pyglet's own tests, CPython's
multiprocessing sharedctypes tests per start method, numpy's test_ctypeslib,
our pyglet headless and numpy ndpointer programs) on CPython's `_ctypes`, on
pyctypes and on pyctypes with PYCTYPES_PURE=1, and prints per suite: the tests
run, how many pass on each, and whether every test that passes on CPython
passes on pyctypes; then the headless pyglet program's result line.

    python tools/programs_table.py                      all suites
    python tools/programs_table.py pyglet-unit mp-spawn
    python tools/programs_table.py --json out.json      also write the results
    python tools/programs_table.py --details            every deviation (stderr)
    python tools/programs_table.py --update      write it into docs/status.md too

Exit status 0; with --check, 1 when pyctypes deviates from CPython anywhere.
"""

import argparse
import dataclasses
import importlib.util
import json
import os
import platform
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tools"))
import docblock  # noqa: E402


def _load_harness():
    path = os.path.join(TOP, "tests", "programs", "harness.py")
    spec = importlib.util.spec_from_file_location("pyctypes_programs_harness", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = _load_harness()

PASS_COLUMNS = (("pass CPython", "cpython"), ("pass pyctypes", "pyctypes"),
                ("pass pyctypes PURE", "pyctypes-pure"))


def _cell(results, suite, impl):
    run, reference = results[suite, impl], results[suite, "cpython"]
    cell = str(run.counts(reference)["pass"])
    return cell if run.ok else f"{cell} ({run.status})"


def _versions():
    found = {s.distribution: harness.installed_version(s.distribution)
             for s in harness.SUITES.values() if s.distribution}
    found["python"] = platform.python_version()
    return found


def _deliberate(results, name):
    """' (N deliberate: `test`, ...)' for the tests of harness.DELIBERATE that
    pass on CPython and not on pyctypes in some mode, else ''."""
    reference = results[name, "cpython"]
    names = []
    for (suite, test_id) in harness.DELIBERATE:
        ref = reference.tests.get(test_id)
        if suite != name or ref is None or ref.outcome not in harness.PASSING:
            continue
        got = [results[name, impl].tests.get(test_id) for impl in harness.PYCTYPES_IMPLS]
        if any(g is None or g.outcome != ref.outcome for g in got):
            names.append(f"`{test_id.rsplit('::', 1)[-1]}`")
    return f" ({len(names)} deliberate: {', '.join(names)})" if names else ""


def markdown(results, suites):
    versions = _versions()
    lines = ["| package | what runs | tests | " + " | ".join(h for h, _ in PASS_COLUMNS)
             + " | equal? |",
             "|---|---|---:|" + "---:|" * len(PASS_COLUMNS) + ":-:|"]
    equal_rows = 0
    for name in suites:
        suite = harness.SUITES[name]
        reference = results[name, "cpython"]
        equal = all(harness.compare(reference, results[name, impl]).ok
                    for impl in harness.PYCTYPES_IMPLS)
        equal_rows += equal
        package = suite.package
        if suite.distribution:
            version = versions.get(suite.distribution) or "missing"
            package = (f"{package} {version}" if package == suite.distribution
                       else f"{package} ({suite.distribution} {version})")
        cells = [_cell(results, name, impl) for _, impl in PASS_COLUMNS]
        lines.append(f"| {package} | {suite.what} | {len(reference.tests)} | "
                     + " | ".join(cells) + f" | {'yes' if equal else '**no**'}"
                     + _deliberate(results, name) + " |")
    lines.append("")
    headless = [(impl, results.get(("pyglet-headless", impl))) for _, impl in PASS_COLUMNS]
    parts = []
    for impl, run in headless:
        if run is None:
            continue
        result = run.result or {}
        if result:
            parts.append(f"{harness.IMPLS[impl].label}: {result.get('passed')}/{result.get('checks')}"
                         f" checks{' ok' if result.get('ok') else ' FAILED'}")
        else:
            parts.append(f"{harness.IMPLS[impl].label}: {run.status} ({run.problem})")
    if parts:
        renderer = next((r.result.get("renderer") for _, r in headless if r and r.result), "?")
        lines.append(f"pyglet headless program (window, shapes and text over OpenGL, X and clock "
                     f"events, framebuffer read back; {renderer} under Xvfb): " + "; ".join(parts)
                     + ".")
        lines.append("")
    lines.append(f"Python {versions['python']}, {sys.platform}-{platform.machine()}: "
                 f"{equal_rows}/{len(suites)} suites pass on pyctypes (both modes) every test "
                 "that passes on CPython.")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("suites", nargs="*", help="suites (default: all): " + ", ".join(harness.SUITES))
    parser.add_argument("--update", action="store_true",
                        help="write the table into docs/status.md, with the commit it was made at")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--details", action="store_true", help="every deviation, on stderr")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 if pyctypes deviates from CPython")
    parser.add_argument("--jobs", type=int, default=harness.DEFAULT_JOBS)
    args = parser.parse_args(argv)
    made = docblock.stamp("python tools/programs_table.py --update")   # the commit measured: the tree as it is now
    suites = args.suites or list(harness.SUITES)
    unknown = sorted(set(suites) - set(harness.SUITES))
    if unknown:
        parser.error("unknown suites: " + ", ".join(unknown))
    pairs = [(s, i) for s in suites for i in ("cpython", *harness.PYCTYPES_IMPLS)]
    results = harness.run_many(pairs, jobs=args.jobs,
                               progress=lambda run: print(harness.summary_line(run), file=sys.stderr,
                                                          flush=True))
    deviations = []
    for suite in suites:
        for impl in harness.PYCTYPES_IMPLS:
            comparison = harness.compare(results[suite, "cpython"], results[suite, impl])
            if not comparison.ok:
                deviations.append(comparison)
    if args.details:
        for comparison in deviations:
            print(comparison.report(), file=sys.stderr)
    table = markdown(results, suites)
    print(table)
    if args.update:
        docblock.update("docs/status.md", "programs",
                        table + "\n\n" + made)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({f"{s}/{i}": dataclasses.asdict(r) for (s, i), r in results.items()}, f,
                      indent=1)
    return 1 if args.check and deviations else 0


if __name__ == "__main__":
    sys.exit(main())
