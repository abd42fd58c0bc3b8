"""Fixtures for the security suite: the service fixtures of tests/license_svc (a clean migrated
database per test, the app, API clients per role, a frozen clock) and the grant/retrieval world
(a person's driving licence, a company's business licence, two departments, an auditor).

Imported rather than copied so the attacks run against exactly what the service tests build.
"""

from tests.license_svc.conftest import (  # noqa: F401  (fixtures)
    _databases, _keystores, app, auth_headers, client, clock, ctx, ctx_factory, make_api_client,
    settings, settings_factory)
from tests.license_svc.grants_support import http, parties, world  # noqa: F401
from tests.license_svc.issuing import amr, issuers  # noqa: F401
