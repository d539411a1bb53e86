"""The table of Django's database cache, which every process shares when REDIS_URL is unset
(allauth counts failed logins in it). Created here so that `migrate` is the only set-up step,
in development, in the tests and in production."""

from django.core.management import call_command
from django.db import migrations

TABLE = "guichet_cache"  # settings.DATABASE_CACHE_TABLE


def create_table(apps, schema_editor):
    # createcachetable does nothing if the table exists (a database that ran it by hand).
    call_command("createcachetable", TABLE, database=schema_editor.connection.alias,
                 verbosity=0)


def drop_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = []
    operations = [migrations.RunPython(create_table, drop_table)]
