"""Signed OFD documents (GB/T 33190 §18, GM/T 0099): electronic seals (SES_Signature) and plain
digital signatures (GB/T 35275 SignedData) over Signature.xml, whose References fix the hash of
every protected file.  `verify_ofd(data, trust, at)` returns a `verification.report.Report`.

package.py      safe ZIP reading (bombs, traversal, duplicates, polyglots)
safexml.py      XML without DTDs or entities
model.py        OFD.xml → DocBody → Signatures.xml → Signature.xml
signed_data.py  plain digital signatures
verify.py       the checks, in order
"""

from verification.ofd.package import OfdFormatError
from verification.ofd.verify import verify_ofd

__all__ = ["OfdFormatError", "verify_ofd"]
