"""DESIGN.md's layering, enforced by scanning imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"

ALLOWED_THIRD_PARTY = {
    "pki": {"cryptography", "asn1crypto"},
    "kernel": {"simpy"},
    "net": {"simpy", "networkx"},
    "router": {"simpy", "cryptography"},
    "scenario": {"simpy", "cryptography", "yaml", "jsonschema"},
    "report": {"jinja2", "networkx", "numpy"},
}
ALLOWED_SIM = {
    "pki": {"pki"},
    "kernel": {"kernel"},
    "net": {"kernel", "net"},
    "router": {"kernel", "net", "pki", "router"},
    "scenario": {"kernel", "net", "pki", "router", "scenario"},
    "report": {"scenario", "kernel", "report"},
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
