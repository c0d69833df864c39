"""The layer contract (docs/architecture.md): every import of every module, at the top of a file or
inside a function, points down or sideways in one order, and no modules import each other in a
circle. No exceptions are listed: a new import against the order fails here.

    specs < landscapes < optimizers < descent_lab (computations) < viz < page export (descent_lab.page)
          < app (app.py, app_pages) < front ends (descent_lab.cli, .launch, .__main__, .notebook) < scripts

The page export (one HTML file with the stage) draws with viz and is offered by the Playground, so it
sits between them.

Also: plotting libraries only from viz up, Streamlit only from the app up, and no module takes a
private name (``_x``) from another module; scripts take nothing from a page.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("specs", "landscapes", "optimizers", "descent_lab", "viz", "app_pages", "scripts")
FRONT_ENDS = ("descent_lab.cli", "descent_lab.launch", "descent_lab.__main__", "descent_lab.notebook")
PAGE_EXPORT = ("descent_lab.page",)
LAYERS = ("specs", "landscapes", "optimizers", "descent_lab", "viz", "page export", "app", "front ends",
          "scripts")
#: third-party packages a layer may use only from the given layer up
LOWEST = {"plotly": "viz", "matplotlib": "viz", "PIL": "viz", "streamlit": "app"}


def modules() -> dict[str, Path]:
    """Every module of the product and its scripts, by dotted name (a package by its own name)."""
    out = {"app": ROOT / "app.py"}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = modules()


def layer(module: str) -> int:
    if module in FRONT_ENDS:
        return LAYERS.index("front ends")
    if module in PAGE_EXPORT:
        return LAYERS.index("page export")
    top = module.split(".")[0]
    return LAYERS.index("app" if top in ("app", "app_pages") else top)


def imports(module: str, path: Path) -> list[tuple[str, str | None, int]]:
    """(imported module, name taken from it or None, line) for every import in ``path``, a name
    that is itself a module (``from viz import stage``) counted as that module."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.append((sub, None, node.lineno) if sub in MODULES else (base, a.name, node.lineno))
    return out


def own(name: str) -> str | None:
    """The product module ``name`` is, or is inside (``viz.style.X`` -> ``viz.style``), or None."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


GRAPH = {m: [(own(t), t, what, line) for t, what, line in imports(m, p)] for m, p in MODULES.items()}


def test_every_package_is_installed():
    """A package (a folder with __init__.py) the wheel leaves out would import here and fail installed."""
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    inits = [p for pkg in PACKAGES[:5] for p in (ROOT / pkg).rglob("__init__.py")]
    found = {".".join(p.relative_to(ROOT).parent.parts) for p in inits}
    assert found <= set(listed)


def test_every_package_is_seen():
    assert {m.split(".")[0] for m in MODULES} == {"app", *PACKAGES}
    assert len(MODULES) > 60


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_layers(module):
    bad = [f"line {line}: {module} ({LAYERS[layer(module)]}) imports {target} ({LAYERS[layer(target)]})"
           for target, _, _, line in GRAPH[module] if target and layer(target) > layer(module)]
    top = LAYERS[layer(module)]
    bad += [f"line {line}: {module} ({top}) imports {name} (only from {LOWEST[name.split('.')[0]]} up)"
            for target, name, _, line in GRAPH[module]
            if target is None and name.split(".")[0] in LOWEST
            and layer(module) < LAYERS.index(LOWEST[name.split(".")[0]])]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_names_across_modules(module):
    bad = [f"line {line}: {module} takes {what} from {target}" for target, _, what, line in GRAPH[module]
           if target and target != module and what and what.startswith("_") and not what.startswith("__")]
    if module.startswith("scripts."):
        bad += [f"line {line}: {module} imports the page {target}" for target, _, _, line in GRAPH[module]
                if target and target.startswith(("app_pages", "app"))]
    assert not bad, "\n".join(bad)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while (w := stack.pop()) != v:
                comp.append(w)
            if comp:
                out.append(sorted([v, *comp]))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    graph = {m: {t for t, _, _, _ in edges if t and t != m} for m, edges in GRAPH.items()}
    assert cycles(graph) == []


def test_the_checks_catch_what_they_look_for(tmp_path):
    """The contract's own test: an upward import, a private name and a circle are each found."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert layer("descent_lab.compute") < layer("viz.stage") < layer("app_pages.playground")
    assert layer("descent_lab.cli") > layer("app_pages.playground") and layer("specs") == 0
    assert own("viz.style.PALETTE") == "viz.style" and own("numpy.linalg") is None
    fake = tmp_path / "fake.py"
    fake.write_text("from ..viz import stage\nfrom .setup import _hidden, RunSpec\n"
                    "def f():\n    import streamlit as st\n")
    assert imports("descent_lab.fake", fake) == [
        ("viz.stage", None, 1), ("descent_lab.setup", "_hidden", 2), ("descent_lab.setup", "RunSpec", 2),
        ("streamlit", None, 4)]


MAX_FUNCTION_LINES = 80


def test_no_product_function_over_80_lines():
    """Functions short enough to read at once (the developers' guide): every function of the product
    packages, methods and nested functions included, is under 80 lines."""
    long = []
    for module, path in MODULES.items():
        if module.startswith("scripts."):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            size = getattr(node, "end_lineno", 0) - getattr(node, "lineno", 0) + 1
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and size >= MAX_FUNCTION_LINES:
                long.append(f"{module}.{node.name}: {size} lines")
    assert not long, "\n".join(long)
