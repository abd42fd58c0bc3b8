"""One refresh interval, said one way: the code's default (30 s), what the wallet and the home
page tell people, and what the docs say; and a code lives 60 s (EP1_MAX_LIFETIME) wherever that
is said."""

import re
from pathlib import Path

from formats.qr_claims import EP1_MAX_LIFETIME
from license_svc.web.pages.presentation import DEFAULT_REFRESH_SECONDS

ROOT = Path(__file__).resolve().parents[2]


def test_pages_and_docs_say_the_interval_the_code_uses(client):
    assert (DEFAULT_REFRESH_SECONDS, EP1_MAX_LIFETIME) == (30, 60)
    wallet = client.get("/wallet").text
    assert f'data-refresh-seconds="{DEFAULT_REFRESH_SECONDS}"' in wallet
    assert f'<span id="refresh-interval">{DEFAULT_REFRESH_SECONDS}</span> 秒一换' in wallet
    assert f'<span id="code-lifetime">{EP1_MAX_LIFETIME}</span> 秒内有效' in wallet
    assert f"每 {DEFAULT_REFRESH_SECONDS} 秒更新的亮证码" in client.get("/").text
    for page in ("docs/pages.md", "docs/verification.md", "docs/formats.md"):
        text = (ROOT / page).read_text("utf-8")
        assert not re.search(r"each minute|every minute|每分钟", text), page
    assert f"every **{DEFAULT_REFRESH_SECONDS} s**" in (ROOT / "docs/pages.md").read_text("utf-8")
    assert f"a new code every {DEFAULT_REFRESH_SECONDS} s, each valid {EP1_MAX_LIFETIME} s" in \
        (ROOT / "docs/verification.md").read_text("utf-8")
