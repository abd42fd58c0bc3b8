"""Consuming side: pure functions of (bytes, trust material, time) -> report.

Imports from `signing` only `signing.oids` and `signing.algorithms` (verify primitives);
see docs/architecture.md for why the primitives layer is shared.
"""

from signing import oids as _oids  # noqa: F401  (registers SM2/SM3 OIDs with asn1crypto)
