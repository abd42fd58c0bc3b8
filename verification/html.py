"""A verification report as one self-contained Chinese HTML page (no scripts, no external
files), for a clerk to read, print or attach to a case file.

Every value that came from the verified input — claims in a QR code, names in a certificate,
details quoting a file — is attacker-controlled, so all text is HTML-escaped and nothing from the
report reaches an attribute, a URL or a style.  The page sends no requests, so it can be saved
and opened anywhere.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from verification.report import (INDETERMINATE, INDICATION_ZH, SUBINDICATION_ZH, TOTAL_FAILED,
                                  TOTAL_PASSED, Report)

SUBJECT_ZH = {
    "pdf": "PDF 电子证照", "ofd": "OFD 版式文件", "seal": "电子印章", "signature": "电子签章",
    "qr": "二维码", "qr-el1": "电子证照二维码（EL1）", "qr-ep1": "亮证码（EP1）",
    "qr-image": "二维码图片", "not-a-licence": "非电子证照二维码",
}
FIELD_ZH = {
    "id": "证照标识", "identifier": "证照标识", "t": "证照类型代码", "n": "证照编号",
    "h": "持证主体", "hid": "持证主体代码", "vf": "有效期起始", "vu": "有效期截止", "r": "地区",
    "v": "版本", "issuer_code": "颁发机构代码", "status": "证照状态", "superseded_by": "新版本",
    "qr_issued_at": "二维码签发时间", "qr_expires_at": "二维码失效时间", "data_hash": "数据摘要",
    "hash_alg": "摘要算法", "version": "版本", "presentation": "亮证信息",
    "org_name": "机构名称", "org_code": "机构代码", "region": "地区", "subject": "证书主题",
    "algorithm": "算法", "kid": "密钥标识", "role": "角色",
}
_COLOURS = {TOTAL_PASSED: "#1b7f3b", TOTAL_FAILED: "#b3261e", INDETERMINATE: "#8a6d00"}
_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em auto;
max-width:52em;color:#222;line-height:1.5;padding:0 1em}
h1{font-size:1.4em;margin-bottom:.2em}.verdict{font-size:1.3em;font-weight:bold;padding:.6em 1em;
border-radius:6px;color:#fff}table{border-collapse:collapse;width:100%;margin:.6em 0 1.2em}
th,td{border:1px solid #ccc;padding:.35em .6em;text-align:left;vertical-align:top;
word-break:break-all}th{background:#f3f3f3;width:12em}.ok{color:#1b7f3b;font-weight:bold}
.bad{color:#b3261e;font-weight:bold}.unk{color:#8a6d00;font-weight:bold}
.small{color:#666;font-size:.85em}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _table(title: str, data: dict) -> str:
    if not data:
        return ""
    rows = []
    for key, value in data.items():
        if isinstance(value, dict):
            value = "；".join(f"{k}: {v}" for k, v in value.items())
        label = FIELD_ZH.get(key, key)
        rows.append(f"<tr><th>{_e(label)}</th><td>{_e(value)}</td></tr>")
    return f"<h2>{_e(title)}</h2><table>{''.join(rows)}</table>"


def to_html(report: Report, *, generated_at: datetime | None = None) -> str:
    """The page.  `generated_at` (injected, never read from the clock) is printed if given."""
    ind = report.indication
    verdict = INDICATION_ZH[ind]
    sub = report.sub_indication
    if sub:
        verdict += f"：{SUBINDICATION_ZH.get(sub, sub)}"
    checks = []
    for c in report.checks:
        if c.passed:
            mark = '<span class="ok">✔ 通过</span>'
        elif c.indeterminate:
            mark = '<span class="unk">？ 无法确定</span>'
        else:
            mark = '<span class="bad">✘ 未通过</span>'
        title = f"{_e(c.title_zh)}<br><span class=\"small\">{_e(c.name)}</span>" if c.title_zh \
            else _e(c.name)
        checks.append(f"<tr><td>{mark}</td><td>{title}</td><td>{_e(c.detail)}</td></tr>")
    notes = "".join(f"<li>{_e(n)}</li>" for n in report.notes)
    when = f"<p class=\"small\">报告生成时间：{_e(generated_at.isoformat())}</p>" if generated_at else ""
    subject = SUBJECT_ZH.get(report.subject, report.subject or "输入")
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>验证报告 — {_e(INDICATION_ZH[ind])}</title><style>{_CSS}</style></head>
<body>
<h1>电子证照验证报告</h1>
<p class="small">验证对象：{_e(subject)}</p>
<div class="verdict" style="background:{_COLOURS[ind]}">{_e(verdict)}
<span class="small" style="color:#fff">（{_e(ind)}{' / ' + _e(sub) if sub else ''}）</span></div>
<h2>逐项检查</h2>
<table><tr><th>结果</th><th>检查项</th><th>说明</th></tr>{''.join(checks)}</table>
{_table("证照信息", report.licence)}{_table("签名者", report.signer)}{_table("印章", report.seal)}
{f'<h2>说明</h2><ul>{notes}</ul>' if notes else ''}{when}
<p class="small">结论依据 ETSI EN 319 102-1：TOTAL_PASSED 验证通过，TOTAL_FAILED 验证失败，
INDETERMINATE 无法确定（例如状态暂不可查、签名者不在信任列表中）。</p>
</body></html>
"""
