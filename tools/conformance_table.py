#!/usr/bin/env python3
"""Print the conformance table of pyctypes in Markdown, for docs/status.md.

Runs CPython's own ctypes test suite (the running interpreter's stdlib
`ctypes.test` package) on CPython's `_ctypes`, on pyctypes and on pyctypes with
PYCTYPES_PURE=1, one subprocess per module and implementation (the harness of
tests/conformance/runner.py), and prints per module: the number of tests, how
many pass on each, and whether pyctypes skips exactly what CPython skips.

    python tools/conformance_table.py                  # the whole suite
    python tools/conformance_table.py --json out.json  # also write the results
    python tools/conformance_table.py --details        # list every deviation (stderr)
    python tools/conformance_table.py test_arrays test_pointers
    python tools/conformance_table.py --update      write it into docs/status.md too

Exit status 0; with --check, 1 when pyctypes deviates from CPython anywhere.
"""

import argparse
import importlib.util
import json
import os
import platform
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tools"))
import docblock  # noqa: E402


def _load_runner():
    path = os.path.join(TOP, "tests", "conformance", "runner.py")
    spec = importlib.util.spec_from_file_location("pyctypes_conformance_runner", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


runner = _load_runner()

# Table columns after "module": (header, implementation).
PASS_COLUMNS = (("pass CPython", "cpython"), ("pass pyctypes", "pyctypes"),
                ("pass pyctypes PURE", "pyctypes-pure"))


def _cell(results, module, impl):
    run, reference = results[module, impl], results[module, "cpython"]
    cell = str(run.counts(reference)["pass"])
    return cell if run.ok else f"{cell} ({run.status})"


def _outcome(run, test_id):
    if not run.ok:
        return run.status
    test = run.tests.get(test_id)
    return test.outcome if test is not None else "not run"


def build(results, modules):
    """The table data: one row per module plus totals, as plain dicts."""
    rows = []
    for module in modules:
        reference = results[module, "cpython"]
        row = {"module": module, "tests": len(reference.tests),
               "cpython": reference.counts(), "status": {}, "conforms": {}}
        for impl in runner.PYCTYPES_IMPLS:
            comparison = runner.compare(reference, results[module, impl])
            row[impl] = results[module, impl].counts(reference)
            row["status"][impl] = results[module, impl].status
            row["conforms"][impl] = comparison.ok
            row.setdefault("skips_equal", {})[impl] = comparison.skips_equal
            row.setdefault("deviations", {})[impl] = {
                "failed": [[t, got, detail] for t, _, got, detail in comparison.lost],
                "extra_skips": [[t, reason] for t, _, reason in comparison.extra_skips]}
        # Every test's outcome: [CPython, pyctypes, pyctypes PURE].
        ids = sorted(set(reference.tests).union(*(results[module, i].tests
                                                  for i in runner.PYCTYPES_IMPLS)))
        row["outcomes"] = {test_id: [_outcome(results[module, impl], test_id)
                                     for impl in runner.IMPLS] for test_id in ids}
        rows.append(row)
    totals = {impl: runner.totals({k: v for k, v in results.items() if k[0] in modules}, impl)
              for impl in runner.IMPLS}
    return {"python": platform.python_version(), "platform": f"{sys.platform}-{platform.machine()}",
            "modules": rows, "totals": totals}


def markdown(results, modules, data):
    lines = ["| module | tests | " + " | ".join(h for h, _ in PASS_COLUMNS) + " | skips equal? |",
             "|---|---:|" + "---:|" * len(PASS_COLUMNS) + ":-:|"]
    equal_count = 0
    for row in data["modules"]:
        module = row["module"]
        equal = all(row["skips_equal"].values())
        equal_count += equal
        if equal:
            skips = "yes"
        else:
            which = [runner.IMPLS[i].label for i in runner.PYCTYPES_IMPLS if not row["skips_equal"][i]]
            skips = "no" if len(which) == len(runner.PYCTYPES_IMPLS) else "no (" + ", ".join(which) + ")"
        cells = [_cell(results, module, impl) for _, impl in PASS_COLUMNS]
        lines.append(f"| {module} | {row['tests']} | " + " | ".join(cells) + f" | {skips} |")
    totals = data["totals"]
    cells = [f"**{totals[impl]['pass']}**" for _, impl in PASS_COLUMNS]
    lines.append(f"| **total** | **{totals['cpython']['run']}** | " + " | ".join(cells)
                 + f" | **{equal_count}/{len(modules)}** |")
    ref = totals["cpython"]
    lines.append("")
    lines.append(f"CPython's ctypes test suite of Python {data['python']} ({data['platform']}): "
                 f"{ref['run']} tests run, {ref['pass']} pass and {ref['skip']} are skipped on CPython. "
                 + "; ".join(f"{runner.IMPLS[i].label}: {totals[i]['pass']} pass, "
                             f"{totals[i]['skip']} skipped" for i in runner.PYCTYPES_IMPLS)
                 + ".")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="modules of ctypes.test (default: all)")
    parser.add_argument("--update", action="store_true",
                        help="write the table into docs/status.md, with the commit it was made at")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--details", action="store_true",
                        help="list every deviation from CPython on stderr")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 if pyctypes deviates from CPython")
    parser.add_argument("--jobs", type=int, default=runner.DEFAULT_JOBS,
                        help="module runs in parallel (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=runner.DEFAULT_TIMEOUT,
                        help="seconds per module run (default: %(default)s)")
    args = parser.parse_args(argv)
    made = docblock.stamp("python tools/conformance_table.py --update")   # the commit measured: the tree as it is now

    available = runner.list_modules()
    modules = args.modules or available
    unknown = sorted(set(modules) - set(available))
    if unknown:
        parser.error("not modules of ctypes.test: " + ", ".join(unknown))

    pairs = [(m, impl) for m in modules for impl in runner.IMPLS]
    results = runner.run_many(pairs, jobs=args.jobs, timeout=args.timeout)
    data = build(results, modules)
    table = markdown(results, modules, data)
    print(table)
    if args.update:
        docblock.update("docs/status.md", "conformance",
                        table + "\n\n" + made)

    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
    deviations = [runner.compare(results[m, "cpython"], results[m, impl])
                  for m in modules for impl in runner.PYCTYPES_IMPLS]
    deviations = [c for c in deviations if not c.ok]
    if args.details:
        for comparison in deviations:
            print(comparison.report(), end="\n\n", file=sys.stderr)
    return 1 if args.check and deviations else 0


if __name__ == "__main__":
    sys.exit(main())
