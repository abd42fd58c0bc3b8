"""Where a text is on a PDF's pages (关键字定位): the box of its first occurrence.

Why pdfminer.six: of the maintained pure-Python readers it is the one that gives each glyph's
box from the font metrics and the text matrix, CID fonts and ToUnicode maps included (Chinese
documents are CID fonts); pyHanko reads no text, and pypdf's text visitor reports the text
matrix per run, not per character, so a keyword in the middle of a line would have no box of
its own.  Layout analysis is off: we need glyph boxes in content order, not paragraphs.

The match ignores white space between glyphs (a PDF may draw "审 批 决 定" with spacing or as
separate runs), never inside the keyword asked for.
"""

from __future__ import annotations

import io
import logging

from signing.placement import Box, PlacementError

MAX_PAGES_SEARCHED = 500

# pdfminer logs every odd operator it meets; a hostile file would flood the service log.
logging.getLogger("pdfminer").setLevel(logging.ERROR)


def find_text(pdf: bytes, keyword: str) -> tuple[int, Box]:
    """(0-based page index, box in the page's user space) of the first occurrence of
    `keyword`, or PlacementError."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage

    wanted = "".join(keyword.split())
    manager = PDFResourceManager(caching=True)
    device = PDFPageAggregator(manager, laparams=None)
    interpreter = PDFPageInterpreter(manager, device)
    try:
        for index, page in enumerate(PDFPage.get_pages(io.BytesIO(pdf), maxpages=MAX_PAGES_SEARCHED)):
            if page.rotate % 360:
                continue  # seals are placed on upright pages only (signing.pdf.stamp_document)
            interpreter.process_page(page)
            chars = list(_glyphs(device.get_result()))
            text = "".join(c for c, _ in chars)
            at = text.find(wanted)
            if at < 0:
                continue
            boxes = [b for _, b in chars[at:at + len(wanted)]]
            x0, y0 = page.mediabox[0], page.mediabox[1]  # pdfminer's origin is the MediaBox's
            return index, (min(b[0] for b in boxes) + x0, min(b[1] for b in boxes) + y0,
                           max(b[2] for b in boxes) + x0, max(b[3] for b in boxes) + y0)
    except PlacementError:
        raise
    except Exception as exc:  # pdfminer raises many types on damaged files
        raise PlacementError(f"cannot read the document's text to find the keyword: "
                             f"{type(exc).__name__}", "无法读取文档文字以定位关键字") from None
    raise PlacementError(f"the keyword {keyword!r} is not in the document's text (a scanned page "
                         "has no text: give a position instead)",
                         f"文档文字中没有关键字“{keyword}”（扫描件没有文字层，请改用坐标定位）")


def _glyphs(item):
    """(character, bbox) of every glyph, in content order, white space left out."""
    from pdfminer.layout import LTChar

    for child in item:
        if isinstance(child, LTChar):
            for ch in child.get_text():
                if not ch.isspace():
                    yield ch, child.bbox
        elif hasattr(child, "__iter__"):
            yield from _glyphs(child)
