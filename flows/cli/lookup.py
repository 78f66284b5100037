"""The commands that answer without running the pipeline (and without Prefect): `quote` (one
line's duty), `validate` (an input file against its contract) and `schedule` (the measures and
fees in force on a date)."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from flows.cli.base import (
    LOOKUP_EXIT_CODES,
    VALIDATE_EXIT_CODES,
    Command,
    CustomsMapOpt,
    InputKind,
    ScheduleOpt,
    app,
    check_customs_map,
    date_option,
    fail,
    hts_option,
    money_text,
    origin_option,
    quantity_text,
    read_customs_map_or_exit,
    read_schedule_or_exit,
)

# --------------------------------------------------------------------------------------------
# quote

CLAIM_RE = re.compile(r"^99\d{2}\.\d{2}\.\d{2}$")


def _optional_date(value: str | None) -> str | None:
    return None if value is None else date_option(value)


def _optional_money(value: str | None) -> str | None:
    return None if value is None else money_text(value)


def _claims(values: list[str] | None) -> list[str]:
    claims = [v.strip() for v in values or []]
    for claim in claims:
        if not CLAIM_RE.match(claim):
            raise typer.BadParameter(f"must be a chapter 99 heading written 9903.94.06, got {claim!r}")
    return claims


def metal_content_option(metal: str) -> Any:
    """`--steel-content` / `--aluminum-content`: the declared value of a metal's content."""
    return Annotated[
        str | None,
        typer.Option(f"--{metal}-content", metavar="USD", callback=_optional_money,
                     help=f"Value of the {metal} content (Section 232 derivatives)."),
    ]


SteelContentOpt = metal_content_option("steel")
AluminumContentOpt = metal_content_option("aluminum")


@app.command(cls=Command, epilog=LOOKUP_EXIT_CODES)
def quote(
    hts: Annotated[
        str, typer.Option("--hts", metavar="CODE", help="10-digit HTS code (dots allowed).", callback=hts_option)
    ],
    origin: Annotated[
        str, typer.Option("--origin", metavar="CC", help="Country of origin, ISO alpha-2.", callback=origin_option)
    ],
    entry_date: Annotated[
        str, typer.Option("--entry-date", metavar="YYYY-MM-DD", help="Date of entry.", callback=date_option)
    ],
    value: Annotated[
        str, typer.Option("--value", metavar="USD", help="Customs (entered) value in USD.", callback=money_text)
    ],
    quantity: Annotated[
        str | None,
        typer.Option(
            "--quantity", metavar="Q", help="Quantity in the HTS unit (for specific rates).", callback=quantity_text
        ),
    ] = None,
    export_date: Annotated[
        str | None,
        typer.Option(
            "--export-date",
            metavar="YYYY-MM-DD",
            help="Date of exportation (7501 block 11), for the in-transit rules.",
            callback=_optional_date,
        ),
    ] = None,
    steel_content: SteelContentOpt = None,
    aluminum_content: AluminumContentOpt = None,
    claim: Annotated[
        list[str] | None,
        typer.Option(
            "--claim", metavar="HEADING", help="A chapter 99 heading the line declares (repeatable), e.g. 9903.94.06.",
            callback=_claims,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    schedule: ScheduleOpt = None,
) -> None:
    """One line's duty, component by component, without running the pipeline."""
    from transforms.quote import QuoteError, quote_line, render_quote

    if export_date is not None and export_date > entry_date:
        raise typer.BadParameter(
            f"the date of exportation {export_date} is after the entry date {entry_date}", param_hint="--export-date"
        )
    content = sum(Decimal(c) for c in (steel_content, aluminum_content) if c is not None)
    if content > Decimal(value):
        raise typer.BadParameter(
            f"the declared metal content {content} exceeds the value {value}",
            param_hint="--steel-content/--aluminum-content",
        )
    sched = read_schedule_or_exit(schedule)
    try:
        q = quote_line(
            hts, origin, entry_date, value, quantity, sched,
            export_date=export_date, steel_content=steel_content, aluminum_content=aluminum_content,
            claims=claim or [],
        )
    except QuoteError as error:
        raise typer.BadParameter(str(error), param_hint="--hts") from None
    typer.echo(json.dumps(q, indent=2) if as_json else render_quote(q))


# --------------------------------------------------------------------------------------------
# validate / schedule


DEFAULT_EXAMPLES = 5


@app.command(cls=Command, epilog=VALIDATE_EXIT_CODES)
def validate(
    file: Annotated[Path, typer.Argument(help="Input file to check.", exists=True, dir_okay=False, readable=True)],
    kind: Annotated[
        InputKind | None,
        typer.Option("--kind", help="The input kind of the file (with --customs-map: customs, the default)."),
    ] = None,
    examples: Annotated[
        int,
        typer.Option("--examples", metavar="N", help="Example rows shown per check.", min=0),
    ] = DEFAULT_EXAMPLES,
    show_all: Annotated[bool, typer.Option("--all", help="List every failing row (overrides --examples).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (counts and examples).")] = False,
    schedule: ScheduleOpt = None,
    customs_map: CustomsMapOpt = None,
) -> None:
    """Check an input file against its contract: the number of failing rows per column and
    check first, then at most N example rows (row, column, value, rule) of each check. With
    --customs-map, first how the file's headers map (and the headers that did not, with a
    close match), then the problems after mapping."""
    if kind is None and not customs_map:
        raise typer.BadParameter("give --kind customs|vehicles|census", param_hint="--kind")
    kind = kind or "customs"
    if customs_map and kind != "customs":
        raise typer.BadParameter("--customs-map applies to --kind customs only", param_hint="--customs-map")
    from flows.inputs.kinds import validate_file

    cmap = _show_mapping(customs_map, file, echo=not as_json) if customs_map else None
    sched = read_schedule_or_exit(schedule)
    try:
        problems = validate_file(file, kind, sched, cmap) if cmap else validate_file(file, kind, sched)
    except ValueError as error:
        raise fail(f"tariffcost: {error}") from None
    report = problem_report(str(file), kind, problems, None if show_all else examples)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        for line in problem_lines(report):
            typer.echo(line)
    if problems:
        raise typer.Exit(1)


def problem_report(file: str, kind: str, problems: list, examples: int | None) -> dict:
    """`validate`'s answer as data: totals, then one entry per (column, check) in the order
    the checks first fail, with how many rows broke it and up to `examples` of them (None:
    all)."""
    checks: dict[tuple[str | None, str], dict] = {}
    for p in problems:
        entry = checks.setdefault(
            (p.column, p.check),
            {"column": p.column, "check": p.check, "rule": p.message, "rows": 0, "examples": []},
        )
        entry["rows"] += 1
        if examples is None or len(entry["examples"]) < examples:
            entry["examples"].append({"row": p.row, "value": p.value})
    by_size = sorted(checks.values(), key=lambda c: -c["rows"])
    return {
        "file": file,
        "kind": kind,
        "problems": len(problems),
        "rows": len({p.row for p in problems if p.row is not None}),
        "checks": by_size,
    }


def problem_lines(report: dict) -> list[str]:
    """The text form: the totals and one count line per check, then each check's examples."""
    file, kind, total = report["file"], report["kind"], report["problems"]
    if not total:
        return [f"{file}: no problems ({kind})"]
    rows = report["rows"]
    in_rows = f" in {rows:,} row{'s' if rows != 1 else ''}" if rows else ""
    out = [f"{file}: {total:,} problem{'s' if total != 1 else ''}{in_rows} ({kind})"]
    for c in report["checks"]:
        where = f"{c['column']} / {c['check']}" if c["column"] else c["check"]
        if c["examples"] and c["examples"][0]["row"] is None:  # a file-level problem
            out.append(f"  {where}: {c['rule']}")
        else:
            out.append(f"  {where}: {c['rows']:,} row{'s' if c['rows'] != 1 else ''}: {c['rule']}")
    for c in report["checks"]:
        shown = c["examples"]
        if not shown or shown[0]["row"] is None:
            continue
        where = f"{c['column']} / {c['check']}" if c["column"] else c["check"]
        of = "every row" if len(shown) == c["rows"] else f"first {len(shown)} of {c['rows']:,} rows"
        out.append(f"{where} ({of}):")
        out.extend(f"  row {e['row']}: {e['value']!r}" for e in shown)
    return out


def _show_mapping(spec: str, file: Path, echo: bool = True):
    """Print how `file` maps through the map `spec` (unless `echo` is off, e.g. for --json);
    exit 2 when a mapped header is missing."""
    from flows.inputs.customs_maps import mapping_lines
    from flows.inputs.files import InputSchemaError, file_headers, input_source

    cmap = read_customs_map_or_exit(spec)
    source = input_source(file, cmap.sheet)
    try:
        headers = file_headers(file, source, cmap.sheet)
    except InputSchemaError as error:
        raise fail(f"tariffcost: {error}") from None
    for line in mapping_lines(cmap, headers) if echo else []:
        typer.echo(line)
    check_customs_map(spec, file)  # exits 2 naming the map, key and header of a missing one
    return cmap




@app.command(name="schedule", cls=Command, epilog=LOOKUP_EXIT_CODES)
def schedule_command(
    on: Annotated[str | None, typer.Option("--date", metavar="YYYY-MM-DD", help="Entry date (default: today).")] = None,
    origin: Annotated[
        str | None, typer.Option("--origin", metavar="CC", help="Only measures for this origin (and all origins).")
    ] = None,
    schedule: ScheduleOpt = None,
) -> None:
    """List the chapter 99 measures and fees in force on a date, with headings, rates,
    sources and UNCONFIRMED flags."""
    import polars as pl

    from transforms.schedule import in_force_on, measures_in_force

    day = dt.date.fromisoformat(date_option(on)) if on else dt.date.today()
    country = origin_option(origin) if origin else None
    sched = read_schedule_or_exit(schedule)
    measures = measures_in_force(sched, day)
    if country:
        measures = measures.filter(pl.col("origin").is_in([country, "*"]))
    fees = sched.fees.filter(in_force_on(pl.col("valid_from"), pl.col("valid_to"), pl.lit(day)))
    typer.echo(
        f"Schedule {sched.version} ({sched.name}), in force on {day.isoformat()}"
        + (f", origin {country}" if country else "")
        + f" — {sched.source}"
    )
    typer.echo(f"{measures.height} measure{'s' if measures.height != 1 else ''}:")
    for m in measures.to_dicts():
        flag = "  UNCONFIRMED" if m["confidence"] == "unconfirmed" else ""
        heading = m["heading"] + (f" / {m['heading_at_or_above_cap']}" if m["heading_at_or_above_cap"] else "")
        until = f" to {m['valid_to']}" if m["valid_to"] else ""
        typer.echo(
            f"  {m['measure_id']:<24} {heading:<24} {_stated(m['rate'], m['shape']):<12} "
            f"{m['program']:<12} origin {m['origin']:<3} scope {m['scope_id']:<20} "
            f"from {m['valid_from']}{until}{flag}"
        )
        typer.echo(f"      {m['description']}. Source: {m['legal_source']}")
        if flag:
            typer.echo(f"      UNCONFIRMED: {m['confidence_note']}")
    typer.echo(f"{fees.height} fee{'s' if fees.height != 1 else ''}:")
    for f in fees.to_dicts():
        flag = "  UNCONFIRMED" if f["confidence"] == "unconfirmed" else ""
        bounds = ", ".join(
            part
            for part in (
                f"min {f['min_usd']}" if f["min_usd"] is not None else "",
                f"max {f['max_usd']}" if f["max_usd"] is not None else "",
            )
            if part
        )
        typer.echo(
            f"  {f['fee_id']:<6} rate {f['rate'].normalize()}{' (' + bounds + ')' if bounds else ''} "
            f"modes {f['transport_modes']} from {f['valid_from']}"
            + (f" to {f['valid_to']}" if f["valid_to"] else "")
            + f"{flag}. Source: {f['legal_source']}"
        )
        if flag:
            typer.echo(f"      UNCONFIRMED: {f['confidence_note']}")


def _stated(rate: Decimal, shape: str) -> str:
    percent = f"{rate * 100:.4f}".rstrip("0").rstrip(".")
    return f"+{percent}%" if shape == "additive" else f"{percent}% total"
