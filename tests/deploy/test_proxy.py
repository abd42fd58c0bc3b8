"""deploy/nginx/license-svc.conf in front of a real service: the README tour over HTTPS with a
self-signed certificate, and the limits the proxy promises (body size, rate, /metrics kept in).

The file under test is the shipped one; only its ports, upstream and certificate paths are
substituted, so a change that breaks the config breaks this test."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.web.live_server import live_server

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "deploy" / "nginx" / "license-svc.conf"
EXAMPLE = REPO / "license_svc" / "licence_types" / "business_licence" / "example.json"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx not installed (.ci/run installs nginx-light)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def _render(tmp: Path, upstream: int, http_port: int, https_port: int, cert: Path, key: Path) -> Path:
    text = CONF.read_text("utf-8")
    for old, new in [("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
                     ("listen 80;", f"listen 127.0.0.1:{http_port};"),
                     ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
                     ("/etc/license-svc/tls/fullchain.pem", str(cert)),
                     ("/etc/license-svc/tls/privkey.pem", str(key))]:
        assert old in text, f"deploy/nginx/license-svc.conf no longer has {old!r}"
        text = text.replace(old, new)
    (tmp / "license-svc.conf").write_text(text, "utf-8")
    main = tmp / "nginx.conf"
    main.write_text(f"""user root;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/license-svc.conf;
}}
""", "utf-8")
    return main


@pytest.fixture
def proxied(tmp_path):
    with live_server(tmp_path / "data") as srv:
        upstream = int(srv.url.rsplit(":", 1)[1])
        http_port, https_port = _free_port(), _free_port()
        cert, key = _self_signed(tmp_path)
        conf = _render(tmp_path, upstream, http_port, https_port, cert, key)
        check = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf)],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        proc = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                    break
                except OSError:
                    assert proc.poll() is None, proc.stderr.read().decode()
                    assert time.monotonic() < deadline, "nginx did not listen"
                    time.sleep(0.1)
            with httpx.Client(base_url=f"https://127.0.0.1:{https_port}",
                              verify=ssl.create_default_context(cafile=str(cert)),
                              timeout=30) as client:
                srv.tls_cert = cert
                yield srv, client, http_port
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_readme_tour_over_https(proxied):
    srv, client, http_port = proxied
    auth = srv.auth("sh-issuer-amr")
    body = EXAMPLE.read_bytes()
    headers = {**auth, "Content-Type": "application/json", "Idempotency-Key": "proxy-tour-1"}
    issued = client.post("/api/v1/licences", content=body, headers=headers)
    assert issued.status_code == 201, issued.text
    ident = issued.json()["identifier"]
    again = client.post("/api/v1/licences", content=body, headers=headers)
    assert again.json()["identifier"] == ident
    pdf = client.get(f"/api/v1/licences/{ident}/pdf", headers=auth)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    status = client.get(f"/api/v1/licences/{ident}/status")
    assert status.status_code == 200
    suspended = client.post(f"/api/v1/licences/{ident}/suspend", headers=auth,
                            json={"reason": "年报核查"})
    assert suspended.status_code == 200, suspended.text
    page = client.get("/verify")
    assert page.status_code == 200 and page.headers["strict-transport-security"]
    plain = httpx.get(f"http://127.0.0.1:{http_port}/verify", follow_redirects=False)
    assert plain.status_code == 301 and plain.headers["location"].startswith("https://")


def test_proxy_keeps_metrics_inside_and_stops_big_bodies(proxied):
    srv, client, _ = proxied
    # A client on another address (127.0.0.3 is loopback too, but not the allowed 127.0.0.1)
    # is refused /metrics by the proxy; the scraper on 127.0.0.1 is not.
    outside = httpx.Client(base_url=str(client.base_url), timeout=30,
                           transport=httpx.HTTPTransport(local_address="127.0.0.3", verify=ssl.create_default_context(
                               cafile=str(srv.tls_cert))))
    with outside:
        assert outside.get("/metrics").status_code == 403
        assert outside.get("/verify").status_code == 200
    assert client.get("/metrics").status_code == 200
    big = client.post("/api/v1/verify", content=b"0" * (6 * 1024 * 1024), headers=srv.auth("sh-relying"))
    assert big.status_code == 413


def test_proxy_rate_limits_the_expensive_routes(proxied):
    srv, client, _ = proxied
    codes = [client.post("/api/v1/verify", content=b"not a document", headers=srv.auth("sh-relying")).status_code
             for _ in range(30)]
    assert 429 in codes, codes
    assert any(c != 429 for c in codes)
