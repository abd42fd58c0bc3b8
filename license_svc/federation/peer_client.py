"""The one HTTP client for talking to other nodes (trust lists, status answers and lists).

Why one: a peer is another party's server, so every request to it needs the same defences — a
streamed size cap (a peer, or anything in the path, can send an endless body), no redirects (a
peer's answer comes from the address we were configured with, or not at all), timeouts — and
one pool of keep-alive connections, instead of a handshake per status lookup on the
verification path.  The application context owns one (`ctx.peer_client`) and closes it with
itself; the transport is injectable (tests use httpx.MockTransport or real peer apps).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

TIMEOUT = 5.0
MAX_BODY = 8 * 1024 * 1024


class PeerError(Exception):
    """The peer did not give a usable answer: unreachable, an unexpected status, too large."""


@dataclass(frozen=True)
class PeerResponse:
    status: int  # 200 or 304
    body: bytes
    etag: str | None


class PeerClient:
    def __init__(self, *, transport: httpx.BaseTransport | None = None, timeout: float = TIMEOUT,
                 max_body: int = MAX_BODY):
        self.max_body = max_body
        self._http = httpx.Client(transport=transport, timeout=timeout, follow_redirects=False)

    def get(self, url: str, *, params: dict | None = None, etag: str | None = None,
            timeout: float | None = None) -> PeerResponse:
        """GET `url`, sending `If-None-Match: etag` when given; 200 or 304, PeerError otherwise."""
        headers = {"Accept": "application/json"}
        if etag:
            headers["If-None-Match"] = etag
        extra = {} if timeout is None else {"timeout": timeout}
        try:
            with self._http.stream("GET", url, params=params, headers=headers, **extra) as r:
                if r.status_code == 304:
                    return PeerResponse(304, b"", r.headers.get("etag") or etag)
                if r.status_code != 200:
                    raise PeerError(f"HTTP {r.status_code}")
                body = bytearray()
                for chunk in r.iter_bytes():
                    body += chunk
                    if len(body) > self.max_body:
                        raise PeerError(f"response larger than {self.max_body} bytes")
                return PeerResponse(200, bytes(body), r.headers.get("etag"))
        except httpx.HTTPError as exc:
            raise PeerError(f"{exc.__class__.__name__}: {exc}"[:300]) from None

    def get_json(self, url: str, *, params: dict | None = None,
                 timeout: float | None = None) -> Any:
        response = self.get(url, params=params, timeout=timeout)
        if response.status != 200:
            raise PeerError(f"HTTP {response.status} without a body")
        try:
            return json.loads(response.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PeerError(f"not JSON: {exc}"[:300]) from None

    def post_json(self, url: str, body: bytes, *, headers: dict[str, str],
                  timeout: float | None = None) -> tuple[int, Any]:
        """POST `body`; (status, parsed JSON answer) for any status (a refusal is an answer),
        with the same cap as GET.  PeerError when unreachable or the answer is not JSON."""
        extra = {} if timeout is None else {"timeout": timeout}
        try:
            with self._http.stream("POST", url, content=body, headers=headers, **extra) as r:
                data = bytearray()
                for chunk in r.iter_bytes():
                    data += chunk
                    if len(data) > self.max_body:
                        raise PeerError(f"response larger than {self.max_body} bytes")
                status = r.status_code
        except httpx.HTTPError as exc:
            raise PeerError(f"{exc.__class__.__name__}: {exc}"[:300]) from None
        try:
            return status, json.loads(bytes(data))
        except (ValueError, UnicodeDecodeError) as exc:
            raise PeerError(f"HTTP {status}, not JSON: {exc}"[:300]) from None

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "PeerClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
