"""The `tariffcost` command line (contract: README "Command line").

Exit codes: 0 success; 1 the run failed and nothing was published (or `validate` found
problems); 2 bad command line. Prefect is imported only by `run`, `backfill` and `serve`, so
`quote`, `validate` and `schedule` answer without starting it.

The commands are split by kind: flows/cli/batch.py (`run`, `backfill`, `serve`),
flows/cli/lookup.py (`quote`, `validate`, `schedule`), flows/cli/refunds.py (`refunds`);
flows/cli/base.py holds the Typer app,
the option types and the value parsers. The entry point stays `flows.cli:app`.
"""

from __future__ import annotations

from flows.cli import batch, lookup, refunds  # noqa: F401  (registers the commands on `app`)
from flows.cli.base import app
from flows.cli.batch import SERVE_CRON, SERVE_TIMEZONE

__all__ = ["SERVE_CRON", "SERVE_TIMEZONE", "app"]
