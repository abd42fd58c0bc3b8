"""Screenshots of the pages for README.md and docs/pages.md, at phone (390×844) and desktop
(1280×900) width, taken from a live development server with demo data (the same set-up as the
browser tests).  One command, from the repository root:

    PYTHONPATH=$PWD .venv/bin/python -m tests.web.screenshots

writes docs/screenshots/<page>-phone.png and <page>-desktop.png for index, login, wallet,
verify-passed, verify-failed and console, and wallet-log-phone.png (the access log as cards):
one screen each, where the person looks.  Another folder: give it as the argument.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import httpx

from tests.web.browser import MATTER, PHONE, VIEWPORT, launch, new_page, sign_in, tampered, unavailable, write
from tests.web.live_server import live_server

SIZES = {"phone": PHONE, "desktop": VIEWPORT}


def _licence(srv, client_id: str, type_name: str) -> dict:
    licences = httpx.get(f"{srv.url}/api/v1/holders/me/licences", headers=srv.auth(client_id)).json()
    return next(lic for lic in licences["licences"]
                if lic["type_name"] == type_name and lic["status"] == "active" and lic["algorithm"] == "sm2")


def _save(page, path: Path, at: str | None) -> None:
    """One screen, where the person looks (the report, the QR code, the access log): the
    files stay small, and a phone page is many screens of cards."""
    from PIL import Image

    if at:   # once the page's own smooth scroll is over
        page.wait_for_timeout(600)
        page.evaluate("(sel) => window.scrollTo(0, document.querySelector(sel)"
                      ".getBoundingClientRect().top + window.scrollY - 8)", at)
    page.screenshot(path=str(path))
    # 256 colours: a third of the bytes, no visible change for flat UI and text
    Image.open(path).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)


def take(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    shots = []
    with tempfile.TemporaryDirectory() as tmp, live_server(Path(tmp)) as srv, sync_playwright() as p:
        tmp = Path(tmp)
        driving = _licence(srv, "sh-citizen", "机动车驾驶证")
        pdf = httpx.get(f"{srv.url}/api/v1/licences/{driving['identifier']}/pdf",
                        headers=srv.auth("sh-issuer-traffic")).content
        holder = next(c for c in json.loads((srv.ctx.settings.keys_dir / "clients.json")
                                            .read_text("utf-8")) if c["client_id"] == "sh-citizen")
        # a department's retrieval, so the holder's log shows one besides the demo data's
        httpx.post(f"{srv.url}/api/v1/retrievals", headers=srv.auth("sh-relying"), json={
            "holder_code": holder["holder_code"], "holder_code_type": holder["holder_code_type"], "licence_type": "driving_licence", "matter_code": MATTER,
            "licence_id": driving["identifier"], "want": "data", "operator": "李经办",
            "legal_basis": "《中华人民共和国行政许可法》第三十四条"})
        genuine, forged = write(tmp / "驾驶证.pdf", pdf), write(tmp / "驾驶证-篡改.pdf", tampered(pdf))
        browser = launch(p)

        def shot(page, name: str, size: str, at: str | None = None) -> None:
            path = out / f"{name}-{size}.png"
            _save(page, path, at)
            shots.append(path)

        for size, viewport in SIZES.items():
            context, page = new_page(browser, viewport)
            page.goto(srv.url + "/")
            shot(page, "index", size)
            page.goto(srv.url + "/wallet")
            shot(page, "login", size)

            sign_in(page, srv.url, "/wallet", srv.key("sh-citizen"))
            page.locator(f'article.licence[data-identifier="{driving["identifier"]}"] .present-btn').click()
            page.wait_for_function("() => { const i = document.getElementById('qr');"
                                   " return i.complete && i.naturalWidth > 0; }")
            page.wait_for_selector("#access-log tbody tr")
            shot(page, "wallet", size, at="#present")
            if size == "phone":   # a desktop shows it under the QR code
                shot(page, "wallet-log", size, at="section:has(#access-log)")
            context.close()

            context, page = new_page(browser, viewport)
            sign_in(page, srv.url, "/verify", srv.key("sh-relying"))
            for name, file in (("passed", genuine), ("failed", forged)):
                page.set_input_files("#file", str(file))
                page.click("#file-form button[type=submit]")
                page.wait_for_selector("#report:not([hidden])")
                page.wait_for_function("() => document.getElementById('busy').hidden")
                shot(page, f"verify-{name}", size, at="#report")
            context.close()

            context, page = new_page(browser, viewport)
            sign_in(page, srv.url, "/console", srv.key("sh-issuer-amr"))
            page.wait_for_selector("#recent tbody tr")
            shot(page, "console", size)
            context.close()
        browser.close()
    return shots


if __name__ == "__main__":
    why = unavailable()
    if why:
        sys.exit(why)
    for path in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path, f"{path.stat().st_size // 1024} KB")
