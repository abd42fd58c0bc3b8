"""The service fixtures (database per test, app, API clients, frozen clock) of tests/license_svc,
for the page tests."""

from tests.license_svc.conftest import *  # noqa: F401,F403
from tests.license_svc.conftest import _databases, _keystores  # noqa: F401
