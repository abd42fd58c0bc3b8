"""Shared fixtures.  Tests run on SQLite by default; LICENSE_SVC_TEST_DATABASE_URL selects
PostgreSQL (CI sets it).  A fixed clock is passed explicitly wherever time matters."""

from formats import libraries


def pytest_configure(config):
    # The test session's start-up, as `license_svc.cli.main` and `bootstrap` are the program's:
    # the library patches go in before any test module imports pyHanko (formats/libraries.py).
    libraries.install()
