"""The search documents written before the search ignored accents lose theirs, as
guichet.dossiers.search.document_text now writes them."""

from django.db import migrations

from guichet.dossiers.search import unaccented

CHUNK = 1000


def fold_search_text(apps, schema_editor):
    Dossier = apps.get_model("dossiers", "Dossier")
    changed = []
    for dossier in Dossier.objects.exclude(search_text="").only("search_text").iterator(
            chunk_size=CHUNK):
        folded = unaccented(dossier.search_text)
        if folded != dossier.search_text:
            dossier.search_text = folded
            changed.append(dossier)
        if len(changed) == CHUNK:
            Dossier.objects.bulk_update(changed, ["search_text"])
            changed = []
    Dossier.objects.bulk_update(changed, ["search_text"])


class Migration(migrations.Migration):

    dependencies = [
        ("dossiers", "0008_organisation_public_record"),
    ]

    operations = [
        # Backwards, the folded text stays: it finds everything the accented one did.
        migrations.RunPython(fold_search_text, migrations.RunPython.noop),
    ]
