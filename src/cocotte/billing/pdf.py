"""Billing's documents as PDF/A-3b, from HTML templates, with WeasyPrint (loaded on first use: it is heavy).

Fonts would cost the most: subsetting a system font such as DejaVu Sans for each PDF takes about half a
second (fontTools reads its large layout tables every time; WeasyPrint would use HarfBuzz's subsetter where
installed). So each process prepares, once, a small copy of the regular and bold faces holding only the
characters a French bill prints (Latin-1, œ, the typographic quotes and dashes, €), without layout tables,
and a document embeds only the glyphs it prints, cut by HarfBuzz's subsetter (a fraction of a millisecond,
in C), or, where WeasyPrint finds no HarfBuzz subsetter, the small faces whole (`full_fonts`): 25 kB a face,
and nothing for fontTools to subset. Those faces, the printed stylesheet and WeasyPrint's font
configuration are made once per process and shared. A character the small faces lack (the ł of a Polish
name) falls back to the full system font (cut the same way, or embedded whole: a heavier PDF for that bill),
never a missing letter.

WeasyPrint's user-agent stylesheet gives every element of a document the styles of five pseudo-elements it
may carry (`::footnote-call`, `::footnote-marker`, `::note-call`, `::note-marker`, `::note-callback`) and a
`::marker`, each computed for each element of each document: a tenth of the time of a bill. Billing's
documents have no footnote and no list, so they are printed with that stylesheet less those footnote and
note rules and with `::marker` kept for list items only (`_user_agent`): the same boxes, the same PDF.
"""

import atexit
import base64
import io
import logging
import subprocess
from functools import cache
from pathlib import Path

from django.template.loader import render_to_string

STYLESHEET = Path(__file__).parent / "templates" / "billing" / "pdf" / "print.css"
FAMILY = "DejaVu Sans"
# What a French bill prints: ASCII, Latin-1 (é, ç, «, », the no-break space), Œ, œ, Ÿ, the dashes, quotes
# and ellipsis, the narrow no-break space of thousands, € and the minus sign. Each glyph more is a width
# more in every PDF that embeds the faces whole.
CHARACTERS = [
    *range(0x20, 0x7F),
    *range(0xA0, 0x100),
    *(0x152, 0x153, 0x178),
    *(0x2013, 0x2014, 0x2018, 0x2019, 0x201A, 0x201C, 0x201D, 0x201E, 0x2026, 0x202F, 0x20AC, 0x2212),
]


def _face(weight: str) -> bytes | None:
    """A small copy of the system's DejaVu Sans face of this weight, or None where fontconfig has none."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    try:
        found = subprocess.run(  # noqa: S603 — fixed arguments, no user input
            ["fc-match", "--format=%{file}", f"{FAMILY}:weight={weight}"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    if not found or FAMILY.replace(" ", "") not in Path(found).name:
        return None
    options = subset.Options(layout_features=[], hinting=False, notdef_outline=True, name_IDs=["*"])
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM", "MATH"]
    logging.getLogger("fontTools.subset").setLevel(logging.WARNING)  # it tells every step at INFO
    font = TTFont(found)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=CHARACTERS)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@cache
def _styles():
    """WeasyPrint's font configuration and the stylesheets every document shares (made once)."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    faces = []
    for weight, css_weight in (("regular", "normal"), ("bold", "bold")):
        if face := _face(weight):
            url = "data:font/ttf;base64," + base64.b64encode(face).decode()
            faces.append(
                f"@font-face {{ font-family: Cocotte; font-weight: {css_weight}; src: url({url}); }}"
            )
    sheets = [CSS(filename=str(STYLESHEET), font_config=fonts)]
    if faces:
        sheets.insert(0, CSS(string="\n".join(faces), font_config=fonts))
    atexit.register(_styles.cache_clear)  # let the configuration go while WeasyPrint can still free it
    return fonts, sheets


# The user-agent rules for footnotes and notes, which match every element (and billing prints none).
UNUSED_UA_RULES = ("::footnote-call", "::footnote-marker", "::note-call", "::note-marker", "::note-callback")


@cache
def _user_agent():
    """WeasyPrint's HTML user-agent stylesheet less its footnote and note rules, `::marker` for list items
    only. Its rules are one a line: if a later WeasyPrint writes them otherwise, nothing is left out."""
    from weasyprint import CSS
    from weasyprint.css.counters import CounterStyle
    from weasyprint.html import UA

    lines = []
    for line in UA.splitlines():
        if line.startswith(UNUSED_UA_RULES):
            continue
        if line.startswith("::marker "):
            line = ":is(li, summary)" + line  # what displays as a list item in HTML's own stylesheet
        lines.append(line)
    # Its @counter-style rules are read into a counter store of its own: documents keep WeasyPrint's.
    return CSS(string="\n".join(lines), counter_style=CounterStyle())


@cache
def _html():
    """WeasyPrint's HTML document, printed with `_user_agent` in place of HTML's own stylesheet."""
    from weasyprint import HTML
    from weasyprint.html import UA_STYLESHEET

    class BillingHTML(HTML):
        def _ua_stylesheets(self, *args, **kwargs):
            sheets = super()._ua_stylesheets(*args, **kwargs)
            return [_user_agent() if sheet is UA_STYLESHEET else sheet for sheet in sheets]

    return BillingHTML


@cache
def _subsets_fonts() -> bool:
    """Whether WeasyPrint cuts fonts with HarfBuzz here (HarfBuzz-subset 4.1 or later), not fontTools."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))


def pdf_from_template(template: str, context: dict, **options) -> bytes:
    """A PDF/A-3b made from a template (and the printed stylesheet); `options` go to `write_pdf` (a
    `finisher` among them, to change the PDF's objects before they are written)."""
    fonts, sheets = _styles()
    html = render_to_string(template, context)
    return _html()(string=html).write_pdf(
        pdf_variant="pdf/a-3b",
        stylesheets=[*sheets, *options.pop("stylesheets", [])],
        font_config=fonts,
        full_fonts=not _subsets_fonts(),
        **options,
    )
