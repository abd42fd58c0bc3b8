"""Helpers shared by more than one test folder (test material, request bodies, attack
generators, the independent RFC 9162 implementation).  Fixtures are not here: the shared ones
are in tests/conftest.py, so no test module imports fixtures from another folder.  A helper used
by one folder only stays in that folder (tests/license_svc/certs.py, federation_support.py,
tests/security/support.py, tests/verification/cache_pki.py, tests/web/browser.py, ...)."""
