"""A multipart parser that remembers the file names exactly as the client sent them.

Django reduces an uploaded file name to its last path component before any view sees it, which
would silently turn ``../../etc/passwd.mp4`` into ``passwd.mp4``. Tubelet refuses such names with
a clear error instead, so the view needs the original.
"""

from __future__ import annotations

from typing import Any

from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, MultiPartParser


class _Recording(DjangoMultiPartParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.raw_file_names: dict[str, str] = {}

    def sanitize_file_name(self, file_name: str) -> str | None:
        cleaned = super().sanitize_file_name(file_name)
        if cleaned is not None:
            self.raw_file_names[cleaned] = file_name
        return cleaned


class RawNameMultiPartParser(MultiPartParser):
    def parse(
        self, stream: Any, media_type: Any = None, parser_context: Any = None
    ) -> DataAndFiles:
        parser_context = parser_context or {}
        request = parser_context["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            parser = _Recording(
                meta, stream, request.upload_handlers, parser_context.get("encoding")
            )
            data, files = parser.parse()
        except MultiPartParserError as exc:
            raise ParseError(f"Multipart form parse error - {exc}") from None
        request.raw_file_names = parser.raw_file_names
        return DataAndFiles(data, files)


def raw_file_name(request: Any, uploaded_name: str) -> str:
    names = getattr(request, "raw_file_names", None) or getattr(
        getattr(request, "_request", None), "raw_file_names", {}
    )
    return str(names.get(uploaded_name, uploaded_name))
