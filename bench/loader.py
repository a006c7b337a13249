"""Bulk loading for the database benchmarks: a throw-away PostgreSQL with the product's schema, and
COPY into the product's tables with the column list taken from the models as they are.

The ORM would take minutes for a million rows; COPY takes seconds. A loader names the columns it fills
(`TableSpool(Clock, ["interaction_id", ...])`); every other concrete column gets the model's own default
(`auto_now` ones the load time), so a field added to a model later is filled without touching the
benchmarks, and a required field without a default stops the load with its name instead of a COPY error.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


class LoadError(RuntimeError):
    """The loader does not know how to fill a column (a model gained a required field)."""


def database_start(*, env: Mapping[str, str] | None = None, name: str = "cc_sla") -> Any:
    """Start a throw-away PostgreSQL (tests/peers.py), create the database, set up Django on it and
    migrate. `env` is exported before Django reads its settings (REDIS_URL, secrets). Returns the
    cluster; the caller stops it (`cluster.stop()`)."""
    import psycopg

    from tests.peers import postgres_start

    cluster = postgres_start()
    try:
        url = cluster.url
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        os.environ.update(env or {})
        os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + f"/{name}"
        os.environ.setdefault("DJANGO_DEBUG", "true")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def copy_text(value: object) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        return "t" if value else "f"
    elif isinstance(value, (datetime, date)):
        return value.isoformat()
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _default_of(field: Any, now: datetime) -> object:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    value = field.get_default()
    if value is None and not field.null:
        model = field.model.__name__
        raise LoadError(
            f"{model}.{field.name} is required and has no default: the loader must fill it "
            f"(add it to the columns the loader writes for {model})"
        )
    return value


class TableSpool:
    """Rows for one model's table, spooled to a temporary file, then COPYed in one go.

    `columns` are attnames (`interaction_id`, not `interaction`) in the order of the values in each line
    passed to `add` (already in COPY text format, tab-separated, no newline; use `copy_text` for values
    that may hold tabs, backslashes or None). The primary key is left to the database unless named.
    """

    def __init__(self, model: Any, columns: Sequence[str], directory: Path | None = None) -> None:
        from django.utils import timezone

        self.model = model
        opts = model._meta
        fields = {field.attname: field for field in opts.concrete_fields}
        unknown = [column for column in columns if column not in fields]
        if unknown:
            raise LoadError(f"{model.__name__} has no column(s) {', '.join(unknown)}: the model changed")
        now = timezone.now()
        rest = []
        for field in opts.concrete_fields:
            if field.attname in columns or field.primary_key:
                continue  # a primary key left out is the database's to number
            rest.append((field.column, copy_text(_default_of(field, now))))
        self.columns = [fields[column].column for column in columns] + [column for column, _ in rest]
        self.suffix = "".join("\t" + text for _, text in rest) + "\n"
        self.rows = 0
        handle, name = tempfile.mkstemp(prefix=f"cc-sla-{opts.db_table}-", suffix=".copy", dir=directory)
        os.close(handle)
        self.path = Path(name)
        self._file = self.path.open("w", encoding="utf-8", buffering=CHUNK)

    def add(self, line: str) -> None:
        self._file.write(line + self.suffix)
        self.rows += 1

    def add_many(self, lines: Iterable[str]) -> None:
        suffix, write, count = self.suffix, self._file.write, 0
        for line in lines:
            write(line + suffix)
            count += 1
        self.rows += count

    def load(self, cursor: Any) -> float:
        """COPY the spooled rows through `cursor` (a psycopg cursor); delete the spool; seconds taken."""
        self._file.close()
        started = time.perf_counter()
        table = self.model._meta.db_table
        with (
            self.path.open("r", encoding="utf-8") as rows,
            cursor.copy(f"COPY {table} ({', '.join(self.columns)}) FROM STDIN") as copy,
        ):
            while chunk := rows.read(CHUNK):
                copy.write(chunk)
        self.path.unlink()
        return time.perf_counter() - started

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


@contextmanager
def raw_cursor(*, triggers: bool = True) -> Iterator[Any]:
    """Django's connection's psycopg cursor, in one transaction. `triggers=False` loads as pg_restore
    --disable-triggers does (session_replication_role = replica): no foreign-key checks row by row, so
    the caller checks the rows afterwards (`foreign_keys_check`)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.connection.cursor()
        if not triggers:
            raw.execute("SET LOCAL session_replication_role = replica")
        yield raw


def foreign_keys_check(tables: Iterable[str]) -> None:
    """Every foreign key of `tables` points at an existing row (one anti-join per constraint)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                """
                SELECT c.conname, a.attname, p.relname, pa.attname
                FROM pg_constraint c
                JOIN pg_class t ON t.oid = c.conrelid
                JOIN pg_class p ON p.oid = c.confrelid
                JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
                JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
                WHERE c.contype = 'f' AND t.relname = %s
                """,
                [table],
            )
            for name, column, parent, parent_column in cursor.fetchall():
                # Names from the catalogue, not from input.
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" c WHERE c."{column}" IS NOT NULL AND NOT EXISTS '  # noqa: S608
                    f'(SELECT 1 FROM "{parent}" p WHERE p."{parent_column}" = c."{column}")'
                )
                broken = cursor.fetchone()[0]
                if broken:
                    raise LoadError(f"{table}.{column}: {broken} rows break {name} (-> {parent})")


def sequences_reset(models: Iterable[Any]) -> None:
    """Move the id sequences past the ids a loader chose itself."""
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(sql)


def vacuum_analyze(tables: Iterable[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'VACUUM ANALYZE "{table}"')


def peers_stop(*, cluster: Any, redis: Any, directory: Path, keep_logs: bool) -> None:
    """After a run: the database connections closed, PostgreSQL and Redis stopped, the run's folder kept
    (and named) only when a target was missed, so its logs can be read."""
    if cluster is not None:
        from django.db import connections

        connections.close_all()
        cluster.stop()
    redis.stop()
    if keep_logs:
        print(f"logs kept in {directory}")
    else:
        shutil.rmtree(directory, ignore_errors=True)
