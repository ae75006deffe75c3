"""Private files: taken for what their bytes say, stored under a random name, sent without caching or sniffing."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from cocotte.core import files

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def png_bytes(size=(4, 4)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, "PNG")
    return out.getvalue()


def zipped(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PDF, "pdf"),
        (png_bytes(), "png"),
        (zipped({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}), "odt"),
        (zipped({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<x/>"}), "docx"),
        (zipped({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"}), "xlsx"),
    ],
)
def test_a_file_is_known_by_its_content_whatever_its_name(data, kind):
    assert files.validate_upload(upload("sans-nom.bin", data)) == kind


def test_a_script_named_like_a_pdf_is_refused():
    with pytest.raises(ValidationError) as refused:
        files.validate_upload(upload("devis.pdf", b"<script>alert(1)</script>", "application/pdf"))
    assert "Type de fichier non accepté" in refused.value.messages[0]
    assert "PDF" in refused.value.messages[0]


def test_a_plain_zip_is_not_an_office_document():
    with pytest.raises(ValidationError):
        files.validate_upload(upload("a.docx", zipped({"hello.txt": b"hi"})))


def test_a_file_too_large_or_empty_is_refused_with_its_size():
    with pytest.raises(ValidationError) as refused:
        files.validate_upload(upload("a.pdf", PDF + b"0" * 2_000_000), max_bytes=1_000_000)
    assert refused.value.messages == ["Fichier trop lourd (1,9 Mo) : 1,0 Mo au plus."]
    with pytest.raises(ValidationError):
        files.validate_upload(upload("a.pdf", b""))


def test_only_the_kinds_asked_for_pass():
    with pytest.raises(ValidationError) as refused:
        files.validate_upload(upload("cv.pdf", PDF), kinds=files.IMAGES)
    assert refused.value.messages == ["Type de fichier non accepté : JPEG, PNG, WebP seulement."]


def test_a_broken_image_is_refused():
    with pytest.raises(ValidationError) as refused:
        files.validate_upload(upload("photo.png", png_bytes()[:40]), kinds=files.IMAGES)
    assert refused.value.messages == ["Cette image est illisible."]


@given(st.binary(max_size=300))
def test_any_bytes_get_a_kind_or_a_clear_refusal(data):
    try:
        kind = files.validate_upload(upload("x", data))
    except ValidationError as refused:
        assert refused.messages
    else:
        assert kind in files.DOCUMENTS


def test_stored_names_are_random_and_keep_only_a_clean_suffix():
    upload_to = files.private_path("followup/documents")
    first, second = upload_to(None, "../../etc/passwd.PDF"), upload_to(None, "../../etc/passwd.PDF")
    assert first != second
    assert first.startswith("followup/documents/") and first.endswith(".pdf") and ".." not in first
    assert not upload_to(None, "rapport.p/df").endswith("df")
    assert files.private_path("a") == files.PrivatePath("a")  # what migrations compare


def test_private_files_live_outside_the_public_media(settings):
    location = files.private_storage().path("x")
    assert not location.startswith(str(settings.MEDIA_ROOT))


def test_serving_sends_the_real_type_without_cache(db):
    storage = files.private_storage()
    name = storage.save("tests/attestation.pdf", ContentFile(PDF))
    try:

        class Held:
            def open(self, mode):
                return storage.open(name, mode)

        response = files.serve(Held(), filename="Attestation de présence.pdf")
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "private, no-store"
        assert "attachment" in response["Content-Disposition"]
        assert b"".join(response.streaming_content) == PDF
    finally:
        storage.delete(name)
