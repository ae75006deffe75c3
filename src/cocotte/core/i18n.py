"""Texts that staff write in French and, when they can, in English (a `<field>_en` beside the field)."""

from django.utils.translation import get_language


def localized(obj, field: str) -> str:
    """The text in the visitor's language: the English version for an English visitor when staff wrote
    one, otherwise the French."""
    if (get_language() or "fr").startswith("en"):
        english = getattr(obj, f"{field}_en", "")
        if english:
            return english
    return getattr(obj, field)


def localized_lines(obj, field: str) -> list[str]:
    """A text of one item per line (a list of services), as its non-empty lines."""
    return [line.strip() for line in localized(obj, field).splitlines() if line.strip()]
