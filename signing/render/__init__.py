"""Printed licence pages (PDF) drawn from template layouts; see `signing.render.pdf`."""

from signing.render.pdf import RenderError, qr_rect, render_licence_pdf, seal_rect

__all__ = ["RenderError", "qr_rect", "render_licence_pdf", "seal_rect"]
