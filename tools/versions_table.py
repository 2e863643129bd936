#!/usr/bin/env python3
"""Write docs/versions.md: CPython's own ctypes test suite of each supported
CPython version, on that version's CPython `_ctypes` and on pyctypes in both
modes, with every test that passes on CPython and not on pyctypes named.

    python3 tools/versions_table.py                 # writes docs/versions.md
    python3 tools/versions_table.py --out -         # prints it

Each version runs in the venv tests/versions/interpreters.py makes for it
(pyctypes built from this repository, cached); a version whose interpreter is
missing gets a line saying so.  The suite runs through
tools/conformance_table.py in that venv, one subprocess per module and
implementation.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "versions"))

import interpreters  # noqa: E402

IMPLS = (("CPython", "cpython"), ("pyctypes", "pyctypes"), ("pyctypes PURE", "pyctypes-pure"))


def run_version(version):
    """(conformance JSON data, None) or (None, the reason there is none)."""
    env = interpreters.venv(version)
    if env.problem:
        return None, env.problem
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "conformance.json")
        proc = subprocess.run([env.python, "tools/conformance_table.py", "--json", out], cwd=TOP,
                              env=env.env(), capture_output=True, text=True)
        if not os.path.exists(out):
            return None, f"the conformance run failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        with open(out, encoding="utf-8") as f:
            return json.load(f), None


def markdown(results):
    lines = ["# pyctypes on each supported CPython version", "",
             "CPython's own ctypes test suite of each version (`ctypes.test` on 3.11, "
             "`test.test_ctypes` from 3.12), run on that version's CPython `_ctypes` and on "
             "pyctypes (default mode and `PYCTYPES_PURE=1`), counted over CPython's tests. "
             "Produced by `python3 tools/versions_table.py`; `tests/versions` checks the same "
             "in CI. Speed on each version: `docs/versions-speed.md`.", "",
             "| CPython | tests | " + " | ".join(f"pass {label}" for label, _ in IMPLS)
             + " | skip CPython | skip pyctypes | skip PURE |",
             "|---|---:|" + "---:|" * (2 * len(IMPLS))]
    notes = []
    for version, (data, problem) in results.items():
        if data is None:
            lines.append(f"| {version} | not run: {problem.splitlines()[0]} |" + " |" * 6)
            continue
        totals = data["totals"]
        lines.append(f"| {data['python']} | {totals['cpython']['run']} | "
                     + " | ".join(str(totals[impl]["pass"]) for _, impl in IMPLS) + " | "
                     + " | ".join(str(totals[impl]["skip"]) for _, impl in IMPLS) + " |")
        for row in data["modules"]:
            for label, impl in IMPLS[1:]:
                deviations = row.get("deviations", {}).get(impl, {})
                for test_id, got, detail in deviations.get("failed", []):
                    notes.append(f"- {data['python']}, {label}: `{test_id.split('.', 2)[-1]}` "
                                 f"({got}): {detail.splitlines()[0][:160] if detail else ''}")
                for test_id, reason in deviations.get("extra_skips", []):
                    notes.append(f"- {data['python']}, {label}: `{test_id}` skipped: {reason}")
    lines.append("")
    if notes:
        lines.append("Tests that pass on CPython and not on pyctypes:")
        lines.append("")
        lines.extend(notes)
    else:
        lines.append("Every test that passes on CPython passes on pyctypes, on every version.")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(TOP, "docs", "versions.md"),
                        help="where to write (default: docs/versions.md; -: stdout)")
    args = parser.parse_args(argv)
    results = {}
    for version in ("%d.%d" % v for v in interpreters.supported_versions()):
        print(f"CPython {version} ...", file=sys.stderr, flush=True)
        results[version] = run_version(version)
    text = markdown(results)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
