"""Electronic seals (GB/T 38540-2020 and GM/T 0031): read them and verify them.

`parse_seal` / `parse_signature` turn DER into `Seal` / `SealSignature` (raising only
`SealFormatError`); `verify_seal` / `verify_signature` return a `verification.report.Report`.
"""

from formats.seal.parse import (Extension, Seal, SealFormatError, SealSignature, detect,
                                     parse_seal, parse_signature)
from verification.seal.verify import SealTrust, verify_seal, verify_signature

__all__ = ["Extension", "Seal", "SealFormatError", "SealSignature", "detect", "parse_seal",
           "parse_signature", "SealTrust", "verify_seal", "verify_signature"]
