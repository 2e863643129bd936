"""The Python level's modules form an acyclic import graph, with imports at
module level only (a function-local import hides a cycle), and the family
modules never import the boundary (fastpath): they hand their plans to
basics.planner."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "src" / "pyctypes" / "_ctypes"
# A deliberate lazy import, for start-up time: layout.py is loaded with the first _fields_.
LAZY = {("structure", "layout")}


def imports(path):
    """(module-level imports, function-local imports) of sibling modules."""
    tree = ast.parse(path.read_text(), str(path))
    top, local = set(), set()

    def names(node):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                return {node.module.split(".")[0]}
            return {alias.name for alias in node.names}
        return set()

    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            top |= names(node)
        elif isinstance(node, ast.If):      # `if not PURE: from . import fastpath`
            for sub in ast.walk(node):
                top |= names(sub)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                local |= names(sub)
    return top, local


GRAPH = {p.stem: imports(p) for p in PACKAGE.glob("*.py")}


def test_no_function_local_imports():
    found = {(m, dep) for m, (_, local) in GRAPH.items() for dep in local} - LAZY
    assert not found


def test_acyclic():
    edges = {m: {d for d in top if d in GRAPH} for m, (top, _) in GRAPH.items()}
    state = {}

    def visit(m, path):
        if state.get(m) == "done":
            return
        assert state.get(m) != "active", "import cycle: " + " -> ".join(path + [m])
        state[m] = "active"
        for d in sorted(edges[m]):
            visit(d, path + [m])
        state[m] = "done"

    for m in sorted(edges):
        visit(m, [])


@pytest.mark.parametrize("module", sorted(set(GRAPH) - {"__init__", "fastpath"}))
def test_families_do_not_import_the_boundary(module):
    top, local = GRAPH[module]
    assert "fastpath" not in top | local
