"""The crash tests' database and service: each test gets its own service process on its own
database — a SQLite file, or, when LICENSE_SVC_TEST_DATABASE_URL names a PostgreSQL server (the
CI's second run), a scratch database created next to it and dropped at the end."""

import os

import pytest

from formats import libraries
from license_svc.db import make_engine
from tests.support.service import killable_service, scratch_postgres_database


@pytest.fixture
def database_url():
    """None (SQLite in the service's data directory) or a fresh PostgreSQL database."""
    base = os.environ.get("LICENSE_SVC_TEST_DATABASE_URL", "")
    if not base:
        yield None
        return
    with scratch_postgres_database(base, "crash") as url:
        yield url


@pytest.fixture
def service(tmp_path, database_url):
    libraries.install()
    with killable_service(tmp_path / "node", database_url) as svc:
        yield svc


@pytest.fixture
def engine(service):
    """A connection pool of the test's own on the service's database (plain SQL checks)."""
    e = make_engine(service.database_url)
    yield e
    e.dispose()
