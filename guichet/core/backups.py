"""Backups: the database and every stored file, with a manifest of their SHA-256
(`guichet backup DIR`), and their restore into an empty instance (`guichet restore DIR`).

A backup directory holds `manifest.json`, the database (`database.pgdump`, pg_dump's custom
format, or `database.sqlite3`, a copy by SQLite's online backup API) and `files/`, the stored
files under their storage names. The manifest is written last: a directory without one is an
interrupted backup, which restore refuses.
"""

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from guichet.core.clock import now as server_now

FORMAT = "guichet.backup/1"
MANIFEST = "manifest.json"
FILES = "files"
DUMP_NAMES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
CHUNK = 1024 * 1024


class BackupRefused(Exception):
    """Why a backup or a restore did not start (or stopped), in words for the operator."""


@dataclass(frozen=True)
class Restored:
    files: int
    next_step: str  # what to run next


# Backup ----------------------------------------------------------------------------------

def create_backup(directory: Path) -> dict:
    """Write a backup of this instance into `directory` (new or empty); return the manifest."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupRefused(f"{directory} is not empty: give a new or empty directory, so "
                            "that a backup never mixes with another one")
    directory.mkdir(parents=True, exist_ok=True)
    vendor = _supported_vendor()
    started = server_now()  # the manifest's time: the instant the copy began
    dump = directory / DUMP_NAMES[vendor]
    _dump_database(vendor, dump)
    # The files after the database: they are named by their content and never rewritten, so
    # every file the dump refers to is already stored when it is copied (one added meanwhile
    # is copied too, unreferenced and harmless).
    files = [_copy_out(name, directory) for name in stored_names()]
    manifest = {
        "format": FORMAT,
        "created_at": started.astimezone(dt.UTC).isoformat(),
        "app_version": _app_version(),
        "migrations": applied_migrations(),
        "database": {"vendor": vendor, "path": dump.name, **_digest_of(dump)},
        "files": files,
    }
    partial = directory / f"{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                       encoding="utf-8")
    partial.replace(directory / MANIFEST)
    return manifest


def stored_names(folder: str = "") -> list[str]:
    """Every file in the default storage (a folder on disk or a bucket), sorted."""
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:  # a folder storage that has never stored anything
        return []
    names = [f"{folder}{name}" for name in files]
    for sub in folders:
        names += stored_names(f"{folder}{sub}/")
    return sorted(names)


def applied_migrations() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def _copy_out(name: str, directory: Path) -> dict:
    target = directory / FILES / _safe_relative(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with default_storage.open(name, "rb") as source, target.open("wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return {"name": name, "sha256": digest.hexdigest(), "size": size}


def _dump_database(vendor: str, dump: Path) -> None:
    if vendor == "sqlite":
        connection.ensure_connection()
        with closing(sqlite3.connect(dump)) as copy:
            connection.connection.backup(copy)  # a consistent copy while the base is in use
        return
    # pg_dump reads one snapshot of the whole database (a single repeatable-read transaction).
    _run(["pg_dump", "--format=custom", "--file", str(dump), *_pg_connection_args()],
         "pg_dump")


# Restore ---------------------------------------------------------------------------------

def restore_backup(directory: Path) -> Restored:
    """Check the backup in `directory` against its manifest, then rebuild this instance from
    it: only into an empty database and an empty storage."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    verify_backup(directory, manifest)
    vendor = _supported_vendor()
    if manifest["database"]["vendor"] != vendor:
        raise BackupRefused(f"this backup holds a {manifest['database']['vendor']} database; "
                            f"the target is {vendor}")
    _refuse_unknown_migrations(manifest["migrations"])
    _require_empty_database()
    _require_empty_storage()
    _restore_database(vendor, directory / manifest["database"]["path"])
    for entry in manifest["files"]:
        _copy_in(entry["name"], directory)
    pending = _pending_migrations()
    return Restored(files=len(manifest["files"]), next_step=(
        f"{len(pending)} migrations of this version are not applied yet: run `guichet migrate`"
        if pending else "the database schema is up to date"))


def read_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupRefused(f"{path} is missing: not a backup, or an interrupted one") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BackupRefused(f"{path} cannot be read: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(f"{path} is not a {FORMAT} manifest")
    try:
        _check_entry(manifest["database"])
        database = manifest["database"]
        if DUMP_NAMES.get(database["vendor"]) != database["path"]:
            raise ValueError(f"unknown database {database['vendor']!r} in {database['path']!r}")
        for entry in manifest["files"]:
            _check_entry(entry)
            _safe_relative(entry["name"])
        if not isinstance(manifest["migrations"], dict):
            raise ValueError("migrations is not an object")
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise BackupRefused(f"{path} is malformed: {error}") from None
    return manifest


def verify_backup(directory: Path, manifest: dict) -> None:
    """Recompute the SHA-256 of the dump and of every file; refuse, naming each file that is
    missing, differs from the manifest, or is not in it."""
    directory = Path(directory)
    expected = {manifest["database"]["path"]: manifest["database"]}
    expected |= {f"{FILES}/{entry['name']}": entry for entry in manifest["files"]}
    problems = []
    for relative, entry in expected.items():
        path = directory / relative
        if not path.is_file():
            problems.append(f"{relative}: missing")
            continue
        found = _digest_of(path)
        if found["sha256"] != entry["sha256"]:
            problems.append(f"{relative}: SHA-256 {found['sha256']} differs from the "
                            f"manifest's {entry['sha256']}")
    present = {path.relative_to(directory).as_posix()
               for path in (directory / FILES).rglob("*") if path.is_file()}
    problems += [f"{relative}: not in the manifest"
                 for relative in sorted(present - expected.keys())]
    if problems:
        raise BackupRefused("the backup does not match its manifest, nothing was restored:\n"
                            + "\n".join(f"  {problem}" for problem in problems))


def _require_empty_database() -> None:
    tables = connection.introspection.table_names()
    if tables:
        shown = ", ".join(sorted(tables)[:3]) + ("…" if len(tables) > 3 else "")
        raise BackupRefused(
            f"the target database already has data ({len(tables)} tables: {shown}): restore "
            "only into a new, empty database (e.g. `createdb`, then point DATABASE_URL at it)")


def _require_empty_storage() -> None:
    if names := stored_names():
        raise BackupRefused(f"the file storage already holds {len(names)} files (e.g. "
                            f"{names[0]}): restore only into an empty one")


def _refuse_unknown_migrations(applied: dict[str, list[str]]) -> None:
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations.keys()
    unknown = sorted(f"{app}.{name}" for app, names in applied.items() for name in names
                     if (app, name) not in known)
    if unknown:
        raise BackupRefused(f"the backup's database has migrations this version does not know "
                            f"({', '.join(unknown[:5])}): restore it with the version that "
                            "made it, or a newer one")


def _pending_migrations() -> list[tuple[str, str]]:
    applied = MigrationRecorder(connection).applied_migrations()
    return [key for key in MigrationLoader(None, ignore_no_migrations=True).disk_migrations
            if key not in applied]


def _restore_database(vendor: str, dump: Path) -> None:
    if vendor == "sqlite":
        connection.ensure_connection()
        with closing(sqlite3.connect(dump)) as source:
            source.backup(connection.connection)
        return
    connection.close()  # pg_restore works on its own connection
    # One transaction: a failure leaves the database as empty as it was. Owners and grants
    # are those of the target (run `guichet grant_runtime_role` afterwards).
    _run(["pg_restore", "--single-transaction", "--exit-on-error", "--no-owner",
          "--no-privileges", *_pg_connection_args(), str(dump)], "pg_restore")


def _copy_in(name: str, directory: Path) -> None:
    with (directory / FILES / _safe_relative(name)).open("rb") as source:
        saved = default_storage.save(name, File(source, name=name))
    if saved != name:
        raise BackupRefused(f"{name} was stored as {saved}: the storage was not empty")


# Shared ----------------------------------------------------------------------------------

def _supported_vendor() -> str:
    if connection.vendor not in DUMP_NAMES:
        raise BackupRefused(f"backups support PostgreSQL and SQLite, not {connection.vendor}")
    return connection.vendor


def _pg_connection_args() -> list[str]:
    """The connection of settings.DATABASES (from DATABASE_URL) as libpq options; the
    password goes through the environment (_pg_environment), never the command line."""
    settings = connection.settings_dict
    args = []
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings.get(key):
            args += [option, str(settings[key])]
    return [*args, "--dbname", settings["NAME"]]


def _pg_environment() -> dict[str, str]:
    settings = connection.settings_dict
    environment = dict(os.environ)
    if settings.get("PASSWORD"):
        environment["PGPASSWORD"] = settings["PASSWORD"]
    if sslmode := settings.get("OPTIONS", {}).get("sslmode"):
        environment["PGSSLMODE"] = sslmode
    return environment


def _run(command: list[str], tool: str) -> None:
    if shutil.which(tool) is None:
        raise BackupRefused(f"{tool} is not installed (PostgreSQL client tools)")
    done = subprocess.run(command, env=_pg_environment(), capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise BackupRefused(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()}")


def _digest_of(path: Path) -> dict:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def _check_entry(entry: dict) -> None:
    if not isinstance(entry.get("sha256"), str) or len(entry["sha256"]) != 64:
        raise ValueError(f"entry {entry!r} has no SHA-256")


def _safe_relative(name: str) -> PurePosixPath:
    """A storage name as a path inside the backup: relative, without `..` (a manifest from
    elsewhere must not write outside the directory)."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name:
        raise ValueError(f"file name {name!r} is not a plain relative path")
    return path


def _app_version() -> str:
    try:
        return version("guichet")
    except PackageNotFoundError:
        return "unknown"
