"""What the browser tests and the docs' screenshot script share: launching Debian's Chromium
through Playwright, signing in on a page, reading a QR code off the screen (at half size, as a
scanner at the counter would see it), a tampered copy of a licence PDF, whether a page fits a
phone's width, and the console's ids for its form inputs."""

from __future__ import annotations

import io
import re
from pathlib import Path

from tests.web.live_server import CHROMIUM, CHROMIUM_ARGS

VIEWPORT = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}   # the phone width the pages are laid out for
MATTER = "310000-000-0001"


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


def skip_module_unless_browser() -> None:
    """At the top of a browser test module: skip it where Chromium or Playwright is missing,
    and in the PostgreSQL pass (the live servers of these tests run on their own SQLite)."""
    import os

    import pytest

    why = unavailable()
    if why is None and os.environ.get("LICENSE_SVC_TEST_DATABASE_URL"):
        why = "browser tests run against their own SQLite server, in the SQLite pass"
    if why:
        pytest.skip(why, allow_module_level=True)


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def new_page(browser, viewport=VIEWPORT):
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  device_scale_factor=1)
    return context, context.new_page()


def sign_in(page, base: str, path: str, api_key: str) -> None:
    page.goto(base + path)
    page.fill("#api-key", api_key)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#identity:not([hidden])")


def read_qr(png: bytes) -> list[str]:
    """Every QR code zxing-cpp finds in a screenshot."""
    import zxingcpp
    from PIL import Image

    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)),
                                                  formats=zxingcpp.BarcodeFormat.QRCode)]


def tampered(pdf: bytes) -> bytes:
    """One byte changed inside the signed part of the file (in the binary comment after the
    header, so the file still parses): the signature no longer covers what the file says."""
    ranges = list(re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf))
    first_gap = int(ranges[-1].group(2))
    i = pdf.index(b"\n%", 1) + 2
    assert i < first_gap, "the edit must fall inside the signed bytes"
    return pdf[:i] + bytes([pdf[i] ^ 0x01]) + pdf[i + 1:]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# Every visible element whose box reaches outside [0, viewport width], as "tag#id.class: left–right".
# A function, not an expression: the pages' CSP forbids eval.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const node of document.querySelectorAll("body *")) {
    const r = node.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right > width + 0.5 || r.left < -0.5) {
      const name = node.tagName.toLowerCase() + (node.id ? "#" + node.id : "")
        + (typeof node.className === "string" && node.className ? "." + node.className.split(" ").join(".") : "");
      out.push(`${name}: ${Math.round(r.left)}–${Math.round(r.right)}`);
    }
  }
  return out;
}"""


def assert_fits(page, what: str) -> None:
    page.wait_for_timeout(100)   # let a MutationObserver's labelling and a relayout settle
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: the document is {width} px wide"
    assert page.evaluate(OVERFLOWING) == [], what


def half_size_read(page) -> tuple[list[str], str | None]:
    """What zxing-cpp reads from a screenshot of the phone's screen at half its size, and the
    cti the page says it shows (taken in the same breath, in case the code was just replaced)."""
    from PIL import Image

    cti = page.get_attribute("#qr", "data-cti")
    shot = Image.open(io.BytesIO(page.screenshot(animations="disabled")))
    assert shot.width == PHONE["width"]
    half = shot.resize((shot.width // 2, shot.height // 2))
    out = io.BytesIO()
    half.save(out, "PNG")
    return read_qr(out.getvalue()), cti


def shown_qr(page) -> tuple[str, str]:
    """The text and cti of the QR code the page shows, read off a half-size screenshot."""
    page.wait_for_function("() => { const i = document.getElementById('qr');"
                           " return i.complete && i.naturalWidth > 0 && !!i.dataset.cti; }")
    page.locator(".qr-box").scroll_into_view_if_needed()
    for _ in range(6):
        texts, cti = half_size_read(page)
        if len(texts) == 1 and page.get_attribute("#qr", "data-cti") == cti:
            return texts[0], cti
        page.wait_for_timeout(300)
    raise AssertionError(f"no single QR code read from the half-size screenshot: {texts}")


def console_field(pointer: str) -> str:
    """The id console.js gives the input of a request pointer."""
    return "#fld" + "".join(c if c.isalnum() else "-" for c in pointer)


def api(server, method: str, path: str, client_id: str, **kwargs):
    """A call to the live server's API as one of its dev clients (set-up steps of a browser
    story: suspend a licence, list a holder's licences)."""
    import httpx

    return httpx.request(method, server.url + path, headers=server.auth(client_id), timeout=30,
                         **kwargs)
