"""The HTML report: self-contained, Chinese, and every value from the input escaped."""

from datetime import datetime, timezone
from html.parser import HTMLParser

from hypothesis import given, settings, strategies as st

from verification.html import to_html
from verification.report import Report

AT = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)


class _Scan(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)


def _scan(page: str) -> _Scan:
    s = _Scan()
    s.feed(page)
    return s


def test_verdict_checks_and_details_in_chinese():
    r = Report(subject="qr-el1")
    r.add("el1.signature", True, "SM2-SM3")
    r.add("status.licence", False, "证照已撤销 / licence revoked", failure="REVOKED")
    r.licence.update({"id": "1.2.156.3005.2.X", "h": "上海示例科技有限公司"})
    r.signer.update({"org_name": "上海市市场监督管理局", "region": "sh"})
    page = to_html(r, generated_at=AT)
    assert page.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in page
    assert "验证失败" in page and "已撤销" in page and "REVOKED" in page
    assert "证照标识" in page and "持证主体" in page and "上海市市场监督管理局" in page
    assert "✔ 通过" in page and "✘ 未通过" in page and AT.isoformat() in page
    assert "证照码签名值<br>" in page and "证照状态<br>" in page  # each check's Chinese title


def test_indeterminate_is_marked_as_such():
    r = Report(subject="not-a-licence")
    r.add("qr.licence_code", False, "不是电子证照二维码", failure="SIGNED_DATA_NOT_FOUND", indeterminate=True)
    page = to_html(r)
    assert "无法确定" in page and "非电子证照二维码" in page and "未找到被签名数据" in page


def test_self_contained_no_scripts_no_external_resources():
    r = Report(subject="pdf")
    r.add("pdf.structure", True, "ok")
    scan = _scan(to_html(r))
    assert "script" not in scan.tags and "img" not in scan.tags and "link" not in scan.tags
    assert not [v for k, v in scan.attrs if k in ("src", "href")]


HOSTILE = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "</td></tr></table>",
           "' onmouseover='x", "&lt;already&gt;"]


def test_hostile_values_are_escaped_everywhere():
    for bad in HOSTILE:
        r = Report(subject=bad)
        r.add(bad, False, bad, failure=bad)
        r.licence[bad] = bad
        r.signer["org_name"] = {"nested": bad}
        r.notes.append(bad)
        page = to_html(r)
        scan = _scan(page)
        assert set(scan.tags) <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p",
                                  "div", "span", "table", "tr", "th", "td", "ul", "li"}, bad
        assert not any(k.startswith("on") for k, _ in scan.attrs), bad


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200))
def test_any_text_stays_text(name, detail):
    r = Report(subject="qr")
    r.add(name, False, detail)
    r.licence["h"] = detail
    scan = _scan(to_html(r))
    assert "script" not in scan.tags and not any(k.startswith("on") for k, _ in scan.attrs)
    assert scan.tags.count("tr") == 1 + 1 + 1  # header row, one check, one licence field
