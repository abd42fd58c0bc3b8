"""The visible appearance of a licence signature: the seal picture, nothing else.

pyHanko's `PdfImage` re-splits and re-deflates the picture for every document it is written
to.  A licence office stamps thousands of documents with the same seal, so `SealPicture`
decodes and compresses the PNG once and afterwards only adds two ready-made stream objects
(colour + /SMask alpha, so a transparent round seal has no white box) to each new file.
"""

from __future__ import annotations

import io
import zlib

from PIL import Image
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.stamp import StaticStampStyle

from formats.errors import SigningError

MAX_SEAL_PNG_BYTES = 4 * 1024 * 1024
MAX_SEAL_PIXELS = 2048 * 2048


def _flate_stream(dict_data: dict, raw: bytes) -> tuple[dict, bytes]:
    d = dict(dict_data)
    d[pdf_name("/Filter")] = pdf_name("/FlateDecode")
    return d, zlib.compress(raw, 6)


class SealPicture(PdfImage):
    """An RGBA seal PNG as a reusable image XObject with a pre-encoded soft mask."""

    def __init__(self, png: bytes):
        if not png or len(png) > MAX_SEAL_PNG_BYTES:
            raise SigningError("seal picture missing or larger than 4 MiB",
                               "印章图片缺失或超过 4 MiB")
        try:
            img = Image.open(io.BytesIO(png))
            if img.width * img.height > MAX_SEAL_PIXELS:
                raise SigningError("seal picture has too many pixels", "印章图片像素过多")
            img.load()
        except SigningError:
            raise
        except Exception as exc:
            raise SigningError(f"seal picture is not a readable image: {exc}",
                               "印章图片无法读取") from None
        img = img.convert("RGBA")
        super().__init__(img, name="Seal")
        common = {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Image"),
            pdf_name("/Width"): generic.NumberObject(img.width),
            pdf_name("/Height"): generic.NumberObject(img.height),
            pdf_name("/BitsPerComponent"): generic.NumberObject(8),
        }
        alpha = img.split()[-1].tobytes()
        self._mask = _flate_stream({**common, pdf_name("/ColorSpace"): pdf_name("/DeviceGray")},
                                   alpha)
        self._colour = _flate_stream({**common, pdf_name("/ColorSpace"): pdf_name("/DeviceRGB")},
                                     img.convert("RGB").tobytes())

    @property
    def image_ref(self) -> generic.IndirectObject:
        writer = self.writer
        ref = self._image_ref
        if ref is None or ref.get_pdf_handler() is not writer:
            d, data = self._mask
            mask_ref = writer.add_object(generic.StreamObject(d, encoded_data=data))
            d, data = self._colour
            d = {**d, pdf_name("/SMask"): mask_ref}
            ref = writer.add_object(generic.StreamObject(d, encoded_data=data))
            self._image_ref = ref
        return ref


def seal_stamp_style(png: bytes) -> StaticStampStyle:
    """A borderless stamp whose only content is the seal picture, centred, scaled to fit."""
    return StaticStampStyle(
        background=SealPicture(png),
        border_width=0,
        background_opacity=1.0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(0),
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        ),
    )
