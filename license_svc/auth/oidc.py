"""OpenID Connect relying party (authlib): the province's identity provider signs people in.

authlib's protocol layer builds the requests (RFC 6749 parameters, RFC 7636 S256) and checks
the ID token (joserfc for the JWS, `CodeIDToken` for the claims); the two HTTP calls go through
httpx as every other outbound call of the service does.  Not authlib's httpx client: it
deprecates plain httpx (and says so on every start), and it would add nothing here.

Authorization code flow with PKCE (S256), `state` against a forged callback, `nonce` against a
replayed ID token; the ID token's signature is checked against the provider's JWKS (fetched
from its discovery document, refetched once for an unknown key id) and its `iss`, `aud`, `exp`,
`iat`, `nonce` and `at_hash` by authlib's `CodeIDToken` rules.  Nothing here knows HTTP
requests of our own: the routes (license_svc/web/routes/signin.py) call these functions.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from formats.errors import Kind, ServiceError

TIMEOUT = httpx.Timeout(10.0)
LEEWAY_SECONDS = 60
MAX_DOCUMENT_BYTES = 1 << 20


class SignInFailed(ServiceError):
    """The provider's answer cannot be trusted or used: the person is not signed in."""

    code = "sign-in-failed"
    kind = Kind.FORBIDDEN
    title_zh, title_en = "登录失败", "Sign-in failed"


class ProviderUnavailable(ServiceError):
    code = "identity-provider-unavailable"
    kind = Kind.UNAVAILABLE
    title_zh, title_en = "统一身份认证平台暂时无法访问", "Identity provider unavailable"


@dataclass(frozen=True)
class Login:
    """What the authorization request was sent with, kept server-side until the callback."""

    url: str
    state: str
    nonce: str
    code_verifier: str


class Provider:
    """One identity provider as this node's settings name it; its discovery document and keys
    are fetched on first use and kept (in `ctx.caches`: `provider(ctx)`)."""

    def __init__(self, settings):
        self.issuer = settings.oidc_issuer
        self.client_id, self.client_secret = settings.oidc_client_id, settings.oidc_client_secret
        self.redirect_url, self.scopes = settings.oidc_redirect_url, settings.oidc_scopes
        self._metadata: dict[str, Any] | None = None
        self._jwks: dict[str, Any] | None = None

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            resp = httpx.get(url, timeout=TIMEOUT, follow_redirects=False)
            resp.raise_for_status()
            if len(resp.content) > MAX_DOCUMENT_BYTES:
                raise ValueError("document too large")
            data = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(f"cannot read {url}: {type(exc).__name__}",
                                      f"无法读取统一身份认证平台的 {url}") from exc
        if not isinstance(data, dict):
            raise ProviderUnavailable(f"{url} is not a JSON object", f"{url} 不是 JSON 对象")
        return data

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            data = self._get_json(self.issuer + "/.well-known/openid-configuration")
            if data.get("issuer") != self.issuer:
                # OIDC Discovery §4.3: the document must name the issuer it was fetched for.
                raise ProviderUnavailable(
                    f"discovery document names issuer {data.get('issuer')!r}, not {self.issuer!r}",
                    "统一身份认证平台的发现文档中的签发方与配置不符")
            self._metadata = data
        return self._metadata

    def _keys(self, refresh: bool = False) -> KeySet:
        if self._jwks is None or refresh:
            self._jwks = self._get_json(self.metadata()["jwks_uri"])
        return KeySet.import_key_set(self._jwks)  # type: ignore[arg-type]

    def begin(self) -> Login:
        """A fresh authorization request: the URL to send the browser to, and its secrets."""
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        url = prepare_grant_uri(self.metadata()["authorization_endpoint"], self.client_id, "code",
                                redirect_uri=self.redirect_url, scope=self.scopes, state=state,
                                nonce=nonce, code_challenge=create_s256_code_challenge(verifier),
                                code_challenge_method="S256")
        return Login(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def _token(self, code: str, code_verifier: str) -> dict[str, Any]:
        """The token request (client_secret_basic); the provider's answer as JSON."""
        body = prepare_token_request("authorization_code", code=code, redirect_uri=self.redirect_url,
                                     code_verifier=code_verifier)
        try:
            resp = httpx.post(self.metadata()["token_endpoint"], content=body, timeout=TIMEOUT,
                              auth=(self.client_id, self.client_secret), follow_redirects=False,
                              headers={"Content-Type": "application/x-www-form-urlencoded",
                                       "Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"token endpoint: {type(exc).__name__}",
                                      "无法访问统一身份认证平台的令牌端点") from exc
        try:
            token = resp.json()
        except ValueError:
            token = None
        if not isinstance(token, dict) or resp.status_code >= 500:
            raise ProviderUnavailable(f"token endpoint answered {resp.status_code}",
                                      f"统一身份认证平台的令牌端点返回 {resp.status_code}")
        if resp.status_code != 200 or "error" in token:
            raise SignInFailed(f"the token request was refused: {token.get('error')}",
                               "统一身份认证平台拒绝了授权码")
        return token

    def finish(self, params: dict[str, str], *, state: str, nonce: str,
               code_verifier: str) -> tuple[dict[str, Any], str]:
        """The callback's query → the verified ID token's claims and the raw ID token."""
        if params.get("error"):
            raise SignInFailed(f"the identity provider answered {params['error']}",
                               f"统一身份认证平台拒绝了登录（{params['error']}）")
        if not secrets.compare_digest(params.get("state") or "", state):
            raise SignInFailed("state does not match the login this browser started",
                               "state 参数与本浏览器发起的登录不符，请重新登录")
        if "iss" in params and params["iss"] != self.issuer:  # RFC 9207 mix-up defence
            raise SignInFailed("the response comes from another issuer", "登录响应来自其他签发方")
        if not params.get("code"):
            raise SignInFailed("no authorization code", "缺少授权码")
        token = self._token(params["code"], code_verifier)
        id_token = token.get("id_token")
        if not id_token:
            raise SignInFailed("the token response has no ID token", "令牌响应中没有 ID 令牌")
        return self.validate(id_token, nonce=nonce, access_token=token.get("access_token")), id_token

    def validate(self, id_token: str, *, nonce: str, access_token: str | None = None) -> dict[str, Any]:
        """The claims of `id_token` if the provider signed it for us, for this login, and it is
        current; SignInFailed otherwise (changed signature, unknown key, wrong nonce, aud, iss)."""
        algorithms = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        registry = JWSRegistry(algorithms=[a for a in algorithms if a != "none"])
        try:
            try:
                token = jwt.decode(id_token, self._keys(), registry=registry)
            except InvalidKeyIdError:  # the provider rotated its keys
                token = jwt.decode(id_token, self._keys(refresh=True), registry=registry)
            params: dict[str, Any] = {"nonce": nonce, "client_id": self.client_id}
            if access_token:
                params["access_token"] = access_token
            claims = CodeIDToken(token.claims, token.header,
                                 {"iss": {"essential": True, "values": [self.issuer]}}, params)
            claims.validate(leeway=LEEWAY_SECONDS)
        except (JoseError, ValueError) as exc:  # authlib's claim checks raise joserfc's errors too
            raise SignInFailed(f"the ID token is not valid: {type(exc).__name__}: {exc}",
                               "ID 令牌无效（签名、签发方、受众、随机数或有效期不符）") from exc
        return dict(claims)

    def logout_url(self, post_logout_redirect_url: str, id_token_hint: str | None = None) -> str | None:
        """RP-initiated logout at the provider, or None when it has no end_session_endpoint."""
        endpoint = self.metadata().get("end_session_endpoint")
        if not endpoint:
            return None
        params = {"client_id": self.client_id, "post_logout_redirect_uri": post_logout_redirect_url}
        if id_token_hint:
            params["id_token_hint"] = id_token_hint
        return str(httpx.URL(endpoint, params=params))


def provider(ctx) -> Provider:
    """The node's identity provider (settings.oidc_*), built once per service."""
    return ctx.caches.get(("oidc-provider", ctx.settings.oidc_issuer), lambda: Provider(ctx.settings))
