"""The English catalogue: complete, compiled, and what English visitors and members actually get.

Visible strings are French msgids; English comes from src/cocotte/locale/en/LC_MESSAGES/django.po, compiled to
django.mo and committed (a fresh machine may lack msgfmt). These tests read the .po with a small parser of
their own, so that they run without gettext's tools; where msgfmt is installed it checks the catalogue too.
"""

import ast
import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from datetime import date
from gettext import GNUTranslations
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from cocotte.bookings import services
from tests.helpers import day_ahead, paris

STRICT = os.environ.get("COCOTTE_STRICT") == "1"  # CI: a check that cannot run fails, never skips

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO, MO = CATALOGUE / "django.po", CATALOGUE / "django.mo"

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


# ---------------------------------------------------------------------------------------------------------
# A small .po reader
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # index 0 for a singular entry's msgstr

    @property
    def where(self) -> str:
        return f"django.po:{self.line} {self.msgid!r}"

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def key(self) -> str:
        """The key gettext files the message under (msgfmt's and GNUTranslations' convention)."""
        key = self.msgid if self.msgid_plural is None else f"{self.msgid}\0{self.msgid_plural}"
        return key if self.msgctxt is None else f"{self.msgctxt}\x04{key}"


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file; obsolete ones (#~) are left out."""
    entries: list[Entry] = []
    entry, target = None, None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            entry, target = None, None
            continue
        if entry is None:
            entry = Entry(line=number)
            entries.append(entry)
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif match := re.fullmatch(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")', line):
            keyword, index, text = match.groups()
            value = ast.literal_eval(text)  # a C string: the escapes a .po file uses are Python's too
            if keyword.startswith("msgstr"):
                target = ("msgstr", int(index or 0))
                entry.msgstr[target[1]] = value
            else:
                target = (keyword, None)
                setattr(entry, keyword, value)
        elif line.startswith('"') and target is not None:
            value = ast.literal_eval(line)
            if target[0] == "msgstr":
                entry.msgstr[target[1]] += value
            else:
                setattr(entry, target[0], getattr(entry, target[0]) + value)
        else:
            raise AssertionError(f"django.po:{number}: cannot read {raw!r}")
    return entries


def write_mo(entries: list[Entry], path: Path) -> None:
    """Compile entries to a .mo file, as msgfmt does: translated, non-fuzzy messages, sorted by key."""
    messages = {
        e.key.encode(): "\0".join(e.msgstr[i] for i in sorted(e.msgstr)).encode()
        for e in entries
        if (e.is_header or "fuzzy" not in e.flags) and all(e.msgstr.values())
    }
    keys = sorted(messages)
    header_size = 7 * 4
    ids_offset = header_size
    strs_offset = ids_offset + 8 * len(keys)
    data_offset = strs_offset + 8 * len(keys)
    id_table, str_table, data = [], [], b""
    for key in keys:
        id_table += [len(key), data_offset + len(data)]
        data += key + b"\0"
    for key in keys:
        str_table += [len(messages[key]), data_offset + len(data)]
        data += messages[key] + b"\0"
    path.write_bytes(
        struct.pack("<7I", 0x950412DE, 0, len(keys), ids_offset, strs_offset, 0, 0)
        + struct.pack(f"<{len(id_table)}I", *id_table)
        + struct.pack(f"<{len(str_table)}I", *str_table)
        + data
    )


def load_mo(path: Path) -> GNUTranslations:
    with path.open("rb") as mo:
        return GNUTranslations(mo)


def messages_of(catalogue: GNUTranslations) -> dict:
    """The translated messages, without the header (its POT-Creation-Date changes at every extraction)."""
    return {key: text for key, text in catalogue._catalog.items() if key != ""}


def format_markers(text: str) -> list[str]:
    """Python format markers (%(name)s, %s, %d…) and HTML tags, the parts a translation must keep."""
    return sorted(re.findall(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]|</?[a-zA-Z][^>]*>", text))


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return read_po(PO)


def msgfmt_or_skip() -> str:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        if STRICT:
            pytest.fail("msgfmt (gettext) is required in CI: apt-get install gettext.")
        pytest.skip("msgfmt (gettext) is not installed")
    return msgfmt


# ---------------------------------------------------------------------------------------------------------
# (a) Every entry is translated, none is fuzzy, and translations keep their format markers
# ---------------------------------------------------------------------------------------------------------


def test_the_catalogue_is_english_with_english_plurals(entries):
    [header] = [e for e in entries if e.is_header]
    assert "Language: en\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header.msgstr[0]
    assert "fuzzy" not in header.flags
    assert len(entries) > 400  # the whole site's strings, not an empty extraction


def test_every_entry_is_translated_and_none_is_fuzzy(entries):
    untranslated = [e.where for e in entries if not e.is_header and not all(e.msgstr.values())]
    fuzzy = [e.where for e in entries if "fuzzy" in e.flags]
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:10]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy: {fuzzy[:10]}"


def test_plural_entries_have_both_english_forms(entries):
    plurals = [e for e in entries if e.msgid_plural is not None]
    assert plurals
    for entry in plurals:
        assert sorted(entry.msgstr) == [0, 1], entry.where


def test_translations_keep_format_markers_and_tags(entries):
    wrong = []
    for entry in entries:
        if entry.is_header:
            continue
        if entry.msgid_plural is None:
            if format_markers(entry.msgstr[0]) != format_markers(entry.msgid):
                wrong.append((entry.where, entry.msgstr[0]))
        else:
            # The singular may leave out the count ("Cancel the upcoming occurrence…"); nothing may appear
            # that the French does not give, and the plural keeps everything.
            allowed = set(format_markers(entry.msgid)) | set(format_markers(entry.msgid_plural))
            if not set(format_markers(entry.msgstr[0])) <= allowed:
                wrong.append((entry.where, entry.msgstr[0]))
            if format_markers(entry.msgstr[1]) != format_markers(entry.msgid_plural):
                wrong.append((entry.where, entry.msgstr[1]))
    assert not wrong, wrong


def test_msgfmt_finds_nothing_untranslated_fuzzy_or_malformed():
    msgfmt = msgfmt_or_skip()
    result = subprocess.run(  # noqa: S603 (our own catalogue, a fixed command)
        [msgfmt, "--check", "--statistics", "-o", os.devnull, str(PO)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


# ---------------------------------------------------------------------------------------------------------
# (b) The committed .mo is the .po compiled
# ---------------------------------------------------------------------------------------------------------


def compile_with_python(entries, out: Path) -> None:
    write_mo(entries, out)


def compile_with_msgfmt(entries, out: Path) -> None:
    subprocess.run(  # noqa: S603 (our own catalogue, a fixed command)
        [msgfmt_or_skip(), "-o", str(out), str(PO)], check=True, capture_output=True, timeout=60
    )


@pytest.mark.parametrize("compile_po", [compile_with_python, compile_with_msgfmt], ids=["python", "msgfmt"])
def test_the_compiled_catalogue_is_up_to_date(entries, tmp_path, compile_po):
    fresh_path = tmp_path / "django.mo"
    compile_po(entries, fresh_path)
    committed, fresh = messages_of(load_mo(MO)), messages_of(load_mo(fresh_path))
    stale = sorted(
        str(key) for key in committed.keys() | fresh.keys() if committed.get(key) != fresh.get(key)
    )
    assert not stale, (
        f"django.mo is out of date ({len(stale)} messages differ, e.g. {stale[:5]}): "
        "cd src/cocotte && cocotte compilemessages -l en"
    )
    committed, fresh = load_mo(MO), load_mo(fresh_path)
    assert [committed.plural(n) for n in range(4)] == [fresh.plural(n) for n in range(4)] == [1, 0, 1, 1]
    assert committed.charset() == fresh.charset() == "UTF-8"


# ---------------------------------------------------------------------------------------------------------
# (c) Visitors: French by default, English on request
# ---------------------------------------------------------------------------------------------------------


def test_a_french_visitor_sees_french_by_default(db, client):
    page = client.get(reverse("home")).content.decode()
    assert '<html lang="fr">' in page
    assert ">Réserver</a>" in page
    assert "Les tiers-lieux du réseau" in page
    assert ">Book</a>" not in page


def test_an_english_visitor_sees_english(db, client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page
    assert ">Book</a>" in page  # the main menu
    assert "The network’s coworking spaces" in page
    assert "Skip to content" in page and "Log in" in page
    assert "Réserver" not in page and "Se connecter" not in page
    assert 'lang="fr">Français</button>' in page  # the way back, named in French


def test_an_english_visitor_sees_english_form_errors(site, room, client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("bookings:grid", args=[site.slug]) + "?date=1850-01-01")
    assert response.status_code == 400
    assert "Date out of range (2001–2199)." in response.content.decode()


# ---------------------------------------------------------------------------------------------------------
# (d) An English member's e-mails are in English
# ---------------------------------------------------------------------------------------------------------


def english_day(day: date) -> str:
    """« Tuesday, 8 December 2026 »: the English format of the catalogue ("l, j F Y"), worked out here."""
    return f"{DAYS[day.weekday()]}, {day.day} {MONTHS[day.month - 1]} {day.year}"


def test_an_english_members_booking_confirmation_is_in_english(alice, room, committed, mailoutbox):
    alice.profile.language = "en"
    alice.profile.save()
    day = day_ahead(9)
    with committed():
        services.book(resource=room, member=alice, start=paris(day, 10), end=paris(day, 11, 30))
    [message] = mailoutbox
    [(html, _mimetype)] = message.alternatives
    when = f"{english_day(day)}, from 10:00 to 11:30"
    assert message.subject == f"Booking confirmed: {room.name}, {english_day(day)}"
    for part in (message.body, html):
        assert "Hello Alice," in part
        assert "Your booking is confirmed:" in part
        assert when in part
        assert "The attached file (.ics) adds it to your calendar." in part
        assert "You can move or cancel it until" in part
        assert f"See you soon at {room.site.name}!" in part
        for french in ("Bonjour", "Votre réservation", "réservation", "Statut", "À bientôt", " h 00"):
            assert french not in part, french
    assert "Status: confirmed" in message.body
    assert '<html lang="en">' in html
