"""Sign-in without a provider process: how verified claims map to a client (citizen, clerk,
officer; claim and role names from the settings), the session store, the session cookie on the
API (with and without the pages' header, expired), the operator default of the audit log, the
settings and the sign-in markup.  Runs on SQLite and PostgreSQL (the `ctx` fixture's database)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from license_svc import audit
from license_svc.auth import sessions, signin
from license_svc.auth.models import ApiClient
from license_svc.config import ConfigError, Settings, load_settings
from license_svc.request_context import set_operator
from license_svc.web.auth import SESSION_COOKIE, SESSION_HEADER

DEPT_ORG = "11310000MB0000300A"  # sh-relying's organisation in keys_dev/clients.json
ID_NUMBER = "310101199003071230"


@pytest.fixture
def dept(make_api_client):
    client, _ = make_api_client(["relying"], org_code=DEPT_ORG, client_id="dept-window", name="窗口系统")
    return client


def test_clerk_maps_to_the_registered_client_of_the_department(ctx, dept):
    with ctx.unit_of_work() as session:
        p = signin.principal_of(ctx, session, {"sub": "u1", "name": "王芳", "org_code": DEPT_ORG,
                                               "roles": ["relying", "admin"]})
        assert (p.kind, p.client_id, p.roles, p.operator) == ("clerk", "dept-window", ("relying",), "王芳")
        client = signin.client_of(ctx, session, p)
        assert client.client_id == "dept-window" and client.roles == frozenset({"relying"})
        assert client.org_code == DEPT_ORG


def test_claim_and_role_names_come_from_the_settings(ctx_factory, settings_factory, make_api_client):
    ctx = ctx_factory(settings_factory("sh", oidc_claims={"org_code": "orgCode", "name": "realName",
                                                          "roles": "groups"},
                                       oidc_roles={"窗口人员": "relying"}))
    with ctx.unit_of_work() as session:
        session.add(ApiClient(client_id="w", name="窗口", region="sh", org_code=DEPT_ORG,
                              roles=["relying"], licence_types=[], key_hash="sha256:x" + "0" * 60))
    with ctx.unit_of_work() as session:
        p = signin.principal_of(ctx, session, {"sub": "u2", "realName": "李四", "orgCode": DEPT_ORG,
                                               "groups": "窗口人员"})
    assert (p.client_id, p.roles, p.operator) == ("w", ("relying",), "李四")


@pytest.mark.parametrize("claims", [
    {"sub": "x", "org_code": "91310000MA0000099X", "roles": ["relying"]},  # no client of that org
    {"sub": "x", "org_code": DEPT_ORG, "roles": ["issuer"]},                 # not a role it holds
    {"sub": "x", "org_code": DEPT_ORG},                                      # no roles at all
    {"sub": "x", "name": "无证件号"},                                        # neither org nor ID
    {"sub": "x", "id_number": "310101199003071231"},                         # bad check digit
])
def test_unmapped_people_are_refused(ctx, dept, claims):
    with ctx.unit_of_work() as session, pytest.raises(signin.NotMapped) as refused:
        signin.principal_of(ctx, session, claims)
    assert refused.value.message_zh and refused.value.message_en


def test_citizen_id_number_is_in_no_id(ctx):
    with ctx.unit_of_work() as session:
        p = signin.principal_of(ctx, session, {"sub": ID_NUMBER, "id_number": ID_NUMBER, "name": "张三"})
    ref = audit.holder_reference(ctx, ID_NUMBER)
    assert p.kind == "citizen" and p.client_id == f"oidc-citizen-{ref[:24]}" and p.holder_code == ID_NUMBER
    assert ID_NUMBER not in p.client_id and p.operator is None


def test_a_disabled_department_client_ends_its_sessions(ctx, dept):
    with ctx.unit_of_work() as session:
        p = signin.principal_of(ctx, session, {"sub": "u", "name": "王芳", "org_code": DEPT_ORG,
                                               "roles": ["relying"]})
        session.get(ApiClient, "dept-window").disabled = True
    with ctx.unit_of_work() as session:
        assert signin.client_of(ctx, session, p) is None


def test_a_login_is_taken_once_and_expired_rows_go(ctx):
    now = ctx.now()
    with ctx.unit_of_work() as session:
        token = sessions.create(session, sessions.LOGIN, {"state": "s"}, now=now,
                                expires_at=now + timedelta(minutes=10))
        old = sessions.create(session, sessions.ACTIVE, {}, now=now, expires_at=now + timedelta(seconds=1))
    with ctx.unit_of_work() as session:
        assert sessions.find(session, token, sessions.ACTIVE) is None  # another stage
        assert sessions.take(session, token, sessions.LOGIN).data == {"state": "s"}
    with ctx.unit_of_work() as session:
        assert sessions.take(session, token, sessions.LOGIN) is None
        sessions.create(session, sessions.LOGIN, {}, now=now + timedelta(seconds=2),
                        expires_at=now + timedelta(minutes=1))
        assert sessions.find(session, old, sessions.ACTIVE) is None  # purged on the next create


def _session_for(ctx, claims, *, minutes: float = 30) -> str:
    now = ctx.now()
    with ctx.unit_of_work() as session:
        p = signin.principal_of(ctx, session, claims)
        return sessions.create(session, sessions.ACTIVE, signin.as_data(ctx, p), now=now,
                               expires_at=now + timedelta(minutes=minutes))


def test_the_api_takes_the_session_only_with_the_pages_header(ctx, client, dept, clock):
    token = _session_for(ctx, {"sub": "u", "name": "王芳", "org_code": DEPT_ORG, "roles": ["relying"]})
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/api/v1/me").status_code == 401
    me = client.get("/api/v1/me", headers={SESSION_HEADER: "1"})
    assert me.status_code == 200 and me.json()["operator"] == "王芳"
    assert me.json()["client_id"] == "dept-window"
    clock.advance(minutes=31)
    ended = client.get("/api/v1/me", headers={SESSION_HEADER: "1"})
    assert ended.status_code == 401 and ended.json()["type"].endswith(":session-expired")
    assert ended.json()["title_zh"] and ended.json()["title_en"]


def _columns(ctx, table: str) -> list[bytes]:
    from sqlalchemy import text

    with ctx.engine.connect() as conn:
        return [value if isinstance(value, bytes) else str(value).encode("utf-8")
                for row in conn.execute(text(f"SELECT * FROM {table}")) for value in row]


def test_a_citizen_session_keeps_no_id_number_in_clear(ctx, client):
    token = _session_for(ctx, {"sub": "c1", "name": "张三", "id_number": ID_NUMBER.lower()})
    values = _columns(ctx, "web_sessions")
    assert values and not any(ID_NUMBER.encode() in v for v in values), values
    # ...yet the session is the holder: /me masks the number, the wallet lists the licences.
    client.cookies.set(SESSION_COOKIE, token)
    me = client.get("/api/v1/me", headers={SESSION_HEADER: "1"})
    assert me.status_code == 200 and me.json()["holder_code_masked"] == "3101**********1230"
    assert ID_NUMBER not in me.text
    assert client.get("/api/v1/holders/me/licences", headers={SESSION_HEADER: "1"}).status_code == 200


def test_a_sealed_id_number_opens_only_in_its_own_session(ctx, client):
    from license_svc.auth.models import WebSession

    mine = _session_for(ctx, {"sub": "c1", "id_number": ID_NUMBER})
    other = _session_for(ctx, {"sub": "c2", "id_number": "11010519491231002X"})
    with ctx.unit_of_work() as session:
        rows = {r.data["client_id"]: r for r in session.query(WebSession)}
        stolen = next(r for r in rows.values() if r.id_hash == sessions._hash(mine))
        target = next(r for r in rows.values() if r.id_hash == sessions._hash(other))
        target.data = dict(target.data, holder_code_sealed=stolen.data["holder_code_sealed"])
    client.cookies.set(SESSION_COOKIE, other)
    moved = client.get("/api/v1/me", headers={SESSION_HEADER: "1"})
    assert moved.status_code == 401 and moved.json()["type"].endswith(":session-expired")
    client.cookies.set(SESSION_COOKIE, mine)
    assert client.get("/api/v1/me", headers={SESSION_HEADER: "1"}).status_code == 200


def test_audit_entries_of_the_session_client_carry_the_person(ctx, dept):
    set_operator("dept-window", "王芳")
    try:
        with ctx.unit_of_work() as session:
            mine = audit.record(ctx, session, action="licence.verify", client=dept,
                                operator="body claims someone else")
        with ctx.unit_of_work() as session:
            idx = audit.index_of(session, mine)
            assert audit.get_entry(session, idx).entry["actor"]["operator"] == "王芳"
    finally:
        set_operator("", None)
    with ctx.unit_of_work() as session:
        plain = audit.record(ctx, session, action="licence.verify", client=dept)
    with ctx.unit_of_work() as session:
        assert audit.get_entry(session, audit.index_of(session, plain)).entry["actor"]["operator"] is None


def test_settings(tmp_path):
    with pytest.raises(ConfigError):
        Settings(env="production", demo_sign_in=True, data_dir=tmp_path)
    assert not Settings(env="production", data_dir=tmp_path).demo_sign_in_enabled
    assert Settings(data_dir=tmp_path).demo_sign_in_enabled
    with pytest.raises(ConfigError):  # an issuer needs the client and the callback
        Settings(oidc_issuer="https://idp.example", data_dir=tmp_path)
    with pytest.raises(ConfigError):  # production signs in over https only
        Settings(env="production", oidc_issuer="http://idp.example", oidc_client_id="c",
                 oidc_redirect_url="https://node.example/auth/callback", data_dir=tmp_path)
    with pytest.raises(ConfigError):
        Settings(oidc_claims={"idcard": "x"}, data_dir=tmp_path)
    s = load_settings({"LICENSE_SVC_OIDC_ISSUER": "https://idp.example/",
                       "LICENSE_SVC_OIDC_CLIENT_ID": "license-svc-js",
                       "LICENSE_SVC_OIDC_REDIRECT_URL": "https://js.example/auth/callback",
                       "LICENSE_SVC_OIDC_CLAIMS": "id_number=idCardNo, org_code=orgCode",
                       "LICENSE_SVC_OIDC_ROLES": "clerk=relying,officer=issuer",
                       "LICENSE_SVC_SESSION_MAX_MINUTES": "60", "LICENSE_SVC_DEMO_SIGN_IN": "false",
                       "LICENSE_SVC_DATA_DIR": str(tmp_path)})
    assert s.oidc_issuer == "https://idp.example" and s.oidc_enabled
    assert s.oidc_claim("id_number") == "idCardNo" and s.oidc_claim("name") == "name"
    assert s.oidc_roles == {"clerk": "relying", "officer": "issuer"}
    assert s.session_max_minutes == 60 and s.demo_sign_in is False


def test_sign_in_markup(ctx_factory, settings_factory):
    from fastapi.testclient import TestClient

    from license_svc.web import create_app

    with TestClient(create_app(ctx=ctx_factory(settings_factory("sh")))) as dev:
        page = dev.get("/verify").text
        assert "演示登录 / demo sign-in" in page and 'id="login-form"' in page
        assert 'id="oidc-login"' not in page
        assert dev.get("/auth/login").status_code == 404  # no provider configured
    configured = settings_factory("sh", oidc_issuer="https://idp.example", oidc_client_id="c",
                                  oidc_redirect_url="https://sh.example/auth/callback", demo_sign_in=False)
    with TestClient(create_app(ctx=ctx_factory(configured))) as prod_like:
        page = prod_like.get("/verify").text
        assert 'href="/auth/login?next=/verify"' in page
        assert 'id="login-form"' not in page and "演示登录" not in page
