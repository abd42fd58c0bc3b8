"""formats.libraries: every library patch is applied by `install()` and by nothing else.

Why these tests: the patches are process-wide and reach into private names of asn1crypto and
pyHanko; if one silently stopped applying (a moved module, a pin bumped), SM2 documents would fail
to verify or the verifier would quietly lose its speed.  The subprocess tests start from a clean
interpreter, because this test session has already installed everything (tests/conftest.py).
"""

import subprocess
import sys
import warnings
from pathlib import Path

from asn1crypto import algos, keys, x509
from pyhanko.pdf_utils import generic

from formats import fast_hex, fast_names, libraries, oids

ROOT = Path(__file__).resolve().parent.parent

# Imports every module of the four packages (not `__main__`, which runs the CLI, nor the alembic
# migration scripts, which run only inside alembic), then prints which patches are active.
_IMPORT_ALL = """
import importlib, json, pkgutil, sys
for package in ("formats", "signing", "verification", "license_svc"):
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if not info.name.endswith("__main__") and ".migrations" not in info.name:
            importlib.import_module(info.name)
from formats import libraries
print(json.dumps(libraries.installed()))
"""


def _python(code: str, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *options, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin"})


def test_after_install_every_patch_is_active():
    libraries.install()
    assert all(libraries.installed().values()), libraries.installed()
    assert algos.SignedDigestAlgorithmId(oids.SM2_WITH_SM3).native == oids.SM2_SM3_NAME
    assert algos.SignedDigestAlgorithmId(oids.SM2_SIGN).native == oids.SM2_SIGN_NAME
    assert algos.DigestAlgorithmId(oids.SM3_NAME).dotted == oids.SM3
    assert keys.NamedCurve(oids.SM2_CURVE_NAME).dotted == oids.SM2_CURVE
    assert generic.read_hex_string_from_stream is fast_hex.read_hex_string_from_stream
    assert x509.NameTypeAndValue._ldap_string_prep is fast_names.ldap_string_prep
    assert x509.RelativeDistinguishedName._get_types is fast_names.get_types
    assert x509.RelativeDistinguishedName._get_values is fast_names.get_values


def test_install_twice_is_harmless():
    libraries.install()
    tables = [dict(c._map) for c in (algos.DigestAlgorithmId, algos.SignedDigestAlgorithmId,
                                     keys.NamedCurve)]
    filters = list(warnings.filters)
    libraries.install()
    libraries.install()
    assert [dict(c._map) for c in (algos.DigestAlgorithmId, algos.SignedDigestAlgorithmId,
                                   keys.NamedCurve)] == tables
    assert warnings.filters == filters
    assert all(libraries.installed().values())


def test_install_puts_back_what_was_undone():
    with warnings.catch_warnings():
        warnings.resetwarnings()
        assert not libraries.installed()["warnings: ignore pyHanko's DSA deprecation warning"]
        libraries.install()
        assert all(libraries.installed().values())


def test_importing_every_module_patches_nothing():
    done = _python(_IMPORT_ALL)
    assert done.returncode == 0, done.stderr
    states = __import__("json").loads(done.stdout)
    assert set(states) == {p.name for p in libraries.PATCHES}
    assert not any(states.values()), states


def test_after_install_importing_everything_warns_nothing():
    """What the CLI and the service rely on: install() first, then no import writes a warning
    line (pyHanko's DSA import) before the program's own output."""
    done = _python("from formats import libraries\nlibraries.install()\n" + _IMPORT_ALL,
                   "-W", "error")
    assert done.returncode == 0, done.stderr
    assert all(__import__("json").loads(done.stdout).values())
