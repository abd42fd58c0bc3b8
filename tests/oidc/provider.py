"""The local identity provider of the sign-in tests: tests/oidc/provider.mjs (panva's
oidc-provider, installed by `npm ci --prefix tests/oidc`) as a Node process on 127.0.0.1 at a
free port, waited for with a bound and stopped by its PID.

    with oidc_provider(redirect_uri, post_logout_uri) as idp:
        idp.issuer, idp.client_id, idp.client_secret
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "provider.mjs"
START_SECONDS = 20


def unavailable() -> str | None:
    """Why the provider cannot run here, or None.  Node missing: skip; Node present but the
    package not installed: that is a broken checkout, said by the failing test."""
    if shutil.which("node") is None:
        return "node is not installed (the local OpenID provider runs on Node)"
    return None


@dataclass
class Provider:
    issuer: str
    client_id: str
    client_secret: str
    process: subprocess.Popen


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def oidc_provider(redirect_uri: str, post_logout_redirect_uri: str, *, id_token_ttl: int = 3600):
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError("tests/oidc/node_modules is missing: run `npm ci --prefix tests/oidc`")
    port = free_port()
    client_id, secret = "license-svc-test", secrets.token_urlsafe(32)
    env = dict(os.environ, PORT=str(port), CLIENT_ID=client_id, CLIENT_SECRET=secret,
               REDIRECT_URI=redirect_uri, POST_LOGOUT_REDIRECT_URI=post_logout_redirect_uri,
               ID_TOKEN_TTL=str(id_token_ttl), NODE_ENV="test")
    proc = subprocess.Popen(["node", str(SCRIPT)], cwd=HERE, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the OpenID provider exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(issuer + "/.well-known/openid-configuration", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the OpenID provider did not start in time")
            time.sleep(0.1)
        yield Provider(issuer, client_id, secret, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()
