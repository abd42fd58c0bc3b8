"""The Chinese words the pages' scripts put next to API values.

Verdicts, reasons, subjects, report fields and their values come from the verification package
(the same dictionaries the HTML report uses), so a clerk reads the same words on the page, in
the HTML report and in the CLI; a check's Chinese title comes with the check itself (`title_zh`
in the report JSON, from verification.checks), the verdict sentence and `about` with the
report.  What only the pages show — audit actions and outcomes, roles — is here.  The page
embeds `as_json()` in a non-executable `<script type="application/json">` block, which a strict
CSP allows.
"""

from __future__ import annotations

import json

from license_svc.config import REGIONS
from license_svc.grants.grants import STATUS_ZH as GRANT_STATUS_ZH
from license_svc.licences.lifecycle import ACTION_ZH as LICENCE_ACTION_ZH
from license_svc.licences.lifecycle import STATUS_ZH as LICENCE_STATUS_ZH
from verification.html import DN_KEYS, DN_ZH, FIELD_ZH, SUBJECT_ZH, VALUE_ZH
from verification.report import ABOUT_ZH, INDICATION_ZH, SUBINDICATION_ZH
from verification.verdict import VERDICT_ZH

ACTION_ZH = {
    "licence.issue": "签发证照", "licence.amend": "变更证照", "licence.suspend": "暂停证照",
    "licence.reinstate": "恢复证照", "licence.revoke": "撤销证照",
    "licence.retrieve": "调取证照（免证办）", "licence.file": "调取证照文件",
    "licence.verify": "核验证照", "licence.status": "查询证照状态",
    "licence.read.record": "查阅证照数据", "licence.read.pdf": "下载证照文件",
    "licence.read.ofd": "下载 OFD 证照文件",
    "licence.read.qr": "获取证照二维码", "licence.read.list": "查看证照列表",
    "qr.present": "扫描亮证码", "qr.presentation.create": "本人亮证（生成亮证码）",
    "grant.create": "授权用证", "grant.revoke": "撤回授权",
    "federation.retrieve": "跨省调取", "dispute.file": "提出异议",
    # the lifecycle's own entry names (licences.lifecycle.change_status) and the console's reads
    "licence.suspended": "暂停证照", "licence.reinstated": "恢复证照", "licence.revoked": "撤销证照",
    "licence.issue.replay": "重复提交（返回已签发的证照）", "licence.read.audit": "查看证照审计记录",
}
# A licence's signed events (licences.lifecycle), as the console's history shows them.
EVENT_ZH = {"issued": "签发", "amended": "变更签发（新版本）", **LICENCE_ACTION_ZH}
OUTCOME_ZH = {"success": "成功", "denied": "被拒绝", "not_found": "未找到", "invalid": "无效",
              "error": "出错"}
ROLE_ZH = {"issuer": "审批系统（发证）", "relying": "用证部门", "citizen": "持证人",
           "auditor": "电子监察", "admin": "管理员"}
REGION_ZH = REGIONS


def as_dict() -> dict:
    return {
        "indication": INDICATION_ZH, "sub_indication": SUBINDICATION_ZH, "subject": SUBJECT_ZH,
        "field": FIELD_ZH, "value": VALUE_ZH, "verdict": VERDICT_ZH, "about": ABOUT_ZH,
        "dn": {"keys": sorted(DN_KEYS), "names": DN_ZH},
        "action": ACTION_ZH,
        "outcome": OUTCOME_ZH,
        "role": ROLE_ZH, "region": REGION_ZH, "licence_status": LICENCE_STATUS_ZH,
        "grant_status": GRANT_STATUS_ZH, "licence_event": EVENT_ZH,
    }


def as_json() -> str:
    """JSON safe to place inside a <script type="application/json"> element: '<' is escaped so
    no value can close the element."""
    return json.dumps(as_dict(), ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")
