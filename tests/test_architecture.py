"""The layering rules of DESIGN §1, checked on the source so a violation fails CI.

- `signing` and `verification` never import `license_svc`;
- `verification` imports from `signing` only the shared primitives (`signing.oids`,
  `signing.algorithms`, `signing.errors`) — see docs/architecture.md;
- only `signing/algorithms/` calls tongsuopy, gmssl or cryptography's primitives.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_FROM_SIGNING = ("signing.oids", "signing.algorithms", "signing.errors")
CRYPTO_LIBS = ("tongsuopy", "gmssl", "cryptography.hazmat.primitives")
# pyHanko and pyhanko-certvalidator need the pyca exception type and a few hashes at their
# plug points; these modules are allowed that narrow use (checked by name below).
CRYPTO_ALLOWED_NAMES = {"cryptography.exceptions"}


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in ("signing", "verification"):  # `from signing import oids`
                for alias in node.names:
                    yield f"{node.module}.{alias.name}"
            else:
                yield node.module


def _sources(package: str):
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["signing", "verification"])
def test_no_service_imports(package):
    bad = [(p.relative_to(ROOT), m) for p in _sources(package) for m in _imports(p)
           if m == "license_svc" or m.startswith("license_svc.")]
    assert not bad, bad


def test_verification_uses_only_shared_signing_modules():
    bad = [(p.relative_to(ROOT), m) for p in _sources("verification") for m in _imports(p)
           if (m == "signing" or m.startswith("signing."))
           and not m.startswith(SHARED_FROM_SIGNING)]
    assert not bad, bad


def test_crypto_libraries_only_in_algorithm_layer():
    bad = []
    for package in ("signing", "verification", "license_svc"):
        for p in _sources(package):
            if "signing/algorithms" in p.as_posix():
                continue
            for m in _imports(p):
                if m.startswith(CRYPTO_LIBS) and m not in CRYPTO_ALLOWED_NAMES:
                    bad.append((p.relative_to(ROOT), m))
    assert not bad, bad
