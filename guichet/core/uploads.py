"""Uploaded files: bounded while they are received, refused with a message on their field.

`BoundedUploadHandler` comes first in `FILE_UPLOAD_HANDLERS`: it passes each file on to Django's
own handlers (memory, then temporary file) up to `settings.UPLOAD_MAX_BYTES`, the largest file
any form accepts, and drops the rest of the file as it arrives. The form then receives an
`OversizeUpload` (name and size, no content) and its field's `max_size` validator says, on the
field, that the file is too large: a 120 MB upload is neither kept in memory nor written to
disk, and the person still gets the page with the message. (The rest of the request body is
read and discarded rather than left unread: a server that answers before reading the body makes
browsers show a connection error instead of the page.)
"""

from decimal import ROUND_DOWN, Decimal
from io import BytesIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext

MEBIBYTE = 1024 * 1024
KIBIBYTE = 1024


def format_size_fr(size: int) -> str:
    """20971520 -> "20 Mo", 1536 -> "1,5 ko", 1000 -> "1000 octets".

    Binary multiples, rounded down so the figure never overstates the limit.
    """
    for unit_bytes, unit in ((MEBIBYTE, "Mo"), (KIBIBYTE, "ko")):
        if size >= unit_bytes:
            figure = (Decimal(size) / unit_bytes).quantize(Decimal("0.1"), ROUND_DOWN).normalize()
            return f"{figure:f}".replace(".", ",") + f" {unit}"
    return f"{size} octets"


def too_large_message(limit: int) -> str:
    return gettext("Le fichier dépasse %(limit)s.") % {"limit": format_size_fr(limit)}


class OversizeUpload(UploadedFile):
    """A file larger than the server keeps: its name and size, none of its bytes."""

    def __init__(self, name: str, size: int, content_type: str | None, charset: str | None):
        super().__init__(BytesIO(), name=name, content_type=content_type, size=size,
                         charset=charset)


class BoundedUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.limit = settings.UPLOAD_MAX_BYTES
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        # None: the chunk goes no further (the next handlers never see it).
        return raw_data if self.received <= self.limit else None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.received <= self.limit:
            return None  # the next handler hands over the file it kept
        return OversizeUpload(self.file_name, self.received, self.content_type, self.charset)


def max_size(limit: int):
    """A form field validator: the uploaded file is at most `limit` bytes."""

    def validate(upload) -> None:
        if upload is not None and upload.size > limit:
            raise ValidationError(too_large_message(limit), code="file_too_large")

    return validate
