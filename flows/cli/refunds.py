"""`tariffcost refunds`: an importer's CAPE refund declaration and its worksheet, from the
warehouse's IEEPA refund ledger (flows/present/cape.py writes the files)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated

import typer

from flows.cli.base import REFUNDS_EXIT_CODES, Command, DbOpt, app, date_option, fail, month_option


@app.command(cls=Command, epilog=REFUNDS_EXIT_CODES)
def refunds(
    importer: Annotated[
        str, typer.Option("--importer", metavar="ID", help="Importer of record number, as in the customs input.")
    ],
    month: Annotated[
        list[str] | None,
        typer.Option(
            "--month",
            metavar="YYYY-MM",
            help="Only entries of this month (repeatable; default: every month in the warehouse).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="The CAPE declaration CSV to write (default cape_<importer>.csv); the worksheet goes beside it.",
        ),
    ] = None,
    db: DbOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", metavar="YYYY-MM-DD", help="Estimate liquidation status as of this date (default: today)."
        ),
    ] = None,
) -> None:
    """Write the importer's CAPE refund declaration (entry numbers eligible for CBP's CAPE
    IEEPA refund process) and a worksheet with the IEEPA duty and liquidation estimate per
    entry, from fct_ieepa_refunds."""
    from flows.config import settings
    from flows.present.cape import RefundsError, write_cape_files

    months = [month_option(m) for m in month or []]
    day = dt.date.fromisoformat(date_option(as_of)) if as_of else dt.date.today()
    target = out or Path(f"cape_{re.sub(r'[^A-Za-z0-9_-]', '_', importer)}.csv")
    try:
        files = write_cape_files(Path(db) if db else settings().db_path, importer, months, target, day)
    except RefundsError as error:
        raise fail(f"tariffcost: {error}") from None
    typer.echo(
        f"importer {importer}: {files.entries} entries with IEEPA duty (USD {files.ieepa_duty_usd:,}), "
        f"{files.eligible_entries} eligible for CAPE as of {day.isoformat()} (USD {files.eligible_ieepa_duty_usd:,})"
    )
    for path in files.declarations:
        typer.echo(f"CAPE declaration: {path}")
    if not files.declarations:
        typer.echo("no entry is eligible for CAPE: no declaration file written")
    typer.echo(f"worksheet: {files.worksheet}")
    typer.echo(
        "note: the CAPE upload layout (one column 'Entry Number') is from secondary sources; "
        "compare with the template in ACE Portal > CAPE before uploading"
    )
