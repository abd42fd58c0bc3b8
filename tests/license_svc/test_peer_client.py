"""The one client for other nodes (license_svc.federation.peer_client): the size cap holds for the
verify status fetchers too, no redirects, ETags, one kept-alive connection, and the context owns
and closes it."""

import http.server
import json
import threading

import httpx
import pytest

from license_svc.federation.peer_client import MAX_BODY, PeerClient, PeerError
from license_svc.verify_service import http_fetchers

PEERS = {"sh": "http://sh.peer.test"}


def endless(seen: list):
    """A body that never ends, counting what the client pulled."""
    def chunks():
        while True:
            seen.append(1)
            yield b"x" * 65536
    return chunks()


def test_the_verify_fetcher_refuses_a_body_over_the_cap_and_stops_reading():
    pulled: list = []
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=endless(pulled)))
    with PeerClient(transport=transport) as client:
        fetch_list, fetch_response = http_fetchers(client, PEERS)
        with pytest.raises(PeerError, match="larger than"):
            fetch_response("sh", "1.2.156.3005.2.x")
        assert len(pulled) * 65536 <= MAX_BODY + 2 * 65536  # stopped at the cap, not at the end
        with pytest.raises(PeerError, match="larger than"):
            fetch_list("sh", "sh-11310000MB0000010A-0001")


def test_a_body_at_the_cap_is_read():
    body = json.dumps({"pad": "x" * (1000 - 11)}).encode()
    assert len(body) == 1000
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    with PeerClient(transport=transport, max_body=1000) as client:
        assert client.get_json("http://sh.peer.test/a") == {"pad": "x" * 989}
    with PeerClient(transport=transport, max_body=999) as client, pytest.raises(PeerError):
        client.get_json("http://sh.peer.test/a")


def test_redirects_and_errors_are_not_followed():
    def handler(request):
        if request.url.path == "/moved":
            return httpx.Response(302, headers={"Location": "http://elsewhere.test/"})
        return httpx.Response(503)
    with PeerClient(transport=httpx.MockTransport(handler)) as client:
        for path in ("/moved", "/down"):
            with pytest.raises(PeerError, match="HTTP"):
                client.get_json(f"http://sh.peer.test{path}")


def test_etag_sent_and_not_modified_answered():
    def handler(request):
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, content=b"{}", headers={"ETag": '"v1"'})
    with PeerClient(transport=httpx.MockTransport(handler)) as client:
        first = client.get("http://sh.peer.test/list")
        assert (first.status, first.etag) == (200, '"v1"')
        again = client.get("http://sh.peer.test/list", etag=first.etag)
        assert (again.status, again.body, again.etag) == (304, b"", '"v1"')


def test_status_fetches_reuse_one_connection():
    """`httpx.get` per lookup opened a connection (and a TLS handshake) each time."""
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def do_GET(self):
            seen.append(self.client_address)
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with PeerClient() as client:
            fetch_list, fetch_response = http_fetchers(
                client, {"sh": f"http://127.0.0.1:{server.server_address[1]}"})
            for _ in range(3):
                assert fetch_response("sh", "1.2.156.3005.2.x") == {"ok": True}
            assert fetch_list("sh", "sh-11310000MB0000010A-0001") == {"ok": True}
    finally:
        server.shutdown()
        server.server_close()
    assert len(seen) == 4 and len(set(seen)) == 1


def test_the_context_owns_one_client_and_the_app_closes_it(ctx):
    from fastapi.testclient import TestClient

    from license_svc.verify_service import status_cache
    from license_svc.web import create_app

    assert ctx.peer_client is ctx.peer_client
    assert status_cache(ctx) is status_cache(ctx)
    with TestClient(create_app(ctx=ctx)):
        used = ctx.peer_client
    assert used.closed  # the app's shutdown closed the context
    assert ctx.peer_client is not used and not ctx.peer_client.closed  # reopens on use
