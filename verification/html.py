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

from verification.report import INDICATION_ZH, SUBINDICATION_ZH, Report, about_lines
from verification.verdict import EXPIRED, INVALID, REVOKED, SUSPENDED, UNDETERMINED, VALID

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
    # signer and seal details of PDFs and seals
    "issuer": "证书签发者", "serial": "证书序列号", "digest": "摘要算法", "subfilter": "签名格式",
    "certification": "认证签名（修改权限）", "claimed_signing_time": "声明的签名时间",
    "timestamp": "时间戳时间", "es_id": "印章编码", "name": "名称", "type": "类型",
    "family": "印章格式", "vendor": "厂商", "created": "制作时间", "valid_start": "有效期起",
    "valid_end": "有效期止", "picture_type": "印模格式", "picture_mm": "印模尺寸",
    "signers": "签章人数", "cert_list_type": "证书列表类型", "maker": "制章者",
    "trust_lists": "信任列表", "cti": "亮证码编号", "issued_at": "生成时间", "expires_at": "失效时间",
    "node_kid": "亮证节点密钥标识", "replayed": "是否重复扫描",
    "code_claims": "文件所载证照码（经签发机构签名核验）",
}
# Region names as config.REGIONS has them (verification may not import the service; a test
# keeps the two equal).
REGION_ZH = {"sh": "上海", "js": "江苏", "zj": "浙江", "ah": "安徽"}
LICENCE_STATUS_ZH = {"active": "有效", "suspended": "已暂停", "revoked": "已撤销",
                     "superseded": "已被新版本取代", "expired": "已过期", "unknown": "未知"}
# Raw values of report fields, in the words a clerk reads (the verify page gets the same
# dictionary through license_svc/web/pages/labels.py).  Seal types are GB/T 38540's (as
# signing.seal.SEAL_TYPES; a test keeps them equal).
VALUE_ZH: dict[str, dict[str, str]] = {
    "subfilter": {"ETSI.CAdES.detached": "PAdES（CAdES 分离式签名）",
                  "adbe.pkcs7.detached": "PKCS#7 分离式签名", "adbe.pkcs7.sha1": "PKCS#7 签名（SHA-1）",
                  "ETSI.RFC3161": "文档时间戳"},
    "certification": {"NO_CHANGES": "认证签名：签名后不允许任何修改",
                      "FILL_FORMS": "认证签名：签名后只允许填写表单",
                      "ANNOTATE": "认证签名：签名后只允许填写表单和批注"},
    "type": {"1": "单位印章", "2": "个人印章", "3": "专用章"},
    "cert_list_type": {"1": "证书列表", "2": "证书摘要列表"},
    "family": {"v4": "GB/T 38540 第 4 版", "v1": "GM/T 0031 第 1 版"},
    "role": {"licence_signer": "证照签名", "node": "亮证节点", "seal_maker": "制章者"},
    "status": LICENCE_STATUS_ZH, "region": REGION_ZH, "r": REGION_ZH,
    "algorithm": {"sm2": "SM2", "rsa": "RSA"}, "digest": {"sm3": "SM3", "sha256": "SHA-256"},
}
_COLOURS = {VALID: "#1b7f3b", INVALID: "#b3261e", REVOKED: "#b3261e", EXPIRED: "#b3261e",
            SUSPENDED: "#b35c00", UNDETERMINED: "#8a6d00"}
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


# asn1crypto's names of the attributes of a certificate's distinguished name.
DN_ZH = (("Organization Identifier", "机构代码"), ("Organizational Unit", "部门"),
          ("Organization", "机构"), ("Common Name", "名称"), ("State/Province", "省/市"),
          ("Locality", "城市"), ("Country", "国家"))
DN_KEYS = frozenset({"subject", "issuer", "maker"})


def display(key: str, value: Any) -> str:
    """A report field's value as a person reads it: booleans, codes and enumerations in
    Chinese, nested objects and lists as text (never a Python repr)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "picture_mm" and isinstance(value, (list, tuple)) and len(value) == 2:
        return f"{value[0]} × {value[1]} 毫米"
    if key == "trust_lists" and isinstance(value, list):
        return "；".join(f"{display('region', t.get('region'))}信任列表第 {t.get('sequence')} 版"
                        for t in value if isinstance(t, dict))
    if isinstance(value, dict):
        return "；".join(f"{FIELD_ZH.get(k, k)}：{display(k, v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "、".join(display(key, v) for v in value)
    if key in DN_KEYS and isinstance(value, str):
        for en, zh in DN_ZH:
            value = value.replace(f"{en}: ", f"{zh}：")
        return value
    words = VALUE_ZH.get(key, {})
    return words.get(str(value), str(value))


def _table(title: str, data: dict) -> str:
    if not data:
        return ""
    rows = []
    for key, value in data.items():
        label = FIELD_ZH.get(key, key)
        rows.append(f"<tr><th>{_e(label)}</th><td>{_e(display(key, value))}</td></tr>")
    return f"<h2>{_e(title)}</h2><table>{''.join(rows)}</table>"


def _about(report: Report) -> str:
    rows = "".join(f"<tr><th>{_e(label)}</th><td>{_e(value)}</td></tr>"
                   for label, value in about_lines(report.about))
    return f"<h2>证照概要</h2><table>{rows}</table>" if rows else ""


def to_html(report: Report, *, generated_at: datetime | None = None) -> str:
    """The page.  `generated_at` (injected, never read from the clock) is printed if given."""
    ind = report.indication
    verdict = report.verdict
    sub = report.sub_indication
    etsi = INDICATION_ZH[ind] + (f"：{SUBINDICATION_ZH.get(sub, sub)}" if sub else "")
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
<title>验证报告 — {_e(verdict.name_zh)}</title><style>{_CSS}</style></head>
<body>
<h1>电子证照验证报告</h1>
<p class="small">验证对象：{_e(subject)}</p>
<div class="verdict" style="background:{_COLOURS[verdict.code]}">{_e(verdict.text)}</div>
{_about(report)}
<p>ETSI 结论：{_e(etsi)} <span class="small">（{_e(ind)}{' / ' + _e(sub) if sub else ''}）</span></p>
<h2>逐项检查</h2>
<table><tr><th>结果</th><th>检查项</th><th>说明</th></tr>{''.join(checks)}</table>
{_table("证照信息", report.licence)}{_table("签名者", report.signer)}{_table("印章", report.seal)}
{f'<h2>说明</h2><ul>{notes}</ul>' if notes else ''}{when}
<p class="small">结论：有效、无效、已暂停、已撤销、已过期、无法确定（docs/verification.md）。
ETSI 结论依据 ETSI EN 319 102-1：TOTAL_PASSED 验证通过，TOTAL_FAILED 验证失败，
INDETERMINATE 无法确定（例如状态暂不可查、签名者不在信任列表中、证照已暂停）。</p>
</body></html>
"""
