"""The Chinese words the pages' scripts put next to API values.

Verdicts, reasons, subjects and report fields come from the verification package (the same
dictionaries the HTML report uses), so a clerk reads the same words on the page, in the HTML
report and in the CLI.  What only the pages show — a plain name for each check, names for the
signer and seal fields the report shows by key, audit actions and outcomes, roles — is here.  The page embeds `as_json()` in a non-executable
`<script type="application/json">` block, which a strict CSP allows.
"""

from __future__ import annotations

import json

from license_svc.config import REGIONS
from license_svc.grants.grants import STATUS_ZH as GRANT_STATUS_ZH
from license_svc.licences.lifecycle import STATUS_ZH as LICENCE_STATUS_ZH
from verification.html import FIELD_ZH, SUBJECT_ZH
from verification.report import INDICATION_ZH, SUBINDICATION_ZH

# Check names of verification/qr.py, verification/pdf, verification/seal and the verify service.
CHECK_ZH = {
    "input": "输入识别", "image": "图片识别", "licence-code": "证照码识别",
    "qr-format": "二维码格式", "signer-known": "签发机构在信任列表中", "signature": "签名值",
    "issuer-binding": "签发机构与签名者一致", "signer-validity": "签名证书有效期",
    "licence-validity": "证照有效期", "licence-status": "证照状态",
    "presentation-format": "亮证码格式", "presentation-signer-known": "亮证节点在信任列表中",
    "presentation-signature": "亮证码签名值", "presentation-region": "亮证地区",
    "presentation-freshness": "亮证码时效（60 秒内）", "presentation-replay": "亮证码未被重复使用",
    "pdf.input": "PDF 输入", "pdf.format": "PDF 格式", "pdf.structure": "文件结构",
    "pdf.tail": "文件末尾无附加内容", "pdf.signature_dictionary": "签名字典",
    "pdf.signature_count": "签名数量", "pdf.integrity": "签名范围内容完整（未被篡改）",
    "pdf.signature_value": "签名值", "pdf.coverage": "签名覆盖整个文件",
    "pdf.modifications": "签名后无不允许的修改", "pdf.timestamp": "时间戳",
    "pdf.document_timestamp": "文档时间戳", "pdf.certificate_path": "签名证书链可信",
    "pdf.seal": "电子印章", "pdf.seal_binding": "印章与签名绑定", "pdf.licence_status": "证照状态",
    "seal.format": "印章格式", "seal.signature": "制章者签名",
    "seal.maker_certificate": "制章者证书可信", "seal.validity": "印章有效期",
    "seal.status": "印章状态", "signature.format": "签章数据格式", "signature.value": "签章签名值",
    "signature.signer_certificate": "签章人证书可信",
    "signature.signer_in_seal": "签章人在印章授权列表中", "signature.time": "签章时间",
    "signature.timestamp": "时间戳", "signature.data_hash": "原文摘要一致",
    "ofd.verifier": "OFD 验证", "pdf.verifier": "PDF 验证",
}
# An EP1 carries the holder's EL1; its checks are the EL1's, prefixed.
CHECK_ZH.update({f"el1-{k}": f"证照码：{v}" for k, v in list(CHECK_ZH.items())
                 if k in ("qr-format", "signer-known", "signature", "issuer-binding",
                          "signer-validity", "licence-validity")})
ACTION_ZH = {
    "licence.issue": "签发证照", "licence.amend": "变更证照", "licence.suspend": "暂停证照",
    "licence.reinstate": "恢复证照", "licence.revoke": "撤销证照",
    "licence.retrieve": "调取证照（免证办）", "licence.file": "调取证照文件",
    "licence.verify": "核验证照", "licence.status": "查询证照状态",
    "licence.read.record": "查阅证照数据", "licence.read.pdf": "下载证照文件",
    "licence.read.qr": "获取证照二维码", "licence.read.list": "查看证照列表",
    "qr.present": "扫描亮证码", "qr.presentation.create": "本人亮证（生成亮证码）",
    "grant.create": "授权用证", "grant.revoke": "撤回授权",
    "federation.retrieve": "跨省调取", "dispute.file": "提出异议",
}
# Report fields the HTML report shows by their key (signer and seal details of PDFs and seals).
EXTRA_FIELD_ZH = {
    "issuer": "签发者", "serial": "证书序列号", "digest": "摘要算法", "subfilter": "签名格式",
    "certification": "认证签名（修改权限）", "claimed_signing_time": "声明的签名时间",
    "timestamp": "时间戳时间", "es_id": "印章编码", "name": "名称", "type": "类型",
    "family": "印章格式", "vendor": "厂商", "created": "制作时间", "valid_start": "有效期起",
    "valid_end": "有效期止", "picture_type": "印模格式", "picture_mm": "印模尺寸（毫米）",
    "signers": "签章人数", "cert_list_type": "证书列表类型", "maker": "制章者",
}
OUTCOME_ZH = {"success": "成功", "denied": "被拒绝", "not_found": "未找到", "invalid": "无效",
              "error": "出错"}
ROLE_ZH = {"issuer": "审批系统（发证）", "relying": "用证部门", "citizen": "持证人",
           "auditor": "电子监察", "admin": "管理员"}
REGION_ZH = REGIONS


def as_dict() -> dict:
    return {
        "indication": INDICATION_ZH, "sub_indication": SUBINDICATION_ZH, "subject": SUBJECT_ZH,
        "field": {**EXTRA_FIELD_ZH, **FIELD_ZH}, "check": CHECK_ZH, "action": ACTION_ZH,
        "outcome": OUTCOME_ZH,
        "role": ROLE_ZH, "region": REGION_ZH, "licence_status": LICENCE_STATUS_ZH,
        "grant_status": GRANT_STATUS_ZH,
    }


def as_json() -> str:
    """JSON safe to place inside a <script type="application/json"> element: '<' is escaped so
    no value can close the element."""
    return json.dumps(as_dict(), ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")
