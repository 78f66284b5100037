"""What a month is published with now, and what a new run of it must do to every table.

A month is published as a unit: after a successful run, every table's rows of the month come
from that run's inputs. So before a month is published again the run reads what the month
holds (`published_month`: the last successful run, its scenarios, the month's rows per
table) and decides:

- scenarios (`choose_scenarios`): with no `--scenario` option the month is re-run with the
  scenarios it was last published with; other `--scenario` options replace them, and the
  run says so;
- tables the run does not build (`stale_tables`), e.g. the vehicle marts of a run without
  `--vehicles`: their rows of the month were computed from the old inputs, so they are
  removed (published empty), with a warning naming them;
- the summary lists every table whose rows of the month the run replaced (`replaced`).

Reads go through flows/warehouse/reader.py (always the current file).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flows.warehouse.reader import connect

RUNS_TABLE = "runs"
REJECTS_TABLE = "rejects"


@dataclass(frozen=True)
class PublishedMonth:
    """A month as the warehouse holds it: its last successful run (None: never published)
    and its rows per table (tables with a `month` column, and `rejects` by run)."""

    month: str
    run_id: str | None = None
    scenarios: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    rows: dict[str, int] = field(default_factory=dict)


def published_month(db_path: Path, month: str) -> PublishedMonth:
    """What the warehouse at `db_path` holds of `month` (empty when there is no warehouse)."""
    if not Path(db_path).is_file():
        return PublishedMonth(month)
    with connect(db_path) as con:
        columns = con.sql(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' AND column_name IN ('month', 'run_id')"
        ).fetchall()
        by_table: dict[str, set[str]] = {}
        for table, column in columns:
            by_table.setdefault(table, set()).add(column)
        if RUNS_TABLE not in by_table:
            return PublishedMonth(month)
        last = con.sql(
            "SELECT run_id, scenarios, input_checksums FROM runs WHERE month = $m AND status = 'success' "
            "ORDER BY finished_at DESC, started_at DESC LIMIT 1",
            params={"m": month},
        ).fetchall()
        rows: dict[str, int] = {}
        for table, has in sorted(by_table.items()):
            if table == RUNS_TABLE or not table.replace("_", "").isalnum():
                continue
            if "month" in has:
                query = f'SELECT count(*) FROM "{table}" WHERE month = $m'
            elif "run_id" in has:
                query = f'SELECT count(*) FROM "{table}" WHERE run_id IN (SELECT run_id FROM runs WHERE month = $m)'
            else:
                continue
            rows[table] = con.sql(query, params={"m": month}).fetchall()[0][0]
    if not last:
        return PublishedMonth(month, rows=rows)
    run_id, scenarios, checksums = last[0]
    return PublishedMonth(
        month,
        run_id=run_id,
        scenarios=tuple(_json(scenarios, [])),
        inputs=tuple(_json(checksums, {})),
        rows=rows,
    )


def _json(text: str | None, default):
    try:
        value = json.loads(text) if text else default
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


def choose_scenarios(given: Sequence[str], published: PublishedMonth) -> tuple[tuple[str, ...], str | None]:
    """The scenarios to compute for the month and what to say about them: the given ones, or
    (none given) the ones the month was last published with."""
    given = tuple(given)
    if not given:
        if published.scenarios:
            return published.scenarios, (
                f"scenarios {', '.join(published.scenarios)} re-run as last published "
                f"(run {published.run_id}); pass --scenario to choose others"
            )
        return (), None
    if published.scenarios and set(given) != set(published.scenarios):
        return given, (
            f"scenarios replaced: {', '.join(published.scenarios)} (run {published.run_id}) "
            f"by {', '.join(given)}"
        )
    return given, None


def stale_tables(published: PublishedMonth, built: Sequence[str]) -> list[str]:
    """Tables holding rows of the month that this run does not build: those rows came from
    other inputs, so the run must remove them."""
    return [t for t, n in published.rows.items() if n and t not in built and t != REJECTS_TABLE]


def stale_warning(published: PublishedMonth, stale: Sequence[str], inputs: Mapping[str, object]) -> str:
    """The warning for removed tables, naming them and why."""
    missing = [kind for kind in published.inputs if kind not in inputs]
    why = (
        f"this run has no {', '.join('--' + kind for kind in missing)}"
        if missing
        else "this run does not build them"
    )
    counts = ", ".join(f"{t} ({published.rows[t]:,} rows)" for t in stale)
    return (
        f"removed {published.month} of {counts}, computed by run {published.run_id} from other inputs: "
        f"{why}; pass the same inputs again to recompute them"
    )


def replaced(published: PublishedMonth, built: Sequence[str]) -> dict[str, int]:
    """Table → rows of the month before this run, for every table whose month the run
    replaces (built or removed) that held rows, in the run's table order."""
    order = [*built, *(t for t in published.rows if t not in built)]  # the run's tables first
    return {t: published.rows[t] for t in order if published.rows.get(t) and (t != REJECTS_TABLE or t in built)}


__all__ = [
    "PublishedMonth",
    "choose_scenarios",
    "published_month",
    "replaced",
    "stale_tables",
    "stale_warning",
]
