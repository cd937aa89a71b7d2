"""DESIGN.md's layering, enforced by scanning imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"

ALLOWED_THIRD_PARTY = {
    "pki": {"cryptography", "asn1crypto", "gmpy2"},
    "kernel": {"simpy"},
    "net": {"simpy", "networkx"},
    "router": {"simpy", "cryptography"},
    "scenario": {"simpy", "cryptography", "yaml", "jsonschema", "fastjsonschema"},
    "report": {"jinja2", "networkx", "numpy"},
    "console": {"prompt_toolkit"},
    "sweep": {"dask", "distributed", "rich"},
}
ALLOWED_SIM = {
    "pki": {"pki"},
    "kernel": {"kernel"},
    "net": {"kernel", "net"},
    "router": {"kernel", "net", "pki", "router"},
    "scenario": {"kernel", "net", "pki", "router", "scenario"},
    "report": {"scenario", "kernel", "report"},
    # The interactive console drives a `sim.lab.Lab` (the public API) and reads the
    # routers' grammar for `?` help; nothing below imports it.
    "console": {"console", "lab", "kernel", "router", "scenario"},
    # `pkilab sweep` runs scenarios as Dask tasks and writes their folders and reports.
    "sweep": {"sweep", "scenario", "kernel", "router", "net", "pki", "report"},
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def stdlib_modules() -> frozenset[str]:
    import sys

    return frozenset(sys.stdlib_module_names) | {"__future__"}


@pytest.mark.parametrize("layer", sorted(ALLOWED_SIM))
def test_layer_imports_only_what_design_allows(layer: str) -> None:
    """A simulator layer would import code DESIGN.md forbids it, tangling the layers contributors
    rely on."""
    problems = []
    for path in sorted((SIM / layer).rglob("*.py")):
        for name in imports_of(path):
            top = name.split(".")[0]
            if top == "sim":
                parts = name.split(".")
                target = parts[1] if len(parts) > 1 else ""
                if target and target not in ALLOWED_SIM[layer]:
                    problems.append(f"{path.relative_to(SIM)} imports {name}")
            elif top not in stdlib_modules() and top not in ALLOWED_THIRD_PARTY[layer]:
                problems.append(f"{path.relative_to(SIM)} imports {name}")
    assert not problems, "\n".join(problems)


def test_library_code_never_prints_or_reads_the_host_clock() -> None:
    """Library code would print stray text or read the host clock, so runs would not be repeatable.
    """
    offenders = []
    for path in SIM.rglob("*.py"):
        if path.name in ("cli.py", "bench.py"):
            continue
        text = path.read_text()
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == "print":
                offenders.append(f"{path.relative_to(SIM)}:{node.lineno} print()")
        for needle in ("datetime.now(", "time.time(", "datetime.utcnow("):
            if needle in text and path.parent.name in ("pki", "net", "router", "kernel"):
                offenders.append(f"{path.relative_to(SIM)} uses {needle}")
    assert not offenders, "\n".join(offenders)


def _runtime_imports(path: Path) -> tuple[set[str], list[str]]:
    """The `sim.*` modules a file imports when it runs (imports under `if TYPE_CHECKING:`
    are annotations only), and the imports that sit inside a function."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    nested: list[str] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import | ast.ImportFrom):
                names = ([a.name for a in child.names] if isinstance(child, ast.Import)
                         else [child.module or ""])
                for name in names:
                    if in_function:
                        nested.append(f"{path.relative_to(SIM)}:{child.lineno} {name}")
                    if name.startswith("sim."):
                        found.add(name)
                        if isinstance(child, ast.ImportFrom):
                            found.update(f"{name}.{a.name}" for a in child.names)
            visit(child, inside)

    visit(tree, False)
    return found, nested


def test_the_router_package_has_no_import_loop_and_no_function_level_imports() -> None:
    """`sim/router` is a tree of modules: the driver (`router.py`) imports the console,
    the PKI shells and the state; nothing imports the driver back at run time, so no
    module needs to hide an import inside a function."""
    modules = {f"sim.router.{p.stem}": p for p in (SIM / "router").glob("*.py")
               if p.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    nested_imports: list[str] = []
    for name, path in modules.items():
        imports, nested = _runtime_imports(path)
        graph[name] = {m for m in imports if m in modules}
        nested_imports += nested
    assert not nested_imports, "\n".join(nested_imports)
    done: set[str] = set()

    def walk(node: str, stack: list[str]) -> None:
        if node in stack:
            raise AssertionError("import loop: " + " -> ".join([*stack, node]))
        if node in done:
            return
        for nxt in sorted(graph[node]):
            walk(nxt, [*stack, node])
        done.add(node)

    for name in sorted(graph):
        walk(name, [])
