"""The house rules of the code, checked on the source tree (issue 21, DESIGN.md §8).

- No import cycle between xltool's modules, counting imports inside functions and under
  ``TYPE_CHECKING``: a cycle hidden in a function is still a knot.
- Imports run only downward in the layer order (or sideways within a layer, still without a cycle).
- An import inside a function exists only for start-up time and says so in a comment.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "xltool"

# Bottom to top. A module belongs to the first layer whose prefix names it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("xltool", "xltool.errors", "xltool.text", "xltool.numbers", "xltool.safexml", "xltool.workers", "xltool.specs"),
    ("xltool.form",),
    ("xltool.submission", "xltool.workbook"),
    ("xltool.checks",),
    ("xltool.summary", "xltool.documents", "xltool.importers", "xltool.review"),
    ("xltool.sources",),
    ("xltool.cli", "xltool.screens", "xltool.__main__", "xltool.serve"),
)


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_name(p): p for p in PACKAGE.rglob("*.py")}


def layer(module: str) -> int:
    best = (-1, -1)  # (prefix length, layer)
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best[0]:
                best = (len(prefix), i)
    if best[1] < 0:
        raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")
    return best[1]


class _Imports(ast.NodeVisitor):
    """Every xltool module a module imports, and the imports made inside functions."""

    def __init__(self, module: str, is_package: bool, known: set[str]) -> None:
        self.module, self.known = module, known
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: dict[str, int] = {}  # imported module -> line
        self.inside: list[ast.stmt] = []  # imports inside functions
        self.depth = 0

    def _add(self, target: str, node: ast.stmt) -> None:
        while target and target not in self.known:
            target = target.rpartition(".")[0]
        if target and target != self.module:
            self.found.setdefault(target, node.lineno)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.startswith("xltool"):
                self._add(alias.name, node)
        if self.depth:
            self.inside.append(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")[: len(self.package.split(".")) - node.level + 1]
            origin = ".".join([*base, *([node.module] if node.module else [])])
        else:
            origin = node.module or ""
        if origin.startswith("xltool"):
            for alias in node.names:
                self._add(f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in self.known else origin, node)
        if self.depth:
            self.inside.append(node)


def _graph() -> tuple[dict[str, dict[str, int]], dict[str, list[ast.stmt]]]:
    modules = _modules()
    edges, inside = {}, {}
    for name, path in modules.items():
        visitor = _Imports(name, path.name == "__init__.py", set(modules))
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        edges[name], inside[name] = visitor.found, visitor.inside
    return edges, inside


def _cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle() -> None:
    edges, _inside = _graph()
    assert _cycles(edges) == []


def test_imports_run_downward_in_the_layer_order() -> None:
    edges, _inside = _graph()
    upward = [
        f"{module}:{line} imports {target} (layer {layer(target)} above {layer(module)})"
        for module, targets in sorted(edges.items())
        for target, line in sorted(targets.items())
        if layer(target) > layer(module)
    ]
    assert upward == []


def test_imports_inside_functions_say_why() -> None:
    """An import inside a function is for start-up time only (a slow library, a command's own
    modules): a comment on its line or on the line above says so."""
    _edges, inside = _graph()
    silent = []
    for module, nodes in sorted(inside.items()):
        lines = _modules()[module].read_text(encoding="utf-8").split("\n")
        for node in nodes:
            here = lines[node.lineno - 1]
            at = node.lineno - 2  # the nearest line above that is not an import of the same group
            while at >= 0 and (re.match(r"\s*(from \S+ )?import ", lines[at]) or not lines[at].strip()):
                at -= 1
            if "#" not in here and not (at >= 0 and "#" in lines[at]):
                silent.append(f"{module}:{node.lineno} {here.strip()}")
    assert silent == []


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("xltool.cli", 6),
        ("xltool.serve.app", 6),
        ("xltool.sources.merging", 5),
        ("xltool.text", 0),
        ("xltool.form.spec", 1),
    ],
)
def test_layers_are_what_the_architecture_says(module: str, expected: int) -> None:
    assert layer(module) == expected


def test_a_cycle_and_an_upward_import_are_caught() -> None:
    """The checks themselves can fail: a made-up graph with a cycle and an upward edge."""
    edges = {"xltool.checks.a": {"xltool.checks.b": 1}, "xltool.checks.b": {"xltool.checks.a": 1}}
    assert _cycles(edges) == [["xltool.checks.a", "xltool.checks.b"]]
    assert layer("xltool.checks.check") < layer("xltool.sources.checking")
