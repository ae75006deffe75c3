"""Private files: follow-up documents, presence statements, contest attachments, breakdown photos.

They live in the `private` storage (settings.STORAGES: a folder of the data directory by default, outside the
media folder that `core.views.public_media` serves), under a random name, and reach a browser only through a
view that checked who asks and then calls `serve`. An upload is taken for what its first bytes say it is, never
for its name or the type the browser announced.
"""

import secrets
import zipfile
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

IMAGES = frozenset({"png", "jpeg", "webp"})
DOCUMENTS = frozenset({"pdf", "png", "jpeg", "odt", "ods", "docx", "xlsx"})
MAX_PIXELS = 50_000_000  # beyond that an "image" is a decompression bomb

LABELS = {
    "pdf": "PDF",
    "png": "PNG",
    "jpeg": "JPEG",
    "webp": "WebP",
    "odt": "ODT",
    "ods": "ODS",
    "docx": "DOCX",
    "xlsx": "XLSX",
}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_ODF = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
}


def private_storage():
    """The storage of private files (a callable, so that migrations do not freeze a path)."""
    return storages["private"]


@deconstructible
class PrivatePath:
    """An `upload_to` giving `<prefix>/<year>/<month>/<random>.<ext>`: the sender's file name is never a path.
    A class rather than a closure, so that migrations can name it."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __call__(self, _instance, filename: str) -> str:
        suffix = PurePosixPath(filename).suffix.lower()[:8]
        suffix = suffix if suffix[1:].isalnum() else ""
        now = timezone.now()
        return f"{self.prefix}/{now:%Y}/{now:%m}/{secrets.token_urlsafe(16)}{suffix}"

    def __eq__(self, other):
        return isinstance(other, PrivatePath) and other.prefix == self.prefix

    def __hash__(self):
        return hash(self.prefix)


def private_path(prefix: str) -> PrivatePath:
    return PrivatePath(prefix)


def sniff(upload) -> str | None:
    """The kind of file its content says (one of LABELS' keys), or None."""
    upload.seek(0)
    head = upload.read(64)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        return _office_kind(upload)
    return None


def _office_kind(upload) -> str | None:
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                return _ODF.get(archive.read("mimetype").strip())
            if "[Content_Types].xml" in names:
                if any(name.startswith("word/") for name in names):
                    return "docx"
                if any(name.startswith("xl/") for name in names):
                    return "xlsx"
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    finally:
        upload.seek(0)
    return None


def validate_upload(upload, *, kinds=DOCUMENTS, max_bytes: int = 10 * 1024 * 1024) -> str:
    """The kind of an acceptable upload, or a ValidationError saying in French what is wrong with it."""
    allowed = ", ".join(LABELS[kind] for kind in sorted(kinds))
    if upload.size > max_bytes:
        raise ValidationError(
            _("Fichier trop lourd (%(size)s) : %(max)s au plus.")
            % {"size": _megabytes(upload.size), "max": _megabytes(max_bytes)},
            code="file_too_large",
        )
    if upload.size == 0:
        raise ValidationError(_("Ce fichier est vide."), code="file_empty")
    kind = sniff(upload)
    if kind not in kinds:
        raise ValidationError(
            _("Type de fichier non accepté : %(allowed)s seulement.") % {"allowed": allowed},
            code="file_type",
        )
    if kind in IMAGES:
        _check_image(upload)
    return kind


def _check_image(upload) -> None:
    try:
        with Image.open(upload) as probe:
            width, height = probe.size
            probe.verify()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise ValidationError(_("Cette image est illisible."), code="file_unreadable") from error
    finally:
        upload.seek(0)
    if width * height > MAX_PIXELS:
        raise ValidationError(
            _("Image trop grande (%(w)s × %(h)s pixels).") % {"w": width, "h": height}, code="file_too_large"
        )


def _megabytes(size: int) -> str:
    return _("%(n)s Mo") % {"n": f"{size / 2**20:.1f}".replace(".", ",")}


def serve(fieldfile, *, filename: str, inline: bool = False) -> HttpResponse:
    """Send a private file to a browser the caller has already checked may have it.

    Its type comes from its content (a renamed file is sent as what it is); nothing is cached on the way.
    """
    handle = fieldfile.open("rb")
    kind = sniff(handle)
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=filename,
        content_type=CONTENT_TYPES.get(kind, "application/octet-stream"),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response
