"""Which algorithms a signature may use, and until when (docs/verification.md "Weak-algorithm
policy").

Why dates: an algorithm stops being acceptable on a day, not for every signature ever made.  A
SHA-1 signature that a trusted timestamp shows existed in 2012 was made while SHA-1 was still
acceptable and stands; one made (or only claimed to be made) after the cut-off does not.  So
each weakness has the date from which signatures using it are refused, and a signature passes
only with proof of existence (a trusted timestamp whose own algorithms are acceptable) before
that date.  Without such proof the verdict is INDETERMINATE, CRYPTO_CONSTRAINTS_FAILURE_NO_POE
(ETSI EN 319 102-1 §5.2.8); with proof that it was made after the date, TOTAL_FAILED,
CRYPTO_CONSTRAINTS_FAILURE.

One table for every use: the PDF signer's signature and its timestamp token (verification.pdf
.signature, judged here with the proof), and every certificate and CRL signature of a path
(`DATED_POLICY`, handed to pyhanko-certvalidator by verification.certpath, judged at the
validation time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from asn1crypto import algos, keys
from pyhanko.sign.validation.utils import CMSAlgorithmUsagePolicy
from pyhanko_certvalidator.policy_decl import (AcceptAllAlgorithms, AlgorithmUsageConstraint,
                                               AlgorithmUsagePolicy)


@dataclass(frozen=True)
class Weakness:
    """An algorithm (or key size) refused for signatures made from `since`."""

    name: str       # as a clerk reads it: "SHA-1", "RSA-1024"
    since: date
    source: str

    @property
    def since_time(self) -> datetime:
        return datetime(self.since.year, self.since.month, self.since.day, tzinfo=timezone.utc)

    def describe(self) -> str:
        return (f"{self.name} 自 {self.since.isoformat()} 起不再被接受 / {self.name} not accepted for "
                f"signatures made from {self.since.isoformat()} ({self.source})")


_COLLISIONS = "practical collisions (Wang et al. 2004)"
_SP800_131A = "NIST SP 800-131A: disallowed for signature generation after 2013"
DIGESTS: dict[str, Weakness] = {
    "md2": Weakness("MD2", date(2005, 1, 1), _COLLISIONS),
    "md4": Weakness("MD4", date(2005, 1, 1), _COLLISIONS),
    "md5": Weakness("MD5", date(2005, 1, 1), _COLLISIONS),
    "sha1": Weakness("SHA-1", date(2014, 1, 1), _SP800_131A),
}
# (key algorithm, below this many bits) → weakness; the first matching row applies.
KEY_SIZES: list[tuple[str, int, date, str]] = [
    ("rsa", 1024, date(2000, 1, 1), "512-bit RSA factored in 1999 (RSA-155)"),
    ("rsa", 2048, date(2014, 1, 1), _SP800_131A),
    ("dsa", 2048, date(2014, 1, 1), _SP800_131A),
    ("ec", 224, date(2014, 1, 1), _SP800_131A),
]


def key_weakness(public_key: keys.PublicKeyInfo | None) -> Weakness | None:
    if public_key is None:
        return None
    try:
        kind = public_key.algorithm
        if kind == "rsassa_pss":
            kind = "rsa"
        bits = public_key.bit_size
    except Exception:  # a curve asn1crypto does not size (SM2 is patched in): not weak here
        return None
    for algo, below, since, source in KEY_SIZES:
        if kind == algo and bits < below:
            return Weakness(f"{algo.upper()}-{bits}", since, source)
    return None


def weakness(digest: str | None = None, mechanism: algos.SignedDigestAlgorithm | None = None,
             public_key: keys.PublicKeyInfo | None = None) -> Weakness | None:
    """The earliest-dated weakness of a digest, a signature mechanism (its implied digest)
    and a key; None when all are acceptable."""
    found = []
    if digest:
        found.append(DIGESTS.get(digest.lower()))
    if mechanism is not None:
        try:
            found.append(DIGESTS.get(mechanism.hash_algo))
        except Exception:  # PSS without parameters, SM2: no implied digest to judge here
            pass
    found.append(key_weakness(public_key))
    present = [w for w in found if w is not None]
    return min(present, key=lambda w: w.since) if present else None


class DatedAlgorithmPolicy(AlgorithmUsagePolicy):
    """The table above for pyhanko-certvalidator: an algorithm is allowed at `moment` if
    `moment` is before its cut-off (with no moment: only if it has none)."""

    def digest_algorithm_allowed(self, algo, moment):
        return _constraint(DIGESTS.get(algo["algorithm"].native), moment)

    def signature_algorithm_allowed(self, algo, moment, public_key):
        return _constraint(weakness(mechanism=algo, public_key=public_key), moment)


def _constraint(weak: Weakness | None, moment: datetime | None) -> AlgorithmUsageConstraint:
    if weak is None or (moment is not None and moment < weak.since_time):
        return AlgorithmUsageConstraint(True)
    return AlgorithmUsageConstraint(False, not_allowed_after=weak.since_time,
                                    failure_reason=weak.describe())


DATED_POLICY = DatedAlgorithmPolicy()
# For pyHanko's CMS step: the signer's and the timestamp's algorithms are judged by
# `judge` with their proof of existence, so pyHanko must not fold them into "untrusted".
CMS_UNJUDGED = CMSAlgorithmUsagePolicy.lift_policy(AcceptAllAlgorithms())


@dataclass(frozen=True)
class Judgement:
    ok: bool
    detail: str
    failure: str | None = None
    indeterminate: bool = False


def judge(weak: Weakness | None, proven_before: datetime | None, at: datetime) -> Judgement:
    """A signature's algorithms, given the time a trusted timestamp proves it existed."""
    if weak is None:
        return Judgement(True, "签名算法符合算法策略 / algorithms acceptable under the policy")
    if at < weak.since_time:
        return Judgement(True, f"{weak.describe()}；验证时间早于该日期 / validated before that date")
    if proven_before is not None and proven_before < weak.since_time:
        return Judgement(True, f"{weak.describe()}；时间戳证明签名早于该日期（{proven_before:%Y-%m-%d}）/ "
                               "a timestamp proves the signature existed before that date")
    if proven_before is not None:
        return Judgement(False, f"{weak.describe()}；时间戳证明签名晚于该日期 / a timestamp shows the "
                                "signature was made after that date", "CRYPTO_CONSTRAINTS_FAILURE")
    return Judgement(False, f"{weak.describe()}；无时间戳证明签名早于该日期 / no proof the signature "
                            "existed before that date", "CRYPTO_CONSTRAINTS_FAILURE_NO_POE", True)
