"""scripts/compare_outputs.py (`make compare`): a run against a golden copy, on `make run`'s
backfill of the sample: identical when nothing changed, a changed cent found, a missing golden
copy refused with exit code 2 (and `make compare` without GOLDEN refused the same way)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "compare_outputs.py"


def _compare(golden: Path, sample, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--golden", str(golden), "--db", str(sample.db),
         "--exports", str(sample.exports), *extra],
        cwd=sample.root, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def golden(sample_backfill, tmp_path_factory) -> Path:
    """A golden copy of the sample's outputs (the warehouse with its segment store, and the exports)."""
    copy = tmp_path_factory.mktemp("golden")
    for path in sample_backfill.db.parent.iterdir():
        if path.name.startswith(sample_backfill.db.name):
            (shutil.copytree if path.is_dir() else shutil.copy2)(path, copy / path.name)
    shutil.copytree(sample_backfill.exports, copy / "exports")
    return copy


def test_a_run_compared_with_its_own_copy_is_identical(golden, sample_backfill):
    result = _compare(golden, sample_backfill)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "identical" in result.stdout


def test_one_changed_export_cent_is_a_difference(golden, sample_backfill, tmp_path):
    changed = tmp_path / "golden"
    shutil.copytree(golden, changed, symlinks=True)
    export = sorted((changed / "exports").rglob("*.parquet"))[0]
    with duckdb.connect() as con:
        columns = con.execute("SELECT * FROM read_parquet(?) LIMIT 0", [str(export)]).description
        money = next(name for name, *_ in columns if name.endswith("_usd"))
        con.execute(
            f'COPY (SELECT * REPLACE ("{money}" + 0.01 AS "{money}") FROM read_parquet(?)) TO \'{export}.new\' (FORMAT parquet)',
            [str(export)],
        )
    Path(f"{export}.new").replace(export)
    result = _compare(changed, sample_backfill)
    assert result.returncode == 1
    assert f"export {export.relative_to(changed / 'exports')}" in result.stdout


def test_a_missing_golden_copy_is_refused_with_exit_code_2(sample_backfill, tmp_path):
    result = _compare(tmp_path / "nowhere", sample_backfill)
    assert result.returncode == 2
    assert "nothing to compare" in result.stderr and "nowhere" in result.stderr
    assert "Traceback" not in result.stderr


def test_make_compare_needs_golden():
    result = subprocess.run(["make", "-s", "compare", "GOLDEN="], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    assert "make compare: give the golden copy" in result.stderr
