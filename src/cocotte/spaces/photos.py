"""Site photos as staff upload them, made fit for a public page: checked, turned upright, resized, JPEG.

A phone photo is 4,000 px and 5 MB; a page shows it 640 px wide. Each upload keeps one large version (for
whoever opens it) and one thumbnail (what the page shows), both stripped of their metadata (a phone's GPS).
"""

from io import BytesIO
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 50_000_000  # beyond that, a "photo" is a decompression bomb rather than a camera's picture
LARGE_SIDE = 1600
THUMBNAIL_SIDE = 640
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}  # MPO: what some phones call their JPEGs


def resized(upload) -> tuple[ContentFile, ContentFile]:
    """The large version and the thumbnail of an uploaded photo, or a ValidationError saying why not."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("Photo trop lourde (%(size)s Mo) : 15 Mo au plus.") % {"size": round(upload.size / 2**20)}
        )
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            kind, (width, height) = probe.format, probe.size
            probe.verify()
        if kind not in ACCEPTED_FORMATS:
            raise ValidationError(_("Format non accepté : une photo JPEG, PNG ou WebP."))
        if width * height > MAX_PIXELS:
            raise ValidationError(_("Image trop grande (%(w)s × %(h)s pixels).") % {"w": width, "h": height})
        upload.seek(0)
        with Image.open(upload) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            stem = Path(upload.name).stem[:80] or "photo"
            return (
                _jpeg(image, LARGE_SIDE, 85, f"{stem}.jpg"),
                _jpeg(image, THUMBNAIL_SIDE, 78, f"{stem}-640.jpg"),
            )
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise ValidationError(_("Ce fichier n’est pas une photo lisible (JPEG, PNG ou WebP).")) from error


def _jpeg(image: Image.Image, side: int, quality: int, name: str) -> ContentFile:
    copy = image.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = BytesIO()
    copy.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return ContentFile(out.getvalue(), name=name)
