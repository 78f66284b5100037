"""Reading the warehouse: a connection that always sees the current file.

A publish replaces the warehouse file with `os.replace` (flows/warehouse/publish.py). A
process that opens it with `duckdb.connect(path, read_only=True)` gets DuckDB's cached
database instance for that path whenever another connection to the same path is still open
in the process, i.e. the file as it was when that first connection opened it: a notebook or a
connection pool that keeps one connection keeps seeing the old month however often it
"reconnects".

`connect()` sidesteps the instance cache: each call opens a private in-memory database and
ATTACHes the warehouse file to it READ_ONLY (an ATTACH opens the file anew, by path, and is
not shared between database instances), then makes it the default catalog, so queries read
exactly as on a direct connection (`SELECT ... FROM fct_duty_lines`). A connection still sees
one snapshot for its whole life: close it and call `connect()` again to see a new month.

The marts are views over the segment store beside the file (`<db>.d`, flows/warehouse/store.py),
naming its files by absolute path. A warehouse moved or copied elsewhere together with its
store (a golden copy, a backup restored) still reads through `connect()`: when the store the
views name is not the one beside the file, the connection gets temporary views of the same
names over the files beside it. (A plain DuckDB client sees the moved warehouse once the next
publish has rebuilt the views.)

    from flows.warehouse.reader import connect
    with connect("data/warehouse.duckdb") as con:
        con.sql("SELECT month, sum(total_duty_usd) FROM fct_duty_by_hs_month GROUP BY month").show()
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from flows.config import settings

STORE_SUFFIX = ".d"  # the segment store beside the warehouse file (flows/warehouse/store.py)
INTERNAL_SCHEMA = "tariffcost"  # the catalog's bookkeeping schema (flows/warehouse/catalog.py)

# The catalog name the warehouse file is attached under (also the default catalog).
CATALOG = "warehouse"


class WarehouseMissing(FileNotFoundError):
    """There is no warehouse file at the path (nothing was published there yet)."""


class WarehouseUnreadable(RuntimeError):
    """The file at the path cannot be opened as a DuckDB database (corrupt, or not one)."""


def store_path(db_path: Path) -> Path:
    """The folder of the warehouse's segment files, beside it: `<db>.d`."""
    return db_path.with_name(db_path.name + STORE_SUFFIX)


def connect(path: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse file as it is now (default: the configured
    warehouse, `flows.config.settings().db_path`, TARIFFCOST_DB overriding it).

    Never served from DuckDB's per-process instance cache, so it sees the latest publish even
    while other connections to the same file are open in this process. The file is attached
    as catalog `warehouse` and selected with USE; the connection cannot write. Raises
    WarehouseMissing when the file does not exist, WarehouseUnreadable when it is not a
    DuckDB database."""
    db_path = Path(path) if path is not None else settings().db_path
    if not db_path.is_file():
        raise WarehouseMissing(f"no warehouse at {db_path}: publish a month first (tariffcost run)")
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH ? AS {CATALOG} (READ_ONLY)", [str(db_path)])
        con.execute(f"USE {CATALOG}")
        _views_beside(con, db_path)
    except duckdb.Error as error:
        con.close()
        raise WarehouseUnreadable(f"the warehouse {db_path} cannot be opened: {error}") from error
    except BaseException:
        con.close()
        raise
    return con


def _views_beside(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """Temporary views over the store beside `db_path` when the catalog's views name another
    store (the warehouse was moved or copied with its store)."""
    here = store_path(db_path.parent.resolve() / db_path.name).as_posix()
    found = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ?",
        [CATALOG, INTERNAL_SCHEMA],
    ).fetchall()
    if ("store",) not in found:
        return
    recorded = con.execute(f"SELECT path FROM {CATALOG}.{INTERNAL_SCHEMA}.store").fetchall()
    published_at = recorded[0][0] if recorded else None
    if published_at == here:
        return
    if not Path(here).is_dir():
        # no store beside the file: a publish's staging catalog, or a catalog file copied alone
        if published_at and Path(published_at).is_dir():
            return  # its views read the store it was published with
        segments = con.execute(f"SELECT count(*) FROM {CATALOG}.{INTERNAL_SCHEMA}.segments").fetchall()[0][0]
        if segments:
            raise WarehouseUnreadable(
                f"the warehouse {db_path} has no {Path(here).name} folder beside it, where its {segments} segment "
                f"files are (published at {published_at or 'another place'}): a warehouse is its file and that "
                "folder, copied or moved together"
            )
        return
    # imported here, on a moved warehouse only: the catalog module needs Polars, which a
    # plain reader does not
    from flows.warehouse.catalog import store_views

    for sql in store_views(con, CATALOG, Path(here)):
        con.execute(sql.replace("CREATE VIEW main.", "CREATE TEMP VIEW ", 1))


__all__ = ["CATALOG", "WarehouseMissing", "WarehouseUnreadable", "connect"]
