"""Imports flow one way: the core (``shop/``) never imports the add-ons (``referrals/``,
``community/``) outside the app factory, and no two ``shop/`` packages
import each other, directly or around a loop. Every import counts, function-level ones too."""

from __future__ import annotations

import ast
from pathlib import Path

import shop

SHOP = Path(shop.__file__).parent
ADD_ONS = ("referrals", "community")


# The app factory subscribes the add-ons to the core's signals and registers their pages and
# their demo seeding (shop.demo.register_add_on); nothing else in shop/ imports them.
def _may_import_add_ons(module: str) -> bool:
    return module == "shop"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SHOP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any level; imports for type checkers only
    (``if TYPE_CHECKING:``) are not imports at run time and do not count."""
    tree = ast.parse(path.read_text(), str(path))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _modules() -> dict[str, set[str]]:
    return {_module_name(path): _imports(path) for path in SHOP.rglob("*.py")}


def _package(module: str) -> str:
    """``shop.orders.lifecycle`` -> ``shop.orders``; ``shop.database`` stays itself."""
    return ".".join(module.split(".")[:2])


def test_the_core_never_imports_the_add_ons():
    offending = {
        module: sorted(name for name in imports if name.split(".")[0] in ADD_ONS)
        for module, imports in _modules().items()
        if not _may_import_add_ons(module)
    }
    assert {module: names for module, names in offending.items() if names} == {}


def test_no_cycle_among_shop_packages():
    modules = _modules()
    known = {_package(module) for module in modules if module != "shop"}
    graph: dict[str, set[str]] = {package: set() for package in known}
    for module, imports in modules.items():
        if module == "shop":
            continue  # the factory imports everything, and nothing imports it but wsgi
        for name in imports:
            target = _package(name)
            if target in known and target != _package(module) and name.startswith("shop."):
                graph[_package(module)].add(target)
    assert _cycles(graph) == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _all_modules():
    for package in ("shop", "referrals", "community", "kpis"):
        yield from (SHOP.parent / package).rglob("*.py")


def test_imports_inside_functions_say_why():
    """An import inside a function is a sign that a dependency runs the wrong way: the few
    left (the app factory's, the demo's seeding of the add-ons) carry a comment saying why."""
    silent = []
    for path in _all_modules():
        lines = path.read_text().splitlines()
        for function in ast.walk(ast.parse("\n".join(lines), str(path))):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    above = lines[function.lineno - 1 : node.lineno - 1]
                    if "#" not in lines[node.lineno - 1] and not any(line.strip().startswith("#") for line in above):
                        silent.append(f"{path.relative_to(SHOP.parent)}:{node.lineno}")
    assert silent == []


def test_no_module_is_much_past_four_hundred_lines():
    long = {
        str(path.relative_to(SHOP.parent)): count
        for path in _all_modules()
        if (count := len(path.read_text().splitlines())) > 450
    }
    assert long == {}
