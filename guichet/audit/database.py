"""The database role the application runs as in production (PostgreSQL).

Migrations run as the owner of the tables; the web and worker processes connect as another
role, which may read and write the business tables but can only read and append to the audit
log: no UPDATE, DELETE or TRUNCATE on it (its personal parts may be deleted, never changed),
and, not being its owner, no way to lift its triggers. A leaked password or an injected query
of the running application then cannot rewrite history.
"""

from django.db import connection

from guichet.audit.models import AuditEvent, AuditHead, AuditPersonal

ALL_TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
# Tables the runtime role may not change freely, and the only rights it keeps on them.
RESTRICTED = {
    AuditEvent._meta.db_table: "SELECT, INSERT",  # append-only
    AuditHead._meta.db_table: "SELECT, INSERT, UPDATE",  # the head row moves on each append
    AuditPersonal._meta.db_table: "SELECT, INSERT, DELETE",  # erased, never rewritten
    "django_migrations": "SELECT",  # the schema is the owner's business
}


class RoleRefused(Exception):
    pass


def runtime_role_statements(role: str, schema: str) -> list[str]:
    """The SQL that gives `role` what the application needs in `schema`, and no more
    (idempotent: run it again after every `migrate`, which may add tables)."""
    quote = connection.ops.quote_name
    who, where = quote(role), quote(schema)
    statements = [
        f"GRANT USAGE ON SCHEMA {where} TO {who}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {who}",
        f"GRANT {ALL_TABLE_RIGHTS} ON ALL TABLES IN SCHEMA {where} TO {who}",
    ]
    for table, rights in RESTRICTED.items():
        statements += [f"REVOKE ALL ON {where}.{quote(table)} FROM {who}",
                       f"GRANT {rights} ON {where}.{quote(table)} TO {who}"]
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {where} TO {who}")
    return statements


def check_runtime_role(role: str) -> None:
    """Refuse a role that the grants could not restrain: unknown, superuser, or owner of the
    audit table (an owner can disable its triggers and grant itself anything)."""
    if connection.vendor != "postgresql":
        raise RoleRefused(f"database roles are a PostgreSQL feature; this database is "
                          f"{connection.vendor}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        found = cursor.fetchone()
        if found is None:
            raise RoleRefused(f"role {role!r} does not exist: create it first "
                              f"(CREATE ROLE … LOGIN PASSWORD '…')")
        if found[0]:
            raise RoleRefused(f"role {role!r} is a superuser, which no grant restrains")
        cursor.execute("SELECT pg_has_role(%s, tableowner, 'USAGE') FROM pg_tables "
                       "WHERE schemaname = current_schema() AND tablename = %s",
                       [role, AuditEvent._meta.db_table])
        owner = cursor.fetchone()
        if owner and owner[0]:
            raise RoleRefused(f"role {role!r} owns {AuditEvent._meta.db_table} (or is a member "
                              "of its owner), and an owner can lift its triggers: run the "
                              "application as another role")


def grant_runtime_role(role: str) -> list[str]:
    """Check `role`, then grant it the application's rights; the statements run."""
    check_runtime_role(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        statements = runtime_role_statements(role, cursor.fetchone()[0])
        for statement in statements:
            cursor.execute(statement)
    return statements
