"""Sign-in on the pages through a real OpenID provider (panva's oidc-provider on Node, started
locally): the code flow end to end with a real HTTP client following redirects, the session
cookie and its CSRF header, a clerk's name recorded as `operator` in the holder's access log,
a citizen's own licences, an officer's console list, logout at the provider, and expiry.
Tampered ID tokens: tests/oidc/test_id_token.py; the browser: tests/oidc/test_signin_browser.py."""

from __future__ import annotations

import re
import time
from urllib.parse import urljoin

import httpx
from sqlalchemy import text

from tests.oidc.conftest import (CITIZEN, CLERK, CLERK_NAME, OFFICER, SESSION, browser_client,
                                 login_until_callback, sign_in, skip_unless_node)

skip_unless_node()


def test_clerk_signs_in_with_the_code_flow(stack):
    with browser_client() as http:
        page, flow = sign_in(http, stack.url, CLERK, "/verify")
        assert page.status_code == 200 and str(page.url) == stack.url + "/verify"
        # The flow went through the provider and back, with PKCE, state and nonce.
        auth = next(r for r in flow if r.url.path == "/auth")
        assert {"code_challenge", "state", "nonce"} <= set(auth.url.params)
        assert auth.url.params["code_challenge_method"] == "S256"
        callback = next(r for r in flow if r.url.path == "/auth/callback")
        cookie = callback.headers["set-cookie"]
        assert cookie.startswith("license_svc_session=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie

        me = http.get(stack.url + "/api/v1/me", headers=SESSION)
        assert me.status_code == 200, me.text
        body = me.json()
        assert body["client_id"] == "js-relying" and body["roles"] == ["relying"]
        assert body["operator"] == CLERK_NAME and body["session_expires_at"]


def test_session_cookie_counts_only_with_the_pages_header(stack):
    with browser_client() as http:
        sign_in(http, stack.url, CLERK)
        bare = http.get(stack.url + "/api/v1/me")
        assert bare.status_code == 401
        assert http.get(stack.url + "/api/v1/me", headers=SESSION).status_code == 200


def _my_licences(http: httpx.Client, base: str) -> list[dict]:
    mine = http.get(base + "/api/v1/holders/me/licences", headers=SESSION)
    assert mine.status_code == 200, mine.text
    return mine.json()["licences"]


def _access_log(http: httpx.Client, base: str) -> list[dict]:
    log = http.get(base + "/api/v1/holders/me/access-log", headers=SESSION)
    assert log.status_code == 200, log.text
    return log.json()["entries"]


def test_citizen_sees_own_licences(stack):
    with browser_client() as http:
        page, _ = sign_in(http, stack.url, CITIZEN, "/wallet")
        assert str(page.url) == stack.url + "/wallet"
        me = http.get(stack.url + "/api/v1/me", headers=SESSION).json()
        assert me["roles"] == ["citizen"] and me["operator"] is None
        # The ID number is in no id and on no screen: masked, and the client id is a keyed hash.
        assert "310101199003071230" not in str(me) and me["holder_code_masked"] == "3101**********1230"
        licences = _my_licences(http, stack.url)
        assert {"机动车驾驶证", "结婚证"} <= {lic["type_name"] for lic in licences}
        # Nor in the server's session row: it keeps the number encrypted only.
        with stack.srv.ctx.engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM web_sessions")).all()
        assert rows and not any("310101199003071230" in str(value) for row in rows for value in row)
        # A citizen session is no issuer.
        assert http.get(stack.url + "/api/v1/issuers/me/licences", headers=SESSION).status_code == 403


def test_clerk_verification_records_the_clerk_as_operator(stack):
    with browser_client() as citizen:
        sign_in(citizen, stack.url, CITIZEN, "/wallet")
        licence = next(lic for lic in _my_licences(citizen, stack.url)
                       if lic["status"] == "active" and lic["type_name"] == "机动车驾驶证")
        pdf = citizen.get(f"{stack.url}/api/v1/licences/{licence['identifier']}/pdf", headers=SESSION)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        with browser_client() as clerk:
            sign_in(clerk, stack.url, CLERK)
            report = clerk.post(stack.url + "/api/v1/verify", content=pdf.content,
                                headers={**SESSION, "Content-Type": "application/pdf"})
            assert report.status_code == 200, report.text
        log = _access_log(citizen, stack.url)
        verified = [e for e in log if e["action"] == "licence.verify"
                    and e["licence_id"] == licence["identifier"]]
        assert verified, [e["action"] for e in log]
        assert verified[0]["department"]["client_id"] == "js-relying"
        assert verified[0]["department"]["operator"] == CLERK_NAME
        # The same department with its API key (a system): no person, no operator.
        httpx.post(stack.url + "/api/v1/verify", content=pdf.content, timeout=30,
                   headers={**stack.srv.auth("js-relying"), "Content-Type": "application/pdf"})
        latest = _access_log(citizen, stack.url)[0]
        assert latest["action"] == "licence.verify" and latest["department"]["client_id"] == "js-relying"
        assert latest["department"]["operator"] is None


def test_the_pages_session_probe_answers_200_and_the_api_401(stack):
    with browser_client() as http:
        probe = http.get(stack.url + "/auth/session")
        assert probe.status_code == 200 and probe.json() == {"signed_in": False, "ended": False}
        assert http.get(stack.url + "/api/v1/me", headers=SESSION).status_code == 401
        sign_in(http, stack.url, CLERK)
        assert http.get(stack.url + "/auth/session").json() == {"signed_in": True, "ended": False}
        with stack.srv.ctx.unit_of_work() as session:  # the session ends on the server
            session.execute(text("DELETE FROM web_sessions"))
        assert http.get(stack.url + "/auth/session").json() == {"signed_in": False, "ended": True}
        gone = http.get(stack.url + "/api/v1/me", headers=SESSION)
        assert gone.status_code == 401 and gone.json()["type"].endswith(":session-expired")


def test_officer_signs_in_as_the_departments_issuer_client(stack):
    with browser_client() as http:
        sign_in(http, stack.url, OFFICER, "/console")
        me = http.get(stack.url + "/api/v1/me", headers=SESSION).json()
        assert me["client_id"] == "js-issuer-amr" and me["roles"] == ["issuer"]
        issued = http.get(stack.url + "/api/v1/issuers/me/licences", headers=SESSION)
        assert issued.status_code == 200, issued.text


def test_logout_ends_the_session_here_and_at_the_provider(stack):
    with browser_client() as http:
        sign_in(http, stack.url, CLERK)
        assert http.post(stack.url + "/auth/logout").status_code == 403  # not from a page
        out = http.post(stack.url + "/auth/logout", headers=SESSION)
        assert out.status_code == 200 and out.json()["signed_out"] is True
        logout_url = out.json()["logout_url"]
        assert logout_url.startswith(stack.idp.issuer + "/session/end")
        gone = http.get(stack.url + "/api/v1/me", headers=SESSION)
        assert gone.status_code == 401 and gone.json()["type"].endswith(":unauthorized")
        # At the provider: confirm the logout form; it sends the browser back to our home page.
        confirm = http.get(logout_url)
        assert confirm.status_code == 200 and "logout" in confirm.text
        action = re.search(r'<form[^>]*action="([^"]+)"', confirm.text).group(1)
        xsrf = re.search(r'name="xsrf" value="([^"]+)"', confirm.text).group(1)
        home = http.post(urljoin(str(confirm.url), action), data={"xsrf": xsrf, "logout": "yes"})
        assert home.status_code == 200 and str(home.url) == stack.url + "/"
        # Signed out at the provider too: the next sign-in asks for the login again.
        again = http.get(stack.url + "/auth/login", params={"next": "/verify"})
        assert 'name="login"' in again.text


def test_callback_without_a_login_of_this_browser_is_refused(stack):
    with browser_client() as http:
        refused = http.get(stack.url + "/auth/callback", params={"code": "x", "state": "y"})
        assert refused.status_code == 403 and "登录失败" in refused.text
        assert "license_svc_session" not in http.cookies


def test_session_ends_with_the_id_token(make_stack):
    with make_stack(id_token_ttl=3) as short, browser_client() as http:
        sign_in(http, short.url, CLERK)
        me = http.get(short.url + "/api/v1/me", headers=SESSION)
        assert me.status_code == 200
        time.sleep(3.5)
        expired = http.get(short.url + "/api/v1/me", headers=SESSION)
        assert expired.status_code == 401
        assert expired.json()["type"].endswith(":session-expired")
        assert expired.json()["title_zh"].startswith("登录已过期")


def test_session_ends_at_the_configured_maximum(make_stack):
    """An ID token good for an hour, a node that allows 3 s: the node's maximum wins."""
    with make_stack(session_max_minutes=0.05) as capped, browser_client() as http:
        sign_in(http, capped.url, CITIZEN, "/wallet")
        assert http.get(capped.url + "/api/v1/me", headers=SESSION).status_code == 200
        time.sleep(3.5)
        ended = http.get(capped.url + "/api/v1/me", headers=SESSION)
        assert ended.status_code == 401 and ended.json()["type"].endswith(":session-expired")


def test_clerk_retrieval_records_the_clerk_not_what_the_body_claims(stack):
    """免证办 retrieval from a page session: the operator is the signed-in person, even when the
    request body names someone else."""
    with browser_client() as citizen:
        sign_in(citizen, stack.url, CITIZEN, "/wallet")
        licence = next(lic for lic in _my_licences(citizen, stack.url)
                       if lic["status"] == "active" and lic["type_name"] == "机动车驾驶证")
        with browser_client() as clerk:
            sign_in(clerk, stack.url, CLERK)
            resp = clerk.post(stack.url + "/api/v1/retrievals", headers=SESSION, json={
                "holder_code": "310101199003071230", "holder_code_type": "111",
                "licence_type": "driving_licence", "matter_code": "YRD000-003-0001", "want": "data",
                "licence_id": licence["identifier"],
                "legal_basis": "《中华人民共和国行政许可法》第三十四条", "operator": "冒名者"})
            assert resp.status_code == 200, resp.text
        entry = next(e for e in _access_log(citizen, stack.url) if e["action"] == "licence.retrieve")
        assert entry["department"]["client_id"] == "js-relying"
        assert entry["department"]["operator"] == CLERK_NAME


def test_a_person_of_an_unregistered_department_is_refused(stack):
    with browser_client() as http:
        page, _ = sign_in(http, stack.url, "visitor-js")
        assert page.status_code == 403
        assert "91320000MA0000099X" in page.text and "请联系管理员登记" in page.text
        assert http.get(stack.url + "/api/v1/me", headers=SESSION).status_code == 401


def test_behind_https_the_cookies_are_secure(stack):
    """Behind a TLS proxy (X-Forwarded-Proto from 127.0.0.1, which uvicorn trusts): the login
    cookie is Secure and the session cookie is `__Host-` prefixed and Secure."""
    https = {"X-Forwarded-Proto": "https"}
    with httpx.Client(follow_redirects=False, timeout=30) as http:
        start = http.get(stack.url + "/auth/login?next=/verify", headers=https)
        assert start.status_code == 303 and "Secure" in start.headers["set-cookie"]
        http.cookies.clear()
        callback = login_until_callback(http, stack.url + "/auth/login?next=/verify",
                                        stack.url + "/auth/callback")
        done = http.get(callback, headers=https)
        assert done.status_code == 303 and done.headers["location"] == "/verify"
        session_cookie = next(c for c in done.headers.get_list("set-cookie")
                              if c.startswith("__Host-license_svc_session="))
        assert "Secure" in session_cookie and "HttpOnly" in session_cookie
        assert "SameSite=strict" in session_cookie and "Path=/" in session_cookie
