"""Migrations and transactions on the configured backend (SQLite, or PostgreSQL in CI)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from license_svc.auth.models import ApiClient
from license_svc.db import Base, current_heads, load_models, make_engine, upgrade
from license_svc.db.migrate import alembic_config


def test_migrations_reach_every_head(ctx):
    heads = set(ScriptDirectory.from_config(alembic_config(ctx.settings.database_url)).get_heads())
    assert current_heads(ctx.engine) == heads
    assert "api_clients" in inspect(ctx.engine).get_table_names()


def test_upgrade_is_idempotent(settings):
    upgrade(settings)
    upgrade(settings)
    engine = make_engine(settings.database_url)
    try:
        assert current_heads(engine)
    finally:
        engine.dispose()


def test_models_match_migrations(ctx):
    """Every table a `models` module declares exists, as declared, after the migrations."""
    load_models()
    with ctx.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}),
                                Base.metadata)
    assert diff == [], f"models and migrations differ (add an alembic revision): {diff}"


def test_licence_pdfs_skip_toast_compression_on_postgresql(ctx):
    """Already-compressed PDFs: pglz only costs time (migration licences_storage_0001)."""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL storage setting")
    with ctx.engine.connect() as conn:
        storage = conn.exec_driver_sql(
            "SELECT attstorage FROM pg_attribute WHERE attrelid = 'licence_versions'::regclass "
            "AND attname = 'pdf'").scalar_one()
    assert storage == "e"  # EXTERNAL: out of line, never compressed


def test_fresh_sqlite_file_in_new_directory(tmp_path):
    from license_svc.config import Settings

    s = Settings(data_dir=tmp_path / "nested" / "var")
    upgrade(s)
    assert (tmp_path / "nested" / "var" / "license-svc-sh.db").exists()


def _add(session, client_id):
    session.add(ApiClient(client_id=client_id, name="n", region="sh", org_code="o", roles=["admin"],
                          licence_types=[], key_hash=f"sha256:{client_id}"))


def test_unit_of_work_commits_and_rolls_back(ctx):
    with ctx.unit_of_work() as s:
        _add(s, "kept")
    with pytest.raises(RuntimeError):
        with ctx.unit_of_work() as s:
            _add(s, "dropped")
            s.flush()
            raise RuntimeError("boom")
    with ctx.unit_of_work() as s:
        ids = set(s.scalars(select(ApiClient.client_id)))
    assert ids == {"kept"}


def test_datetimes_come_back_timezone_aware(ctx):
    when = datetime(2026, 3, 1, 12, 30, tzinfo=timezone.utc)
    with ctx.unit_of_work() as s:
        _add(s, "t")
        s.get(ApiClient, "t").created_at = when
    with ctx.unit_of_work() as s:
        got = s.get(ApiClient, "t").created_at
    assert got == when and got.tzinfo is not None


def test_naive_datetime_refused(ctx):
    with pytest.raises(Exception, match="naive datetime"):
        with ctx.unit_of_work() as s:
            _add(s, "naive")
            s.get(ApiClient, "naive").created_at = datetime(2026, 1, 1)
            s.flush()


def test_backend_matches_environment(ctx):
    import os

    expected = "postgresql" if os.environ.get("LICENSE_SVC_TEST_DATABASE_URL") else "sqlite"
    assert ctx.engine.dialect.name == expected


def _kill_pooled_connection(ctx) -> None:
    """Terminate, from another connection, the server processes behind every idle connection in
    ctx's pool: what a database restart or a cut network does to a pool."""
    from contextlib import ExitStack

    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    with ExitStack() as stack:  # hold them all at once, so each pooled connection is seen once
        conns = [stack.enter_context(ctx.engine.connect())
                 for _ in range(max(1, ctx.engine.pool.checkedin()))]
        pids = [c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in conns]
    killer = create_engine(ctx.engine.url, poolclass=NullPool)
    try:
        with killer.connect() as conn:
            for pid in pids:
                assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    finally:
        killer.dispose()


@pytest.fixture
def pg_ctx(ctx):
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL connection handling")
    return ctx


def test_a_lost_connection_costs_one_transaction_then_the_pool_reconnects(pg_ctx):
    """No pre-ping (license_svc.db.engine): the first use of a dead connection fails, marked as
    a disconnect; nothing half-done is kept; the next transaction gets a fresh connection."""
    from sqlalchemy.exc import DBAPIError

    _kill_pooled_connection(pg_ctx)
    with pytest.raises(DBAPIError) as err:
        with pg_ctx.unit_of_work() as s:
            _add(s, "lost")
    assert err.value.connection_invalidated
    with pg_ctx.unit_of_work() as s:
        _add(s, "after")
    with pg_ctx.unit_of_work() as s:
        assert set(s.scalars(select(ApiClient.client_id))) == {"after"}


def test_a_lost_connection_is_a_503_with_retry_after_over_http(pg_ctx, app):
    from fastapi.testclient import TestClient

    # Without the lifespan, so the audit publisher's thread cannot meet the dead pool first
    # (it would invalidate it, and the request would find fresh connections).
    client = TestClient(app)
    assert client.get("/api/v1/audit/checkpoint").status_code in (200, 404)
    _kill_pooled_connection(pg_ctx)
    resp = client.get("/api/v1/audit/checkpoint")
    assert resp.status_code == 503, resp.text
    assert resp.headers["retry-after"] == "1"
    assert resp.json()["type"] == "urn:license-svc:problem:database-unavailable"
    assert client.get("/api/v1/audit/checkpoint").status_code in (200, 404)
