"""The run journal: `runs` records (one attempt at one month) and `<db>.runs.jsonl`.

Attempts that publish nothing (failed, or killed mid-run) are appended to the journal beside
the warehouse, never to the warehouse, so a failed run leaves it byte-identical; the next
successful publish (flows/warehouse/publish.py) folds the journal into `runs` and removes it.
A `running` entry with no later entry is a killed run: `read_journal` returns it `abandoned`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from flows.warehouse.store import fsync_path
from schemas.runs import SCHEMA as RUNS_SCHEMA


def utc_now() -> dt.datetime:
    """Now in UTC, naive (the warehouse stores UTC TIMESTAMPs), microsecond precision."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --------------------------------------------------------------------------------------------
# runs rows and the journal


@dataclass(frozen=True)
class RunRecord:
    """One `runs` row: one attempt at one month."""

    run_id: str
    month: str
    started_at: dt.datetime
    status: str
    finished_at: dt.datetime | None = None
    rows_in: int | None = None
    rows_rejected: int | None = None
    rows_published: int | None = None
    tables_published: dict[str, int] = field(default_factory=dict)
    schedule_version: str | None = None
    schedule_source: str | None = None
    input_checksums: dict[str, dict] = field(default_factory=dict)
    stage_timings: dict[str, float] = field(default_factory=dict)
    error_message: str | None = None
    scenarios: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        row = dataclasses.asdict(self)
        for key in ("started_at", "finished_at"):
            row[key] = row[key].isoformat() if row[key] is not None else None
        return row

    @classmethod
    def from_json(cls, row: dict) -> RunRecord:
        values = dict(row)
        for key in ("started_at", "finished_at"):
            values[key] = dt.datetime.fromisoformat(values[key]) if values.get(key) else None
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def replace(self, **changes) -> RunRecord:
        return dataclasses.replace(self, **changes)


def _json_text(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def runs_frame(records: list[RunRecord]) -> pl.DataFrame:
    """`runs` rows as a frame of the runs schema (JSON columns as text)."""
    rows = [
        {
            "run_id": r.run_id,
            "month": r.month,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "status": r.status,
            "rows_in": r.rows_in,
            "rows_rejected": r.rows_rejected,
            "rows_published": r.rows_published,
            "tables_published": _json_text(r.tables_published),
            "schedule_version": r.schedule_version,
            "schedule_source": r.schedule_source,
            "input_checksums": _json_text(r.input_checksums),
            "stage_timings": _json_text(r.stage_timings),
            "error_message": r.error_message,
            "scenarios": _json_text(r.scenarios),
            "warnings": _json_text(r.warnings),
        }
        for r in records
    ]
    schema = {
        name: column.dtype.type for name, column in RUNS_SCHEMA.columns.items()
    }
    return RUNS_SCHEMA.validate(pl.DataFrame(rows, schema=schema))


def journal_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".runs.jsonl")


def append_journal(db_path: Path, record: RunRecord) -> None:
    """Append one attempt to the journal beside the warehouse (durably: fsync)."""
    path = journal_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record.to_json(), sort_keys=True, default=str) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def bad_journal_path(db_path: Path) -> Path:
    """Where journal lines that cannot be read are moved (`<db>.runs.jsonl.bad`)."""
    path = journal_path(db_path)
    return path.with_name(path.name + ".bad")


def _journal_entry(raw: bytes) -> RunRecord:
    """One journal line as a record that `runs` accepts; ValueError saying why not."""
    try:
        row = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})") from None
    except ValueError as error:
        raise ValueError(f"not JSON ({error})") from None
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    try:
        record = RunRecord.from_json(row)
    except (TypeError, ValueError) as error:
        raise ValueError(f"not a run record ({error})") from None
    try:  # the checks of `runs` itself (types, month, status), as it would be folded in
        runs_frame([record.replace(status="abandoned") if record.status == "running" else record])
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"not a valid runs row ({first})") from None
    return record


def _journal_lines(db_path: Path) -> list[tuple[int, bytes, RunRecord | str]]:
    """(line number, raw bytes, record or the reason it cannot be read) of every non-blank line."""
    path = journal_path(db_path)
    if not path.exists():
        return []
    found: list[tuple[int, bytes, RunRecord | str]] = []
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            found.append((number, raw, _journal_entry(raw)))
        except ValueError as error:
            found.append((number, raw, str(error)))
    return found


def quarantine_journal(db_path: Path) -> list[str]:
    """Move every journal line that cannot be read as a `runs` row (wrong type, bad month,
    not UTF-8, torn by a kill) to `<db>.runs.jsonl.bad`, keeping the others; one warning per
    line moved, naming the file and the line. Call only while holding the warehouse lock."""
    lines = _journal_lines(db_path)
    bad = [(number, raw, reason) for number, raw, reason in lines if isinstance(reason, str)]
    if not bad:
        return []
    path, aside = journal_path(db_path), bad_journal_path(db_path)
    fd = os.open(aside, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"".join(raw + b"\n" for _, raw, _ in bad))
        os.fsync(fd)
    finally:
        os.close(fd)
    kept = path.with_name(path.name + ".tmp")
    kept.write_bytes(b"".join(raw + b"\n" for _, raw, entry in lines if not isinstance(entry, str)))
    fsync_path(kept)
    os.replace(kept, path)
    fsync_path(path.parent)
    return [f"{path}: line {number} cannot be read, moved to {aside}: {reason}" for number, _, reason in bad]


def read_journal(db_path: Path) -> list[RunRecord]:
    """Journaled attempts, the last entry of each run_id winning. An attempt whose last entry
    is still `running` was killed: it comes back as `abandoned` (readers call this only while
    holding the warehouse lock, so no live run can be in the journal). A line that cannot be
    read as a `runs` row (`quarantine_journal` moves those aside) is skipped, so it never
    blocks a publish."""
    latest: dict[str, RunRecord] = {}
    for _number, _raw, record in _journal_lines(db_path):
        if isinstance(record, RunRecord):
            latest[record.run_id] = record
    return [
        r.replace(status="abandoned", error_message=r.error_message or "the run was killed")
        if r.status == "running"
        else r
        for r in latest.values()
    ]
