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
def restored(transactional_db):
    """Whatever the test migrated back to, the database ends at the current schema."""
    yield
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_search_migration_folds_old_documents_and_leaves_empty_ones(restored, deffinum):
    # Made with today's models, then the schema taken back to before 0009 (later migrations
    # add columns today's models would ask for: only the search text is read or written).
    bulk_submitted_dossiers(deffinum, 3)
    first, second, third = Dossier.objects.order_by("pk").values_list("pk", flat=True)
    _migrate(BEFORE)
    Dossier.objects.filter(pk=first).update(search_text="Hélène Vasseur\nMain-d'œuvre")
    Dossier.objects.filter(pk=second).update(search_text="")
    plain = Dossier.objects.filter(pk=third).values_list("search_text", flat=True).get()

    _migrate(AFTER)

    texts = dict(Dossier.objects.values_list("pk", "search_text"))
    assert texts == {first: "Helene Vasseur\nMain-d'oeuvre", second: "", third: plain}
