"""`tariffcost backfill` cluster options: bad combinations exit 2 before anything starts."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.run.distributed import ClusterSpec

runner = CliRunner()
RANGE = ["backfill", "--from", "2025-01", "--to", "2025-02"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--cluster", "tcp://127.0.0.1:8786", "--workers", "2"], "not both"),
        (["--workers", "0"], "--workers"),
        (["--customs", "s3://bucket/lines.parquet"], "needs --cluster or --workers"),
        (["--customs", "/no/such/file.parquet", "--workers", "2"], "does not exist"),
        (["--workers", "2", "--partition-lines", "0"], "--partition-lines"),
    ],
)
def test_bad_cluster_options_exit_2(extra, message):
    result = runner.invoke(app, [*RANGE, *extra])
    assert result.exit_code == 2
    assert message in result.output


def test_cluster_spec_needs_exactly_one_of_address_and_workers():
    with pytest.raises(ValueError, match="exactly one"):
        ClusterSpec()
    with pytest.raises(ValueError, match="exactly one"):
        ClusterSpec(address="tcp://127.0.0.1:8786", workers=2)
    assert ClusterSpec(workers=3).task_runner().cluster_kwargs["n_workers"] == 3
    assert ClusterSpec(address="tcp://127.0.0.1:8786").task_runner().address == "tcp://127.0.0.1:8786"
