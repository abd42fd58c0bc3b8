"""OFD licences and OFD stamping (GB/T 33190 documents, GB/T 38540 seal signatures).

page.py            the licence page, translated from the PDF renderer's drawing
fonts.py           embedded font subsets with the cmap an OFD reader needs
writer.py          the package files (OFD.xml, Document.xml, resources, GB/T 36903 metadata)
seal_signature.py  Signature.xml + SES_Signature + StampAnnot, added without breaking others
licence.py         all of it for one licence
stamp.py           电子签章 on an OFD someone brings (position, keyword, 骑缝章)
"""

from signing.ofd.licence import licence_ofd
from signing.ofd.seal_signature import OfdSignError, SealSigner, Stamp, add_seal_signature

__all__ = ["OfdSignError", "SealSigner", "Stamp", "add_seal_signature", "licence_ofd"]
