"""The customs read-ahead (`flows.inputs.customs.read_ahead`, started by `tariffcost run` while Prefect's
API boots): its rows are used only for the same file, month and unchanged bytes, and a file
it cannot read is still reported by the loader itself."""

from __future__ import annotations

import os

import pytest
from conftest import GOOD_ROW, write_rows

from flows.inputs import customs as load
from flows.inputs.customs import load_customs_lines, read_ahead
from flows.inputs.files import InputSchemaError


def _row(**changes: str) -> dict[str, str]:
    return {**GOOD_ROW, **changes}


def _used(monkeypatch) -> list[bool]:
    """Records, for each read-ahead the loader consults, whether it handed over rows."""
    seen: list[bool] = []
    original = load.ReadAhead.result

    def result(self, path):
        done = original(self, path)
        seen.append(done is not None)
        return done

    monkeypatch.setattr(load.ReadAhead, "result", result)
    return seen


def test_rows_read_ahead_are_used_and_give_the_same_load(tmp_path, schedule, monkeypatch):
    path = write_rows(tmp_path / "customs.csv", [_row(), _row(line_number="2", customs_value_usd="1200.50")])
    plain = load_customs_lines(path, "2025-10", schedule)
    seen = _used(monkeypatch)
    read_ahead(path, "2025-10")
    ahead = load_customs_lines(path, "2025-10", schedule)
    assert seen == [True]
    assert ahead.stg.equals(plain.stg)
    assert (ahead.rows_in, ahead.checksum_sha256) == (plain.rows_in, plain.checksum_sha256)


def test_a_file_changed_after_the_read_ahead_is_read_again(tmp_path, schedule, monkeypatch):
    path = write_rows(tmp_path / "customs.csv", [_row()])
    seen = _used(monkeypatch)
    read_ahead(path, "2025-10")
    load._READ_AHEAD[(str(path), "2025-10")]._thread.join()
    write_rows(path, [_row(customs_value_usd="999.00"), _row(line_number="2")])
    os.utime(path, ns=(1, 1))  # a different mtime even on a coarse clock
    result = load_customs_lines(path, "2025-10", schedule)
    assert seen == [False]
    assert [str(v) for v in result.stg["customs_value_usd"]] == ["999.00", "30000.00"]


def test_another_month_does_not_take_the_read_ahead(tmp_path, schedule, monkeypatch):
    path = write_rows(tmp_path / "customs.csv", [_row(), _row(entry_number="XYZ-1234567-8", entry_date="2025-11-03")])
    seen = _used(monkeypatch)
    read_ahead(path, "2025-11")
    october = load_customs_lines(path, "2025-10", schedule)
    assert seen == [] and october.stg.height == 1
    november = load_customs_lines(path, "2025-11", schedule)
    assert seen == [True] and november.stg["entry_number"].to_list() == ["XYZ12345678"]


def test_a_file_the_read_ahead_cannot_read_is_reported_by_the_loader(tmp_path, schedule):
    path = tmp_path / "customs.csv"
    path.write_text("entry_number,line_number\nABC-1234567-8,1\n", encoding="utf-8")
    read_ahead(path, "2025-10")
    with pytest.raises(InputSchemaError, match="missing"):
        load_customs_lines(path, "2025-10", schedule)
