"""Screenshots of the pages for docs/pages.md, taken from a live development server with demo
data (the same set-up as the browser tests):

    python -m tests.web.screenshots docs/images

writes page-index.png, page-login.png, page-wallet.png, page-verify-passed.png,
page-verify-failed.png and page-console.png.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import httpx

from tests.web.browser import MATTER, launch, new_page, sign_in, tampered, unavailable, write
from tests.web.live_server import live_server


def _licence(srv, client_id: str, type_name: str) -> dict:
    licences = httpx.get(f"{srv.url}/api/v1/holders/me/licences", headers=srv.auth(client_id)).json()
    return next(lic for lic in licences["licences"]
                if lic["type_name"] == type_name and lic["status"] == "active" and lic["algorithm"] == "sm2")


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
        browser = launch(p)

        def shot(page, name: str) -> None:
            from PIL import Image

            path = out / f"page-{name}.png"
            page.screenshot(path=str(path), full_page=True)
            # 256 colours: a third of the bytes, no visible change for flat UI and text
            Image.open(path).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)
            shots.append(path)

        context, page = new_page(browser)
        page.goto(srv.url + "/")
        shot(page, "index")
        page.goto(srv.url + "/wallet")
        shot(page, "login")

        sign_in(page, srv.url, "/wallet", srv.key("sh-citizen"))
        page.locator(f'article.licence[data-identifier="{driving["identifier"]}"] .present-btn').click()
        page.wait_for_function("() => { const i = document.getElementById('qr');"
                               " return i.complete && i.naturalWidth > 0; }")
        page.wait_for_selector("#access-log tbody tr")
        shot(page, "wallet")
        context.close()

        context, page = new_page(browser)
        sign_in(page, srv.url, "/verify", srv.key("sh-relying"))
        for name, data in (("passed", pdf), ("failed", tampered(pdf))):
            page.set_input_files("#file", str(write(tmp / f"驾驶证-{name}.pdf", data)))
            page.click("#file-form button[type=submit]")
            page.wait_for_selector("#report:not([hidden])")
            page.wait_for_function("() => document.getElementById('busy').hidden")
            shot(page, f"verify-{name}")
        context.close()

        context, page = new_page(browser)
        sign_in(page, srv.url, "/console", srv.key("sh-issuer-amr"))
        page.wait_for_selector("#recent tbody tr")
        shot(page, "console")
        context.close()
        browser.close()
    return shots


if __name__ == "__main__":
    why = unavailable()
    if why:
        sys.exit(why)
    for path in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")):
        print(path)
