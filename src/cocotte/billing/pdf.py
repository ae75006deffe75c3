"""Billing's documents as PDF/A-3b, from HTML templates, with WeasyPrint (loaded on first use: it is heavy)."""

from django.template.loader import render_to_string


def pdf_from_template(template: str, context: dict, **options) -> bytes:
    """A PDF/A-3b made from a template (and its printed stylesheet); `options` go to `write_pdf`."""
    from weasyprint import HTML

    html = render_to_string(template, context)
    return HTML(string=html).write_pdf(pdf_variant="pdf/a-3b", **options)
