"""Consuming side: pure functions of (bytes, trust material, time) -> report.

Imports from `signing` only `formats.oids` and `formats.algorithms` (verify primitives);
see docs/architecture.md for why the primitives layer is shared.
"""

from formats import oids as _oids  # noqa: F401  (registers SM2/SM3 OIDs with asn1crypto)
