"""Electronic seals (GB/T 38540-2020 v4): make them, sign documents with them, draw them.

Reading and verifying seals is the consuming side's job: `verification.seal`.
"""

from signing.seal.build import (SEAL_TYPE_ORGANISATION, SEAL_TYPE_PERSONAL, SEAL_TYPE_SPECIAL,
                                SEAL_TYPES, SealBuildError, SealCredential, SealPicture,
                                document_digest, make_seal, new_seal_id, sign_document)

__all__ = ["SEAL_TYPE_ORGANISATION", "SEAL_TYPE_PERSONAL", "SEAL_TYPE_SPECIAL", "SEAL_TYPES",
           "SealBuildError", "SealCredential", "SealPicture", "document_digest", "make_seal",
           "new_seal_id", "sign_document"]
