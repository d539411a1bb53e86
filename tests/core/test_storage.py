"""Stored files on an S3-compatible store (moto's standalone server, started here): upload,
download through the permission-checked view, and no way round it from the store itself."""

import hashlib
import socket
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from moto.server import ThreadedMotoServer

from guichet.core.backups import stored_names
from guichet.core.storage import NoPublicAddress
from guichet.demo.dossiers import blank_pdf
from guichet.dossiers.models import Document
from tests.factories import lead_and_member, make_dossier

pytestmark = pytest.mark.django_db

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
KEYS = {"aws_access_key_id": "guichet-test", "aws_secret_access_key": "guichet-test-secret"}
REGION = "eu-west-3"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings):
    """A fresh bucket, and the settings a production instance would have for it."""
    name = f"guichet-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **KEYS)
    client.create_bucket(Bucket=name,
                         CreateBucketConfiguration={"LocationConstraint": REGION})
    production_like = dict(settings.STORAGES)
    production_like["default"] = {
        "BACKEND": "guichet.core.storage.PrivateS3Storage",
        "OPTIONS": {"bucket_name": name, "endpoint_url": s3_endpoint, "region_name": REGION,
                    "access_key": KEYS["aws_access_key_id"],
                    "secret_key": KEYS["aws_secret_access_key"],
                    "default_acl": None, "querystring_auth": True, "file_overwrite": False}}
    settings.STORAGES = production_like  # resets default_storage (Django's setting_changed)
    return client, name


@pytest.fixture
def dossier(open_call, example_document):
    return make_dossier(example_document, with_documents=False)


def _upload(client, dossier, user, content: bytes) -> Document:
    client.force_login(user)
    response = client.post(f"/dossiers/{dossier.pk}/etape/documents/", {
        "kind": "presentation", "file": SimpleUploadedFile("présentation.pdf", content)})
    assert response.status_code in (200, 302)
    return Document.objects.get(dossier=dossier, kind="presentation")


def _anonymous_get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_s3_upload_then_download_through_the_view_round_trips(client, bucket, dossier):
    s3, name = bucket
    lead, member = lead_and_member(dossier)
    content = blank_pdf(2)
    document = _upload(client, dossier, lead, content)
    stored = s3.get_object(Bucket=name, Key=document.file.name)["Body"].read()
    assert stored == content
    assert document.sha256 == hashlib.sha256(content).hexdigest()

    client.force_login(member)
    response = client.get(f"/dossiers/{dossier.pk}/pieces/{document.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Security-Policy"] == "sandbox"
    assert b"".join(response.streaming_content) == content


def test_s3_download_refused_to_another_consortium(client, bucket, dossier, example_document):
    lead, _member = lead_and_member(dossier)
    document = _upload(client, dossier, lead, blank_pdf(1))
    outsider, _ = lead_and_member(make_dossier(example_document, with_documents=False))
    client.force_login(outsider)
    assert client.get(f"/dossiers/{dossier.pk}/pieces/{document.pk}/").status_code == 404


def test_s3_object_is_private_and_anonymous_request_refused(client, bucket, dossier,
                                                           s3_endpoint):
    s3, name = bucket
    lead, _member = lead_and_member(dossier)
    document = _upload(client, dossier, lead, blank_pdf(1))
    grants = s3.get_object_acl(Bucket=name, Key=document.file.name)["Grants"]
    assert [grant for grant in grants if grant["Grantee"].get("URI") == ALL_USERS] == []
    assert _anonymous_get(f"{s3_endpoint}/{name}/{document.file.name}") == 403


def test_s3_public_read_object_would_be_served_anonymously(bucket, s3_endpoint):
    """The control of the test above: the same request succeeds on an object made public,
    so the 403 there comes from the object's ACL, not from the request."""
    s3, name = bucket
    s3.put_object(Bucket=name, Key="public/probe.txt", Body=b"public", ACL="public-read")
    assert _anonymous_get(f"{s3_endpoint}/{name}/public/probe.txt") == 200


def test_s3_stored_names_list_the_bucket_for_backups(client, bucket, dossier):
    lead, _member = lead_and_member(dossier)
    document = _upload(client, dossier, lead, blank_pdf(1))
    assert stored_names() == [document.file.name]
    assert document.file.name.startswith(f"documents/{document.sha256[:2]}/")


def test_s3_storage_hands_out_no_address(bucket):
    stored = default_storage.save("documents/probe.pdf", SimpleUploadedFile("p.pdf", b"%PDF"))
    with pytest.raises(NoPublicAddress):
        default_storage.url(stored)


def test_filesystem_storage_hands_out_no_address():
    with pytest.raises(NoPublicAddress):
        default_storage.url("documents/any.pdf")
