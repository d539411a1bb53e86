"""Where uploaded files live: a private folder by default, a private bucket of an
S3-compatible store in production (settings.STORAGES, from S3_* variables).

Neither storage hands out an address: a file leaves only through our views, after the
permission check, streamed from the storage (guichet.dossiers.documents.pdf_file_response).
A URL to the folder or a presigned link to the bucket would skip that check, so asking for one
is a programming error.
"""

from django.core.files.storage import FileSystemStorage
from storages.backends.s3 import S3Storage


class NoPublicAddress(Exception):
    pass


def _refuse_url(name: str):
    raise NoPublicAddress(f"stored files have no address ({name}): serve them through a view "
                          "that checks the permission")


class PrivateFileSystemStorage(FileSystemStorage):
    def url(self, name):
        _refuse_url(name)


class PrivateS3Storage(S3Storage):
    """Objects are written without an ACL, so they keep the bucket's default (private: only
    the bucket's owner reads them); no canned ACL is sent, which stores with ACLs disabled
    would refuse."""

    def url(self, name, parameters=None, expire=None, http_method=None):
        _refuse_url(name)
