"""Trust lists for `license-svc verify` away from a running node.

A relying department may verify a licence on a laptop with no database: it is handed the
federation list and the region trust lists as files (`--federation`, `--trust-list`), or asks a
node for them (`--node URL`), or — on a node's machine — uses the lists that node has synced.
Whatever the source, every list is checked the same way a node checks what it syncs: the
federation list against the pinned federation root certificate of the key store, each region's
list against the signers the federation list names for that region.  Lists that do not check out
are left out and reported; their regions' licences then come out INDETERMINATE.

On the all-regions development store (keys_dev/), with no list anywhere, the lists are signed in
memory from the store's own keys, as a lone development node does (a note says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from formats.envelope import EnvelopeError, parse_json
from formats.errors import ServiceError
from license_svc.federation.sync import pinned_roots
from verification.trustlist import (region_urls, trust_list_signers, verify_federation_list,
                                    verify_trust_list)

FEDERATION_PATH = "/api/v1/federation"
TRUST_LIST_PATH = "/api/v1/trust-list"


class TrustListSourceError(ServiceError):
    code = "trust-list-source"


@dataclass
class OfflineLists:
    payloads: list[dict] = field(default_factory=list)   # verified, usable region lists
    problems: list[str] = field(default_factory=list)    # what was left out, and why
    source: str = ""
    node_urls: dict[str, str] = field(default_factory=dict)  # from the verified federation list


def from_files(ks, federation: Path, trust_lists: list[Path], at: datetime) -> OfflineLists:
    lotl = _load(federation)
    lists = [_load(p) for p in trust_lists]
    return _check(ks, lotl, lists, at, f"files: {federation.name}, "
                  + ", ".join(p.name for p in trust_lists))


def from_node(ks, client, url: str, peers: dict[str, str], at: datetime) -> OfflineLists:
    """The federation list from `url`, each region's list from its node (the federation list's
    node_url, or LICENSE_SVC_PEERS)."""
    base = url.rstrip("/")
    lotl = _fetch(client, f"{base}{FEDERATION_PATH}")
    checked = verify_federation_list(lotl, pinned_roots(ks), at)
    if checked.payload is None:
        raise TrustListSourceError(f"the federation list from {base} does not check out",
                                   f"{base} 提供的联盟列表未通过验证")
    lists, problems = [], []
    # The node asked is the first source of its own region's list, whatever address the
    # federation list gives for that region (a lone node, a node behind another name): every
    # list is checked against its region's signers below, so where it came from does not matter.
    try:
        own = _fetch(client, f"{base}{TRUST_LIST_PATH}")
        own_region = (own.get("payload") or {}).get("region") if isinstance(own, dict) else None
    except TrustListSourceError:
        own, own_region = None, None
    for region, node_url in sorted(region_urls(checked.payload).items()):
        if region == own_region and region not in peers:
            lists.append(own)
            continue
        where = (peers.get(region) or node_url).rstrip("/")
        try:
            lists.append(_fetch(client, f"{where}{TRUST_LIST_PATH}"))
        except TrustListSourceError as exc:
            problems.append(f"{region}: {exc.message_zh} / {exc.message_en}")
    out = _check(ks, lotl, lists, at, f"node {base}")
    if own_region in out.node_urls and own_region not in peers:
        out.node_urls[own_region] = base  # and its licences' status from it too
    out.problems[:0] = problems
    return out


def from_local_node(session, ks, at: datetime) -> OfflineLists | None:
    """The lists a node on this machine has synced (its database), or None when it has none."""
    from types import SimpleNamespace

    from license_svc.federation.sync import trust_state

    state = trust_state(SimpleNamespace(keystore=ks, now=lambda: at), session, at)
    if not state.payloads():
        return None
    return OfflineLists(state.payloads(), [f"{r}: 请稍后重试 / try later" for r in state.unavailable()],
                        "this node's synced lists")


def development_lists(ks, at: datetime) -> OfflineLists | None:
    """Signed in memory from the all-regions development store; None for any other store."""
    from license_svc.federation.publish import (can_sign_federation, can_sign_trust_list,
                                                signed_in_memory)

    if not can_sign_federation(ks) or not all(can_sign_trust_list(ks, r) for r in ks.regions):
        return None
    lotl, lists = signed_in_memory(ks, at)
    out = _check(ks, lotl, lists, at, "development store (lists signed in memory)")
    return out


def _check(ks, lotl, lists, at: datetime, source: str) -> OfflineLists:
    checked = verify_federation_list(lotl, pinned_roots(ks), at)
    if checked.payload is None or not checked.ok:
        raise TrustListSourceError(
            f"the federation list does not check out: {checked.report.sub_indication}",
            f"联盟列表未通过验证：{checked.report.sub_indication}")
    out = OfflineLists(source=source, node_urls=region_urls(checked.payload))
    for envelope in lists:
        region = (envelope.get("payload") or {}).get("region") if isinstance(envelope, dict) else None
        if not isinstance(region, str):
            out.problems.append("a trust list without a region / 信任列表缺少地区")
            continue
        result = verify_trust_list(envelope, trust_list_signers(checked.payload, region), at,
                                   region=region)
        if result.ok:
            out.payloads.append(result.payload)
        else:
            out.problems.append(f"{region}: {result.report.sub_indication}")
    return out


def _load(path: Path) -> dict:
    try:
        return parse_json(Path(path).read_bytes())
    except OSError as exc:
        raise TrustListSourceError(f"cannot read {path}: {exc.strerror}",
                                   f"无法读取 {path}") from None
    except EnvelopeError as exc:
        raise TrustListSourceError(f"{path}: {exc.message_en}", f"{path}：{exc.message_zh}") from None


def _fetch(client, url: str) -> dict:
    try:
        return client.get_json(url)
    except Exception as exc:  # unreachable, HTTP error, over the cap, not JSON
        raise TrustListSourceError(f"cannot fetch {url}: {type(exc).__name__}",
                                   f"无法获取 {url}") from None
