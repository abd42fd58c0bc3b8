"""A department's own document to stamp: a multi-page A4 行政许可决定书 drawn with reportlab in
Droid Sans Fallback (the project's bundled CJK font), with a keyword line on page 1 — a real
PDF from a real PDF writer, not one of our licence pages."""

from __future__ import annotations

import functools
import io

KEYWORD = "（盖章）"
KEYWORD_XY = (380, 300)  # where drawString puts the keyword on page 1 (points)


@functools.lru_cache(maxsize=None)
def notice(pages: int = 3) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from signing.render.fonts import CJK_PATH

    pdfmetrics.registerFont(TTFont("NoticeCJK", str(CJK_PATH)))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for n in range(1, pages + 1):
        c.setFont("NoticeCJK", 20)
        c.drawCentredString(297, 780, "行政许可决定书" if n == 1 else f"行政许可决定书（续{n - 1}）")
        c.setFont("NoticeCJK", 12)
        for i, line in enumerate(["申请人：长三角测试有限公司", "经审查，你单位的申请符合法定条件、标准，",
                                  "决定准予行政许可。", f"第 {n} 页，共 {pages} 页"]):
            c.drawString(80, 700 - 24 * i, line)
        if n == 1:
            c.drawString(KEYWORD_XY[0] - 100, KEYWORD_XY[1], "上海市测试局")
            c.drawString(*KEYWORD_XY, KEYWORD)
            c.drawString(KEYWORD_XY[0] - 100, KEYWORD_XY[1] - 24, "二〇二六年十二月六日")
        c.showPage()
    c.save()
    return buf.getvalue()
