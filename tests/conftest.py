"""Fixtures shared by the test folders: a clean migrated database per test, the app, API keys
per role, a frozen clock, the Shanghai issuers and the grant/retrieval world; and the test
session's start-up (`formats.libraries.install()`).  Helpers that are not fixtures live in
tests/support/.

Tests run on SQLite by default: the schema is migrated once per session into a template file, and
each test gets a copy (a millisecond, versus running alembic per test).  With
LICENSE_SVC_TEST_DATABASE_URL set to a PostgreSQL URL (CI sets it), each xdist worker creates its
own databases (one per region asked for) next to the given one, migrates them once, and empties
every table before each test.  A fixed clock is passed explicitly wherever time matters.

    def test_x(ctx, client, auth_headers):
        client.get("/api/v1/...", headers=auth_headers["issuer"])
        with ctx.unit_of_work() as session: ...
"""

from __future__ import annotations

from formats import libraries

# The test session's start-up, as `license_svc.cli.main` and `bootstrap` are the program's: the
# library patches (and pyHanko's warning filter) go in before the imports below reach pyHanko.
libraries.install()

import os  # noqa: E402
import shutil
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from license_svc.auth.clients import upsert_client
from license_svc.config import DEV_KEYS_DIR, Settings
from license_svc.context import AppContext
from license_svc.db import make_engine, upgrade
from tests.support import check_names
from tests.support.grants import COMPANY, DEPT, OTHER_DEPT, PERSON, World, issue_licence
from tests.support.issuing import AMR_SH, ORG_TYPES, TRAFFIC_SH

PG_URL = os.environ.get("LICENSE_SVC_TEST_DATABASE_URL", "")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
# One organisation code per region for the default test clients (valid USCC check characters
# are the issuance tests' business; these only label the actor).
TEST_ORG = "91310000TEST00000X"
TEST_NOW = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)
check_names.install()


@pytest.fixture(autouse=True)
def _emitted_checks_have_chinese_text():
    """Every check name the verifiers or the service emit in a test has its Chinese text
    (verification/checks.py); a test that reaches one without fails at teardown, naming it."""
    check_names.emitted.clear()
    yield
    missing = check_names.without_chinese(check_names.emitted)
    check_names.emitted.clear()
    assert not missing, f"check names without Chinese text in verification/checks.py: {missing}"


class FrozenClock:
    """The service clock in tests: fixed until a test moves it."""

    def __init__(self, now: datetime):
        self.current = now

    def __call__(self) -> datetime:
        return self.current

    def set(self, now: datetime) -> None:
        assert now.tzinfo is not None, "use timezone-aware datetimes"
        self.current = now

    def advance(self, **delta) -> datetime:
        self.current += timedelta(**delta)
        return self.current


class _SqliteDatabases:
    def __init__(self, root):
        self.root, self.templates = root, {}

    def fresh_url(self, region: str, dest_dir) -> str:
        if region not in self.templates:
            path = self.root / f"template-{region}.db"
            engine = make_engine(f"sqlite:///{path}")
            upgrade(engine=engine)
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            self.templates[region] = path
        target = dest_dir / f"license-svc-{region}.db"
        shutil.copyfile(self.templates[region], target)
        return f"sqlite:///{target}"

    def close(self) -> None:
        pass


class _PostgresDatabases:
    """Per-worker databases on the server named by LICENSE_SVC_TEST_DATABASE_URL."""

    def __init__(self, base_url: str):
        self.base = make_url(base_url)
        self.admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        self.engines = {}
        self.tag = f"{WORKER}_{uuid.uuid4().hex[:8]}"

    def fresh_url(self, region: str, _dest_dir) -> str:
        if region not in self.engines:
            name = f"{self.base.database}_{self.tag}_{region}"[:63]
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            engine = make_engine(self.base.set(database=name).render_as_string(hide_password=False))
            upgrade(engine=engine)
            self.engines[region] = engine
        engine = self.engines[region]
        with engine.begin() as conn:
            tables = [r[0] for r in conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"))]
            if tables:
                # A session some test left open would make TRUNCATE wait forever; fail fast.
                conn.execute(text("SET LOCAL lock_timeout = '60s'"))
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                  + " RESTART IDENTITY CASCADE"))
        return engine.url.render_as_string(hide_password=False)

    def close(self) -> None:
        for engine in self.engines.values():
            name = engine.url.database
            engine.dispose()
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def _databases(tmp_path_factory):
    dbs = _PostgresDatabases(PG_URL) if PG_URL else _SqliteDatabases(tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.close()


@pytest.fixture
def settings_factory(_databases, tmp_path):
    """`settings_factory("js")` → Settings for that region on its own clean, migrated database."""

    def make(region: str = "sh", **overrides) -> Settings:
        data_dir = tmp_path / region
        data_dir.mkdir(exist_ok=True)
        # sync_interval_minutes=0: an app on these settings syncs trust lists only when the test
        # says so (tests/license_svc/test_federation_autosync.py turns the background task on).
        values = dict(region=region, env="development", data_dir=data_dir,
                      database_url=_databases.fresh_url(region, data_dir), keys_dir=DEV_KEYS_DIR,
                      sync_interval_minutes=0)
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(settings_factory) -> Settings:
    return settings_factory("sh")


@pytest.fixture(scope="session")
def _keystores():
    return {}


@pytest.fixture
def clock() -> FrozenClock:
    # Fixed, inside the validity of every keys_dev certificate (2026-01-01 … 2031); tests move it.
    return FrozenClock(TEST_NOW)


@pytest.fixture
def ctx_factory(_keystores, clock):
    """`ctx_factory(settings)` → AppContext sharing the session's loaded key store and the clock."""
    made = []

    def load_cached(s: Settings):
        from license_svc.context import load_keystore

        key = (str(s.keys_dir), s.key_passphrase)
        if key not in _keystores:
            _keystores[key] = load_keystore(s)
        return _keystores[key]

    def make(s: Settings, **kwargs) -> AppContext:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("keystore_loader", load_cached)
        c = AppContext.create(s, **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def ctx(ctx_factory, settings) -> AppContext:
    return ctx_factory(settings)


@pytest.fixture
def app(ctx):
    from license_svc.web import create_app

    return create_app(ctx=ctx)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as tc:
        yield tc


@pytest.fixture
def make_api_client(ctx):
    """`make_api_client(["issuer"], org_code=..., holder_code=..., licence_types=[...])`
    → (Client, headers) for a new client in the test database."""

    def make(roles, *, org_code: str = TEST_ORG, region: str | None = None, **kwargs):
        with ctx.unit_of_work() as session:
            principal, key = upsert_client(
                session, client_id=kwargs.pop("client_id", f"test-{'-'.join(roles)}-{uuid.uuid4().hex[:6]}"),
                name=kwargs.pop("name", "测试客户端"), region=region or ctx.region, org_code=org_code,
                roles=roles, **kwargs)
        return principal, {"Authorization": f"Bearer {key}"}

    return make


@pytest.fixture
def auth_headers(make_api_client) -> dict[str, dict[str, str]]:
    """Authorization headers for one client per role: auth_headers["issuer"], ..."""
    from license_svc.auth.clients import ROLES

    return {role: make_api_client([role])[1] for role in ROLES}


@pytest.fixture
def issuers(make_api_client):
    """{org_code: (Client, headers)} for the Shanghai issuing organisations."""
    return {org: make_api_client(["issuer"], org_code=org, licence_types=types)
            for org, types in ORG_TYPES.items()}


@pytest.fixture
def amr(issuers):
    return issuers[AMR_SH][0]


@pytest.fixture
def parties(ctx, make_api_client) -> World:
    """The clients only (no licences issued: cheaper, for tests that need none)."""
    person, person_h = make_api_client(["citizen"], org_code="", holder_code=PERSON, name="张三")
    company, company_h = make_api_client(["citizen"], org_code=COMPANY, holder_code=COMPANY)
    dept, dept_h = make_api_client(["relying"], org_code=DEPT, name="上海市人社局")
    other, other_h = make_api_client(["relying"], org_code=OTHER_DEPT, name="江苏省某局")
    _, auditor_h = make_api_client(["auditor"], org_code="11310000MB00004000")
    return World(None, None, person, person_h, company, company_h, dept, dept_h, other,
                 other_h, auditor_h)


@pytest.fixture
def world(ctx, parties) -> World:
    """The clients plus PERSON's driving licence and COMPANY's business licence."""
    parties.driving = issue_licence(ctx, "driving_licence", TRAFFIC_SH, ["driving_licence"])
    parties.business = issue_licence(ctx, "business_licence", AMR_SH, ["business_licence"])
    return parties


@pytest.fixture
def http(app):
    """The app without the background checkpoint publisher (tests publish when they need to)."""
    from fastapi.testclient import TestClient

    app.state.audit_checkpoint_interval = 0
    with TestClient(app) as tc:
        yield tc


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright, one per browser-test module (tests/web/browser.py
    says how it is launched; modules skip themselves where it is missing)."""
    from playwright.sync_api import sync_playwright

    from tests.web.browser import launch

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
