"""The layers of docs/architecture.md hold: every module imports only the packages its layer may import."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| `([a-z_.]+)` \| ([^|]*) \|", re.M)


def allowed() -> dict[str, set[str]]:
    """The table under "What each package may import" in docs/architecture.md."""
    text = (REPO / "docs" / "architecture.md").read_text("utf-8")
    table = text.split("## What each package may import", 1)[1]
    return {layer: {m for m in re.findall(r"`([a-z_.]+)`", imports)} for layer, imports in ROW.findall(table)}


def layer_of(module: str, layers: set[str]) -> str | None:
    """The longest layer name that is the module or one of its parents."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in layers:
            return ".".join(parts[:n])
    return None


def imports_of(path: Path, module: str) -> set[str]:
    """Every project module the file imports (absolute, or relative resolved against `module`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the file's package, one level up per extra dot
                package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m.split(".")[0] in ("bot", "index")}


def project_modules() -> list[tuple[str, Path]]:
    out = []
    for top in ("bot", "index"):
        for path in sorted((REPO / top).rglob("*.py")):
            rel = path.relative_to(REPO).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.append((".".join(parts), path))
    return out


def test_every_package_has_a_row_and_says_what_it_is_for():
    layers = allowed()
    for module, path in project_modules():
        if module == "bot":
            continue
        assert layer_of(module, set(layers)), f"{module} belongs to no layer of docs/architecture.md"
        if path.name == "__init__.py" and module.count(".") == 1:
            doc = ast.get_docstring(ast.parse(path.read_text("utf-8"))) or ""
            assert "May import" in doc, f"{path}: its docstring should say what it may import"


def test_imports_go_only_where_the_table_allows():
    layers = allowed()
    names = set(layers)
    wrong = []
    for module, path in project_modules():
        mine = layer_of(module, names)
        for imported in imports_of(path, module):
            theirs = layer_of(imported, names)
            if theirs is None or theirs == mine or theirs == "bot":
                continue
            if theirs not in layers[mine]:
                wrong.append(f"{module} imports {imported} ({mine} may import: {sorted(layers[mine]) or 'nothing'})")
    assert not wrong, "\n".join(wrong)


def test_the_table_has_no_circle():
    layers = allowed()
    seen: dict[str, int] = {}

    def visit(layer: str, path: tuple[str, ...]) -> None:
        assert layer not in path, f"circle: {' -> '.join(path + (layer,))}"
        if seen.get(layer):
            return
        for other in layers.get(layer, ()):
            visit(other, path + (layer,))
        seen[layer] = 1

    for layer in layers:
        visit(layer, ())


@pytest.mark.parametrize("top", ["bot", "index"])
def test_every_module_imports(top):
    package = importlib.import_module(top)
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{top}."):
        importlib.import_module(info.name)


def test_the_benchmarks_import_no_circle():
    """benchmarks/sections.py writes RESULTS.md for every benchmark and imports none of them."""
    graph = {}
    for path in sorted((REPO / "benchmarks").glob("*.py")):
        module = f"benchmarks.{path.stem}"
        graph[module] = {m for m in imports_of_any(path) if m.startswith("benchmarks.") and m in known_benchmarks()}

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"circle: {' -> '.join(path + (module,))}"
        for other in graph.get(module, ()):
            visit(other, path + (module,))

    for module in graph:
        visit(module, ())


def known_benchmarks() -> set[str]:
    return {f"benchmarks.{p.stem}" for p in (REPO / "benchmarks").glob("*.py")}


def imports_of_any(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found
