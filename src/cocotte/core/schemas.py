"""Schemas shared by every app's API."""

from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    detail: str
    code: str
    field: str | None = None
    conflicts: list[dict[str, Any]] | None = None
    errors: list[dict[str, Any]] | None = None


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    return dict.fromkeys(statuses, ErrorOut)
