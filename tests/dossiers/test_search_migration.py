"""Migration 0009 takes the accents out of the search documents written before the search
ignored them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from guichet.dossiers.models import Dossier
from tests.factories import bulk_submitted_dossiers

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("dossiers", "0008_organisation_public_record")]
AFTER = [("dossiers", "0009_unaccented_search_text")]


def _migrate(targets):
    MigrationExecutor(connection).migrate(targets)


@pytest.fixture
def migrated_back(transactional_db, deffinum):
    _migrate(BEFORE)
    yield
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_search_migration_folds_old_documents_and_leaves_empty_ones(migrated_back, deffinum):
    bulk_submitted_dossiers(deffinum, 3)
    first, second, third = Dossier.objects.order_by("pk")
    Dossier.objects.filter(pk=first.pk).update(search_text="Hélène Vasseur\nMain-d'œuvre")
    Dossier.objects.filter(pk=second.pk).update(search_text="")
    plain = Dossier.objects.get(pk=third.pk).search_text

    _migrate(AFTER)

    texts = dict(Dossier.objects.values_list("pk", "search_text"))
    assert texts == {first.pk: "Helene Vasseur\nMain-d'oeuvre", second.pk: "", third.pk: plain}
