"""API clients: keys hashed at rest, 401 without a valid key, 403 without the role."""

from __future__ import annotations

import json

import pytest
from fastapi import APIRouter, Depends
from sqlalchemy import select, text

from license_svc.auth import Client, ClientError, authenticate, hash_key, seed_clients, upsert_client
from license_svc.web.auth import require_role
from license_svc.auth.models import ApiClient
from license_svc.web import create_app

PROBLEM = "urn:license-svc:problem:"


@pytest.fixture
def guarded_client(ctx):
    """The app plus two probe routes guarded by roles (domain routes do the same)."""
    from fastapi.testclient import TestClient

    router = APIRouter()

    @router.get("/probe/issuer")
    def issuer_only(who: Client = Depends(require_role("issuer"))):
        return {"client_id": who.client_id, "org_code": who.org_code, "roles": sorted(who.roles)}

    @router.get("/probe/audit")
    def auditors(who: Client = Depends(require_role("auditor", "admin"))):
        return {"client_id": who.client_id}

    app = create_app(ctx=ctx)
    app.include_router(router)
    with TestClient(app) as tc:
        yield tc


def test_plain_key_never_stored(ctx):
    with ctx.unit_of_work() as s:
        _, key = upsert_client(s, client_id="c1", name="上海市市场监督管理局审批系统", region="sh",
                               org_code="11310000MB2F12345X", roles=["issuer"])
    assert key.startswith("lsk_") and len(key) > 40
    with ctx.engine.connect() as conn:
        rows = [tuple(map(str, r)) for r in conn.execute(text("SELECT * FROM api_clients"))]
    dump = json.dumps(rows)
    assert key not in dump and key[4:] not in dump
    assert hash_key(key) in dump


def test_authenticate(ctx):
    with ctx.unit_of_work() as s:
        _, key = upsert_client(s, client_id="c2", name="n", region="js", org_code="o",
                               roles=["relying", "auditor"], licence_types=["110"])
    with ctx.unit_of_work() as s:
        who = authenticate(s, key)
        assert who.client_id == "c2" and who.roles == {"relying", "auditor"}
        assert who.licence_types == ("110",) and who.region == "js"
        assert authenticate(s, key + "x") is None
        assert authenticate(s, "") is None
        s.get(ApiClient, "c2").disabled = True
    with ctx.unit_of_work() as s:
        assert authenticate(s, key) is None


def test_unknown_role_and_short_key_refused(ctx):
    with ctx.unit_of_work() as s:
        with pytest.raises(ClientError):
            upsert_client(s, client_id="x", name="n", region="sh", org_code="o", roles=["root"])
        with pytest.raises(ClientError):
            upsert_client(s, client_id="x", name="n", region="sh", org_code="o", roles=["admin"],
                          api_key="short")
    with pytest.raises(ValueError):
        require_role("superuser")


def test_401_without_or_with_bad_key(guarded_client):
    for headers in ({}, {"Authorization": "Bearer not-a-key-at-all-xxxx"}, {"Authorization": "Basic abc"}):
        r = guarded_client.get("/probe/issuer", headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"].startswith("Bearer")
        body = r.json()
        assert body["type"] == PROBLEM + "unauthorized" and body["status"] == 401
        assert body["title_zh"] and body["title_en"]


def test_403_wrong_role_200_right_role(guarded_client, auth_headers):
    r = guarded_client.get("/probe/issuer", headers=auth_headers["relying"])
    assert r.status_code == 403
    assert r.json()["type"] == PROBLEM + "forbidden" and r.json()["required_roles"] == ["issuer"]
    r = guarded_client.get("/probe/issuer", headers=auth_headers["issuer"])
    assert r.status_code == 200 and r.json()["roles"] == ["issuer"]
    assert guarded_client.get("/probe/audit", headers=auth_headers["admin"]).status_code == 200
    assert guarded_client.get("/probe/audit", headers=auth_headers["citizen"]).status_code == 403


def _clients_file(tmp_path, entries):
    path = tmp_path / "clients.json"
    path.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    return path


def test_seed_clients_file_idempotent(ctx, tmp_path, guarded_client):
    key = "dev-issuer-key-0123456789abcdef0123456789abcdef"
    path = _clients_file(tmp_path, [
        {"client_id": "sh-issuer", "name": "上海审批系统", "region": "sh", "org_code": "11310000MB2F12345X",
         "roles": ["issuer"], "api_key": key, "licence_types": ["110", "310"]},
        {"client_id": "sh-citizen", "name": "张三", "region": "sh", "org_code": "",
         "roles": ["citizen"], "api_key": "dev-citizen-key-0123456789abcdef", "holder_code": "11010519491231002X"},
    ])
    for _ in range(2):
        with ctx.unit_of_work() as s:
            seeded = seed_clients(s, path)
    assert [c.client_id for c in seeded] == ["sh-issuer", "sh-citizen"]
    assert seeded[1].holder_code == "11010519491231002X"
    assert "11010519491231002X" not in repr(seeded[1])
    with ctx.unit_of_work() as s:
        assert len(s.scalars(select(ApiClient)).all()) == 2
    r = guarded_client.get("/probe/issuer", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json()["client_id"] == "sh-issuer"


@pytest.mark.parametrize("content", ['{"not": "a list"}', "[{\"client_id\": \"x\"}]", "not json"])
def test_seed_clients_bad_file(ctx, tmp_path, content):
    path = tmp_path / "clients.json"
    path.write_text(content)
    with pytest.raises(ClientError):
        with ctx.unit_of_work() as s:
            seed_clients(s, path)


def test_dev_clients_file_loads_when_present(ctx):
    """keys_dev/clients.json (written by `license-svc dev-pki generate`) must seed cleanly."""
    path = ctx.settings.keys_dir / "clients.json"
    if not path.exists():
        pytest.skip("keys_dev/clients.json not generated yet")
    with ctx.unit_of_work() as s:
        seeded = seed_clients(s, path)
    assert seeded and all(c.roles for c in seeded)


def test_clients_cli_add_list_disable(tmp_path):
    from typer.testing import CliRunner

    from license_svc.cli import _register, app
    from license_svc.config import load_settings
    from license_svc.context import AppContext

    _register()
    runner = CliRunner()
    env = {"LICENSE_SVC_DATA_DIR": str(tmp_path), "LICENSE_SVC_REGION": "js"}
    r = runner.invoke(app, ["clients", "add", "--id", "js-hr", "--name", "江苏省人社厅", "--role", "relying",
                            "--role", "auditor", "--org-code", "11320000MB0000300A"], env=env)
    assert r.exit_code == 0, r.output
    key = r.output.split("仅显示一次): ")[1].strip()
    ctx = AppContext.create(load_settings(env))
    try:
        with ctx.unit_of_work() as s:
            assert authenticate(s, key).roles == {"relying", "auditor"}
        r = runner.invoke(app, ["clients", "list"], env=env)
        assert "js-hr" in r.output and "active" in r.output and key not in r.output
        assert runner.invoke(app, ["clients", "disable", "js-hr"], env=env).exit_code == 0
        with ctx.unit_of_work() as s:
            assert authenticate(s, key) is None
        r = runner.invoke(app, ["clients", "add", "--id", "x", "--name", "x", "--role", "root"], env=env)
        assert r.exit_code == 3
    finally:
        ctx.close()


def test_access_log_names_the_client(guarded_client, auth_headers):
    import io
    import logging

    from license_svc.logs import configure_logging

    stream, root = io.StringIO(), logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("INFO", stream=stream)
    try:
        guarded_client.get("/probe/issuer", headers=auth_headers["issuer"])
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    access = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [a for a in access if a.get("route") == "/probe/issuer"]
    assert access and access[0]["client_id"].startswith("test-issuer-")
