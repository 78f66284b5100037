"""The warehouse file as a catalog: the `runs` table, the views of every published table over
the segment store (flows/warehouse/store.py), and the store's own bookkeeping in schema
`tariffcost` (`segments`: the file of each published (table, month); `retired_segments`:
replaced files kept for the readers that still see them; `tables`: every table ever
published, so a table keeps its (possibly empty) view).

A publish never writes into the live file: it reads the live catalog (ATTACH read-only, so
an importer's open session never blocks it), writes a whole new catalog into a staging file,
and swaps it in. The catalog holds no rows of the marts, so it is small and quick to rebuild.

A warehouse from before the segment store (the marts as DuckDB tables) is converted by its
first publish: every month of every table is written out as a segment, once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from flows.warehouse.exports import quoted
from flows.warehouse.reader import INTERNAL_SCHEMA
from flows.warehouse.store import (
    SEGMENT_SCHEMA,
    PublishError,
    Segment,
    copy_legacy_month,
    has_month,
    read_ddl,
    segments_frame,
    segments_of,
    view_sql,
)

# Storage format of the catalog file: readable by every DuckDB 1.x (and 2.x) client.
STORAGE_VERSION = "v1.0.0"
RUNS_TABLE = "runs"
LIVE = "live"  # catalog alias of the live warehouse (read-only) during a publish
STAGED = "staged"  # catalog alias of the staging catalog file during a publish


@dataclass
class CatalogState:
    """What the live warehouse holds: its segments, its retired segments (with when they were
    retired), the tables it has views of; `legacy`: tables of a warehouse from before the
    store (DuckDB tables still to be converted); `has_runs`: it has a `runs` table."""

    segments: list[Segment] = field(default_factory=list)
    retired: list[tuple[Segment, dt.datetime]] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    legacy: list[str] = field(default_factory=list)
    has_runs: bool = False


@contextlib.contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, data: object) -> Iterator[None]:
    """`data` (a Polars frame or Arrow table) readable as the view `name` of `con` inside the
    block, unregistered after it whatever happens."""
    con.register(name, data)
    try:
        yield
    finally:
        con.unregister(name)


def attach_live(con: duckdb.DuckDBPyConnection, db_path: Path) -> bool:
    """ATTACH the live warehouse read-only as `live` (False: there is none yet). A file that
    is not a DuckDB database is a PublishError naming it."""
    if not db_path.exists():
        return False
    try:
        con.execute(f"ATTACH ? AS {LIVE} (READ_ONLY)", [str(db_path)])
    except duckdb.Error as error:
        raise PublishError(f"the warehouse {db_path} cannot be opened (it is unchanged): {error}") from error
    return True


def _tables_of(con: duckdb.DuckDBPyConnection, schema: str, kind: str) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ? "
            "AND table_type = ? ORDER BY table_name",
            [LIVE, schema, kind],
        ).fetchall()
    ]


def read_state(con: duckdb.DuckDBPyConnection, attached: bool, db_path: Path, store: Path) -> CatalogState:
    """The live catalog's state (empty when nothing was published yet). A catalog whose
    segment files are not in `store` is a PublishError: the warehouse is the file AND its
    store folder, and a catalog without its files cannot be published into."""
    if not attached:
        return CatalogState()
    base = _tables_of(con, "main", "BASE TABLE")
    state = CatalogState(has_runs=RUNS_TABLE in base)
    if "segments" not in _tables_of(con, INTERNAL_SCHEMA, "BASE TABLE"):
        state.legacy = [t for t in base if t != RUNS_TABLE and t.replace("_", "").isalnum()]
        state.tables = list(state.legacy)
        return state
    internal = f"{LIVE}.{INTERNAL_SCHEMA}"
    state.segments, state.tables = _listed(con, internal)
    retired = con.sql(f"SELECT * FROM {internal}.retired_segments ORDER BY file").pl()
    state.retired = list(zip(segments_of(retired.drop("retired_at")), retired["retired_at"].to_list(), strict=True))
    missing = [s.file for s in state.segments if not s.path(store).is_file()]
    if missing:
        raise PublishError(
            f"the warehouse {db_path} lists {len(missing)} segment file{'s' if len(missing) != 1 else ''} that "
            f"{'are' if len(missing) != 1 else 'is'} not in {store} (e.g. {missing[0]}): a warehouse is its file "
            f"and its {store.name} folder, copied or moved together; restore the folder (it is unchanged)"
        )
    return state


def convert_legacy(con: duckdb.DuckDBPyConnection, state: CatalogState, store: Path, run_id: str) -> list[Segment]:
    """Write every month of every table of a warehouse from before the store as segments
    (named after `run_id`, the publish that converts it); returns them."""
    written = []
    for table in state.legacy:
        if has_month(table):
            months = [m for (m,) in con.execute(f"SELECT DISTINCT month FROM {LIVE}.main.{quoted(table)} ORDER BY 1")
                      .fetchall()]
        elif state.has_runs:
            months = [m for (m,) in con.execute(
                f"SELECT DISTINCT month FROM {LIVE}.main.runs WHERE run_id IN "
                f"(SELECT run_id FROM {LIVE}.main.{quoted(table)}) ORDER BY 1").fetchall()]
            undated = con.execute(
                f"SELECT count(*) FROM {LIVE}.main.{quoted(table)} WHERE run_id IS NULL OR run_id NOT IN "
                f"(SELECT run_id FROM {LIVE}.main.runs)").fetchall()[0][0]
            months += [None] if undated else []
        else:
            months = [None]
        for month in months:
            written.append(copy_legacy_month(con, store, LIVE, table, month, run_id))
    return written


def _retired_frame(retired: list[tuple[Segment, dt.datetime]]) -> pl.DataFrame:
    return segments_frame([s for s, _ in retired]).with_columns(
        pl.Series("retired_at", [at for _, at in retired], dtype=pl.Datetime("us"))
    )


def build_catalog(
    con: duckdb.DuckDBPyConnection,
    staging: Path,
    *,
    live_runs: bool,
    incoming_runs: pl.DataFrame,
    segments: list[Segment],
    retired: list[tuple[Segment, dt.datetime]],
    tables: list[str],
    store: Path,
) -> None:
    """Write a whole catalog into the new file `staging`: the live `runs` rows (when
    `live_runs`) plus `incoming_runs` not already there, the store's bookkeeping, and a view
    of every table in `tables`."""
    con.execute(f"ATTACH ? AS {STAGED} (STORAGE_VERSION '{STORAGE_VERSION}')", [str(staging)])
    try:
        con.execute(f"USE {STAGED}")
        con.execute(read_ddl(RUNS_TABLE))
        if live_runs:
            con.execute(f"INSERT INTO {STAGED}.main.runs BY NAME SELECT * FROM {LIVE}.main.runs")
        with registered(con, "incoming_runs", incoming_runs):
            con.execute(
                f"INSERT INTO {STAGED}.main.runs BY NAME SELECT * FROM incoming_runs "
                f"WHERE run_id NOT IN (SELECT run_id FROM {STAGED}.main.runs)"
            )
        internal = f"{STAGED}.{INTERNAL_SCHEMA}"
        con.execute(f"CREATE SCHEMA {internal}")
        columns = ", ".join(f"{name} {_sql_type(dtype)}" for name, dtype in SEGMENT_SCHEMA.items())
        con.execute(f"CREATE TABLE {internal}.segments ({columns})")
        con.execute(f"CREATE TABLE {internal}.retired_segments ({columns}, retired_at TIMESTAMP)")
        con.execute(f"CREATE TABLE {internal}.tables (table_name VARCHAR)")
        for name, frame in (
            ("segments", segments_frame(segments)),
            ("retired_segments", _retired_frame(retired)),
            ("tables", pl.DataFrame({"table_name": tables}, schema={"table_name": pl.Utf8})),
        ):
            with registered(con, "incoming_rows", frame):
                con.execute(f"INSERT INTO {internal}.{name} BY NAME SELECT * FROM incoming_rows")
        root = store.resolve()
        con.execute(f"CREATE TABLE {internal}.store (path VARCHAR)")
        con.execute(f"INSERT INTO {internal}.store VALUES (?)", [root.as_posix()])
        for sql in _views(tables, segments, root):
            con.execute(sql)
        con.execute("CHECKPOINT")
    finally:
        con.execute("USE memory")
        con.execute(f"DETACH {STAGED}")


def _views(tables: list[str], segments: list[Segment], root: Path) -> list[str]:
    """`CREATE VIEW` of every table over its segments in `root`, months in order."""
    by_table: dict[str, list[Segment]] = {table: [] for table in tables}
    for segment in segments:
        by_table.setdefault(segment.table_name, []).append(segment)
    return [
        view_sql(table, sorted(listed, key=lambda s: (s.period or "", s.file)), root)
        for table, listed in by_table.items()
    ]


def store_views(con: duckdb.DuckDBPyConnection, catalog: str, root: Path) -> list[str]:
    """The views of the catalog attached as `catalog`, over the store folder `root`."""
    segments, tables = _listed(con, f"{catalog}.{INTERNAL_SCHEMA}")
    return _views(tables, segments, root)


def _listed(con: duckdb.DuckDBPyConnection, internal: str) -> tuple[list[Segment], list[str]]:
    """The segments (by file) and the tables of the bookkeeping schema `internal`."""
    segments = segments_of(con.sql(f"SELECT * FROM {internal}.segments ORDER BY file").pl())
    tables = con.sql(f"SELECT table_name FROM {internal}.tables ORDER BY 1").pl()["table_name"].to_list()
    return segments, tables


def _sql_type(dtype: pl.DataType) -> str:
    if dtype == pl.Int64:
        return "BIGINT"
    if dtype == pl.List(pl.Utf8):
        return "VARCHAR[]"
    return "VARCHAR"
