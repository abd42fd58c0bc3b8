"""A real `license-svc serve` for browser tests and the docs' screenshots: a temporary data
directory with its own SQLite database, the development PKI and the development clients and
demo data seeded by the normal start-up (`bootstrap`), uvicorn on 127.0.0.1 at a free port.

    with live_server(refresh_seconds=2) as srv:
        srv.url, srv.ctx, srv.key("sh-citizen")
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from license_svc.bootstrap import bootstrap
from license_svc.config import DEV_KEYS_DIR, Settings
from license_svc.context import AppContext
from license_svc.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class LiveServer:
    url: str
    ctx: AppContext
    keys: dict[str, str]

    def key(self, client_id: str) -> str:
        return self.keys[client_id]

    def auth(self, client_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[client_id]}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_server(data_dir: Path, *, region: str = "sh", refresh_seconds: int = 30,
                port: int | None = None, **settings_overrides):
    """`port`: one chosen beforehand (the sign-in tests register its callback URL with their
    identity provider first); `settings_overrides`: more Settings fields (oidc_*)."""
    settings = Settings(region=region, env="development", data_dir=data_dir, keys_dir=DEV_KEYS_DIR,
                        **settings_overrides)
    ctx = bootstrap(settings)
    app = create_app(ctx=ctx)
    app.state.wallet_refresh_seconds = refresh_seconds
    port = port or _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, log_level="warning"))
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    keys = {c["client_id"]: c["api_key"]
            for c in json.loads((DEV_KEYS_DIR / "clients.json").read_text(encoding="utf-8"))}
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", ctx, keys)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        ctx.close()
