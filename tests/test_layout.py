"""The package's layout: no import cycles among its modules, none over 600 lines, stages in subpackages."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "analyzer"
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = path
    return mods


def _imports(path: Path, mods: dict[str, Path]) -> set[str]:
    """The package's modules that this one imports, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("analyzer"):
            out |= {m for m in (node.module, *(f"{node.module}.{a.name}" for a in node.names)) if m in mods}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in mods}
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

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
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    mods = _modules()
    graph = {m: _imports(p, mods) - {m} for m, p in mods.items()}
    assert _cycles(graph) == []


def test_a_cycle_is_found() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_over_600_lines() -> None:
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in _modules().items()}
    assert {m: n for m, n in sizes.items() if n > MAX_LINES} == {}


def test_stages_live_in_subpackages() -> None:
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert {"scan", "tokens", "diagnose", "outputs", "report", "engine"} <= packages


# The layers, bottom first: a module imports only from its own layer or the ones below (README,
# "Architecture"). The base holds the names, settings and errors, and the two scan modules that import
# nothing of ours; within a layer, the cycle test keeps the order.
BASE = {"analyzer", "analyzer.schema", "analyzer.frames", "analyzer.errors", "analyzer.config",
        "analyzer.scan.inputs", "analyzer.scan.timeparse"}
LAYERS = ["analyzer.tokens", "analyzer.scan", "analyzer.outputs", "analyzer.diagnose", "analyzer.report",
          "analyzer.engine", "analyzer.run_summary", "analyzer.run", "analyzer.inspect_token", "analyzer.cli",
          "analyzer.__main__"]


def _layer(module: str) -> int:
    if module in BASE:
        return 0
    for rank, prefix in enumerate(LAYERS, start=1):
        if module == prefix or module.startswith(prefix + "."):
            return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def test_imports_point_down_the_layers() -> None:
    mods = _modules()
    upward = sorted(f"{m} -> {dep}" for m, p in mods.items() for dep in _imports(p, mods)
                    if _layer(dep) > _layer(m))
    assert upward == []


def test_an_upward_import_is_found() -> None:
    assert _layer("analyzer.engine.task") > _layer("analyzer.diagnose.observe") > _layer("analyzer.scan.chunks")
    assert _layer("analyzer.scan.inputs") == 0 < _layer("analyzer.scan.readers")


def _listed_order(package: Path) -> list[str]:
    """The modules a package's docstring lists (`- \\`name\\`: ...` lines, names in backticks), in order."""
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8"))) or ""
    names: list[str] = []
    for line in doc.splitlines():
        if line.startswith("- "):
            for part in line.split("`")[1::2]:
                if (package / f"{part}.py").exists() and part not in names:
                    names.append(part)
    return names


def test_each_package_lists_its_modules_in_import_order() -> None:
    """Every module of a package is in its docstring's list, and imports only its siblings listed before it."""
    mods = _modules()
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        package = init.parent
        order = _listed_order(package)
        prefix = f"analyzer.{package.name}."
        present = sorted(p.stem for p in package.glob("*.py") if p.stem != "__init__")
        assert sorted(order) == present, package.name
        for name in order:
            siblings = {m.removeprefix(prefix) for m in _imports(mods[prefix + name], mods) if m.startswith(prefix)}
            later = siblings - set(order[: order.index(name)])
            assert not later, f"{prefix}{name} imports {sorted(later)}, listed after it"
