"""The layering of docs/architecture.md, checked on the source so a violation fails CI.

    license_svc  ->  signing, verification  ->  formats

- `formats` imports none of the other three;
- `signing` and `verification` never import each other, nor `license_svc`;
- only `formats/algorithms/` calls tongsuopy, gmssl or cryptography's primitives;
- there is no import cycle between modules, counting imports inside functions too (a deferred
  import hides a cycle from Python, not from a reader).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("formats", "signing", "verification", "license_svc")
# Which top-level packages each package may import.
ALLOWED = {
    "formats": {"formats"},
    "signing": {"formats", "signing"},
    "verification": {"formats", "verification"},
    "license_svc": set(PACKAGES),
}
CRYPTO_LIBS = ("tongsuopy", "gmssl", "cryptography.hazmat.primitives")
# pyHanko and pyhanko-certvalidator need the pyca exception type and a few hashes at their
# plug points; these modules are allowed that narrow use (checked by name below).
CRYPTO_ALLOWED_NAMES = {"cryptography.exceptions"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path):
    """Every absolute module name the file imports, `from a import b` as both `a` and `a.b`
    (b may be a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            for alias in node.names:
                yield f"{node.module}.{alias.name}"


def _sources(package: str):
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_only_the_layers_below(package):
    bad = sorted({(str(p.relative_to(ROOT)), m) for p in _sources(package) for m in _imports(p)
                  if m.split(".")[0] in PACKAGES and m.split(".")[0] not in ALLOWED[package]})
    assert not bad, bad


def test_crypto_libraries_only_in_algorithm_layer():
    bad = []
    for package in PACKAGES:
        for p in _sources(package):
            if "formats/algorithms" in p.as_posix():
                continue
            for m in _imports(p):
                if m.startswith(CRYPTO_LIBS) and m not in CRYPTO_ALLOWED_NAMES:
                    bad.append((p.relative_to(ROOT), m))
    assert not bad, bad


def _import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for pkg in PACKAGES for p in _sources(pkg)}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for m in _imports(path):
            if m in modules and m != name and not name.startswith(m + "."):
                # importing a package from inside it (its __init__) is not a cycle worth naming
                targets.add(m)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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
    return found


def _package_inits_only(component: list[str]) -> bool:
    """A package's __init__ re-exporting its submodules, which import siblings through the
    package, is how Python packages are built; a cycle of that shape alone is not a defect."""
    return all(any(other.startswith(m + ".") for other in component) or
               any(m.startswith(other + ".") for other in component) for m in component)


def test_no_import_cycles():
    cycles = [c for c in _cycles(_import_graph()) if not _package_inits_only(c)]
    assert not cycles, cycles


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
