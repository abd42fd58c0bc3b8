"""The names of every check a verifier (or the service) puts in a report, with their Chinese text.

Why one module: a check name is an interface.  Clerks read it in the CLI, the HTML report and
the verify page; integrators match on it in the JSON; the people-facing documentation explains
each one (docs/verification.md, whose table is generated from here and tested against it).
When names were string literals scattered over the verifiers they drifted into five spellings
and the Chinese text lived in a separate dictionary of the web pages.  Here each verifier has
one enumeration, every member carries its Chinese title (`.zh`), and `chinese(name)` finds the
title for any name a report holds.

Style: `area.check`, lowercase snake_case, no spaces or hyphens; the area says what is being
checked (`pdf`, `seal` / `signature` for seals and signatures-with-seal, `el1` / `ep1` for the
QR codes — an EL1 inside an EP1 is still `el1.*` —, `ofd`, `trust_list`, `trust` / `binding` for
what the synced trust lists answer, `status`, `audit`, and `service` for what only the running
service checks).

Checks repeated per item carry the item's key in brackets: the enum value holds an empty `[]`
where the key goes (`OfdCheck.SIG_STAMP = "ofd.sig[].stamp"`) and `.at(key, ...)` fills the
brackets in order (`"ofd.sig[2].stamp"`).  A key never contains brackets (they are
percent-encoded), so `chinese()` can drop the keys to find the member.

Reports inside reports: the PDF verifier reports a failed seal check `seal.validity` as
`pdf.seal.validity`, and the OFD verifier reports every seal check of its N-th signature as
`ofd.sig[N].seal.validity` (`embedded()`); their Chinese text is the seal check's.

To add a check: add a member (value and Chinese text) to the verifier's enumeration, use the
member in `report.add`, and regenerate the table in docs/verification.md (`markdown_table()`;
tests/verification/test_check_names.py says when it is out of date).
"""

from __future__ import annotations

import enum
import re


class CheckName(enum.StrEnum):
    """A check name (the member's value, a plain string in reports and JSON) with its Chinese
    title.  Members are declared as `NAME = "area.check", "中文"`."""

    zh: str

    def __new__(cls, value: str, zh: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.zh = zh
        return member

    def at(self, *keys: object) -> str:
        """The name for one item: each `[]` of the value filled with the next key."""
        return _fill(self.value, keys)


def _fill(template: str, keys: tuple) -> str:
    parts = template.split("[]")
    if len(keys) != len(parts) - 1:
        raise ValueError(f"{template} takes {len(parts) - 1} key(s), got {len(keys)}")
    # Brackets inside a key (an OFD path may hold one) would make the name ambiguous, and an
    # empty key (a reference naming no file) would read as an unfilled template.
    return parts[0] + "".join(f"[{_key(k)}]{rest}" for k, rest in zip(keys, parts[1:]))


def _key(key: object) -> str:
    return str(key).replace("[", "%5B").replace("]", "%5D") or "-"


class PdfCheck(CheckName):
    """verification/pdf (and the dispatcher's guard around it), in the order they run."""

    VERIFIER = "pdf.verifier", "PDF 验证器"
    INPUT = "pdf.input", "PDF 输入"
    FORMAT = "pdf.format", "PDF 格式"
    STRUCTURE = "pdf.structure", "文件结构"
    TAIL = "pdf.tail", "文件末尾无附加内容"
    SIGNATURE_DICTIONARY = "pdf.signature_dictionary", "签名字典"
    SIGNATURE_COUNT = "pdf.signature_count", "签名数量"
    DOCUMENT_TIMESTAMP = "pdf.document_timestamp", "文档时间戳"
    INTEGRITY = "pdf.integrity", "签名范围内容完整"
    SIGNATURE_VALUE = "pdf.signature_value", "签名值"
    COVERAGE = "pdf.coverage", "签名覆盖整个文件"
    MODIFICATIONS = "pdf.modifications", "签名后无不允许的修改"
    TIMESTAMP = "pdf.timestamp", "签名时间戳"
    CERTIFICATE_PATH = "pdf.certificate_path", "签名证书链可信"
    ALGORITHMS = "pdf.algorithms", "签名算法符合算法策略"
    SEAL = "pdf.seal", "电子印章"
    SEAL_BINDING = "pdf.seal_binding", "印章与签名绑定"
    LICENCE_STATUS = "pdf.licence_status", "证照状态"


class SealCheck(CheckName):
    """verification/seal: a seal (`seal.*`) and a signature-with-seal (`signature.*`, which
    also runs every `seal.*` check on the seal it embeds)."""

    SEAL_FORMAT = "seal.format", "印章格式"
    SEAL_SIGNATURE = "seal.signature", "制章者签名"
    SEAL_MAKER_CERTIFICATE = "seal.maker_certificate", "制章者证书可信"
    SEAL_TIMESTAMP = "seal.timestamp", "印章时间戳"
    SEAL_VALIDITY = "seal.validity", "印章有效期"
    SEAL_STATUS = "seal.status", "印章状态"
    SEAL_INTERNAL = "seal.internal", "印章验证过程"
    SIGNATURE_FORMAT = "signature.format", "签章数据格式"
    SIGNATURE_VALUE = "signature.value", "签章签名值"
    SIGNATURE_SIGNER_CERTIFICATE = "signature.signer_certificate", "签章人证书可信"
    SIGNATURE_SIGNER_IN_SEAL = "signature.signer_in_seal", "签章人在印章授权列表中"
    SIGNATURE_TIME = "signature.time", "签章时间"
    SIGNATURE_TIMESTAMP = "signature.timestamp", "签章时间戳"
    SIGNATURE_DATA_HASH = "signature.data_hash", "原文摘要一致"
    SIGNATURE_INTERNAL = "signature.internal", "签章验证过程"


class QrCheck(CheckName):
    """verification/qr.py: the scanned picture or text (`qr.*`), the licence code (`el1.*`) and
    the holder's presentation (`ep1.*`)."""

    IMAGE = "qr.image", "图片识别"
    LICENCE_CODE = "qr.licence_code", "证照码识别"
    EL1_FORMAT = "el1.format", "证照码格式"
    EL1_SIGNER_KNOWN = "el1.signer_known", "签发机构在信任列表中"
    EL1_SIGNATURE = "el1.signature", "证照码签名值"
    EL1_ATTESTED = "el1.attested", "证照内容由亮证节点签名担保"
    EL1_ISSUER_BINDING = "el1.issuer_binding", "签发机构与签名者一致"
    EL1_SIGNER_VALIDITY = "el1.signer_validity", "签名证书有效期"
    EL1_LICENCE_VALIDITY = "el1.licence_validity", "证照码有效期与证照生效日期"
    EP1_FORMAT = "ep1.format", "亮证码格式"
    EP1_SIGNER_KNOWN = "ep1.signer_known", "亮证节点在信任列表中"
    EP1_SIGNATURE = "ep1.signature", "亮证码签名值"
    EP1_REGION = "ep1.region", "亮证地区"
    EP1_SIGNER_VALIDITY = "ep1.signer_validity", "亮证节点证书有效期"
    EP1_FRESHNESS = "ep1.freshness", "亮证码时效（60 秒内）"


class OfdCheck(CheckName):
    """verification/ofd; `ofd.sig[N]` is the N-th signature listed in Signatures.xml."""

    VERIFIER = "ofd.verifier", "OFD 验证器"
    INTERNAL = "ofd.internal", "OFD 验证过程"
    PACKAGE = "ofd.package", "文件包"
    STRUCTURE = "ofd.structure", "文档结构"
    SIGNATURES = "ofd.signatures", "签名列表"
    SIG_SIGNATURE_XML = "ofd.sig[].signature_xml", "签名描述文件"
    SIG_CHECK_METHOD = "ofd.sig[].check_method", "摘要算法"
    SIG_REFERENCES = "ofd.sig[].references", "受保护文件列表"
    SIG_REFERENCE = "ofd.sig[].reference[]", "受保护文件未被改动"
    SIG_STAMP = "ofd.sig[].stamp", "签章位置"
    SIG_SIGNED_VALUE = "ofd.sig[].signed_value", "签名值文件"
    SIG_SEAL_FILE = "ofd.sig[].seal_file", "印章文件一致"
    SIG_PLAIN_FORMAT = "ofd.sig[].digital_signature.format", "数字签名格式"
    SIG_PLAIN_CONTENT = "ofd.sig[].digital_signature.content", "数字签名覆盖签名描述文件"
    SIG_PLAIN_VALUE = "ofd.sig[].digital_signature.value", "数字签名值"
    SIG_PLAIN_SIGNER_CERTIFICATE = "ofd.sig[].digital_signature.signer_certificate", "签名证书可信"
    SIG_PLAIN_TIME = "ofd.sig[].digital_signature.time", "签名时间"
    COVERAGE = "ofd.coverage", "所有文件受签名保护"


class TrustListCheck(CheckName):
    """verification/trustlist.py: a region's trust list and the federation's list of lists."""

    ENVELOPE_FORMAT = "trust_list.envelope_format", "签名封装格式"
    SIGNER_TRUSTED = "trust_list.signer_trusted", "签名者受信任"
    SIGNATURE = "trust_list.signature", "列表签名值"
    SCHEMA = "trust_list.schema", "列表类型"
    LIST_FORMAT = "trust_list.list_format", "列表格式"
    SIGNER_VALIDITY = "trust_list.signer_validity", "签名证书有效期"
    REGION = "trust_list.region", "列表所属地区"
    SEQUENCE = "trust_list.sequence", "列表序号（防回滚）"
    FRESHNESS = "trust_list.freshness", "列表时效"


class ListingCheck(CheckName):
    """verification/listing.py: what only the synced trust lists answer — which list anchors a
    signature (`trust.*`) and whether its signer was entitled to sign this content
    (`binding.*`)."""

    TRUST_ANCHOR = "trust.anchor", "签名证书在信任列表中"
    TRUST_ROLE = "trust.role", "签名证书角色相符"
    BINDING_ISSUER = "binding.issuer", "签发机构与签名证书一致"
    BINDING_TYPE = "binding.type", "证照类型在签发范围内"
    BINDING_REGION = "binding.region", "地区与签名者一致"
    BINDING_REGISTER = "binding.register", "与签发地登记一致"
    BINDING_PRESENTATION_REGION = "binding.presentation_region", "亮证节点出示本地区证照"
    TRUST_WITHDRAWAL = "trust.withdrawal", "签名证书未被撤销"


class StatusCheck(CheckName):
    """verification/status.py: the licence status a QR code's verification adds."""

    LICENCE = "status.licence", "证照状态"


class AuditCheck(CheckName):
    """verification/audit.py: an exported audit log against its signed checkpoints."""

    EXPORT_FORMAT = "audit.export_format", "导出文件格式"
    LOG_KEY = "audit.log_key", "日志公钥受信任"
    CHECKPOINT_SIGNATURES = "audit.checkpoint_signatures", "检查点签名"
    CHECKPOINT_CONSISTENCY = "audit.checkpoint_consistency", "检查点相互一致"
    ENTRY_SEQUENCE = "audit.entry_sequence", "条目连续（无删除）"
    ENTRY_ENCODING = "audit.entry_encoding", "条目编码"
    TREE_ROOTS = "audit.tree_roots", "树根与检查点一致"
    RECORDED_LEAF_HASHES = "audit.recorded_leaf_hashes", "记录的叶哈希未被改动"
    WITNESS_COSIGNATURES = "audit.witness_cosignatures", "最终检查点有足够的见证签名"
    INDEX_COLUMNS = "audit.index_columns", "检索列与条目一致"


class ServiceCheck(CheckName):
    """license_svc: what only the running service can check (it holds state a pure verifier
    does not: presentations already seen, the trust lists it synced)."""

    PRESENTATION_REPLAY = "service.presentation_replay", "亮证码未被重复使用"
    TRUST_LIST_AVAILABLE = "service.trust_list_available", "信任列表可用"
    FEDERATION_FRESH = "service.federation_fresh", "联盟列表时效"


class LimitCheck(CheckName):
    """verification/limits.py: the caps and the time budget that bound any verification."""

    BUDGET = "limits.budget", "验证时间预算"
    REPORT = "limits.report", "报告大小上限"


ENUMS: tuple[type[CheckName], ...] = (PdfCheck, SealCheck, QrCheck, OfdCheck, TrustListCheck,
                                       ListingCheck, StatusCheck, AuditCheck, ServiceCheck,
                                       LimitCheck)

# Reports inside reports: the outer name (with `[]` for its keys) and the enumeration whose
# checks appear under it.
PDF_SEAL = "pdf"
OFD_SEAL = "ofd.sig[]"
EMBEDDED: dict[str, type[CheckName]] = {PDF_SEAL: SealCheck, OFD_SEAL: SealCheck}

_TABLE: dict[str, CheckName] = {m.value: m for e in ENUMS for m in e}
_KEYS = re.compile(r"\[[^\]]*\]")


def embedded(outer: str, inner: str, *keys: object) -> str:
    """The name under which a verifier reports check `inner` of a report it took in."""
    if outer not in EMBEDDED:
        raise ValueError(f"{outer!r} embeds no report")
    return f"{_fill(outer, keys)}.{inner}"


def member(name: str) -> CheckName | None:
    """The member a reported name stands for (keys dropped; embedded names give the inner
    member), or None for a name no enumeration declares."""
    generic = _KEYS.sub("[]", str(name))
    found = _TABLE.get(generic)
    if found is not None:
        return found
    for outer, inner in EMBEDDED.items():
        if generic.startswith(outer + "."):
            rest = generic[len(outer) + 1:]
            if rest in inner._value2member_map_:
                return inner(rest)
    return None


def chinese(name: str) -> str:
    """The Chinese title of any reported check name, indexed or not; "" for an unknown name
    (a report must still render if one slips through; a test keeps that from happening)."""
    found = member(name)
    return found.zh if found is not None else ""


def markdown_table() -> str:
    """The table of docs/verification.md, generated so the documentation cannot drift."""
    rows = ["| check | 中文 | reported by |", "|---|---|---|"]
    for e in ENUMS:
        for m in e:
            shown = m.value.replace("[]", "[N]", 1).replace("[]", "[…]")
            rows.append(f"| `{shown}` | {m.zh} | `{e.__name__}` |")
    for outer, inner in EMBEDDED.items():
        shown = outer.replace("[]", "[N]")
        rows.append(f"| `{shown}.<{inner.__name__}>` | that check's title | `{inner.__name__}`, "
                    "taken in |")
    return "\n".join(rows)
