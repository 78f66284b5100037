"""A one-line duty quote: price a single line under a schedule, component by component, as
the contract's JSON object (money as strings with two decimals, rates as fractions), and render
it as a CBP Form 7501-style breakdown. Pure: no I/O."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal

import polars as pl

from transforms.duty import AD_VALOREM_CODES, HEADING_SEPARATOR, components_of, priced_lines
from transforms.vocabulary import MONEY, RATE

REFUSED_CLAIM = re.compile(r"^claim (\S+) refused")


def _rate_number(rate: Decimal | None) -> float | None:
    """A rate fraction as a JSON number (rates carry at most 6 decimals: exact in a float's
    shortest repr)."""
    return None if rate is None else float(rate)


def _cents(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


# The dtypes of the quoted line's columns that its Python values do not fix.
QUOTE_LINE_DTYPES = {
    "customs_value_usd": MONEY, "quantity": RATE, "line_number": pl.Int64, "source_row": pl.Int64,
    "steel_content_value_usd": MONEY, "aluminum_content_value_usd": MONEY,
    "export_date": pl.Date, "declared_headings": pl.Utf8,
}


class QuoteError(ValueError):
    """The quote's line cannot be priced under the schedule (e.g. an unknown HTS code)."""


def quote_line(
    hts_code: str,
    origin: str,
    entry_date: str,
    value: str,
    quantity: str | None,
    schedule,
    *,
    export_date: str | None = None,
    steel_content: str | None = None,
    aluminum_content: str | None = None,
    claims: Sequence[str] = (),
    transport_mode: str = "vessel",
) -> dict:
    """The quote as the contract's JSON object (money as strings, rates as fractions).

    The line facts are those of an input line: the date of exportation (in-transit rules),
    the declared steel / aluminum content (Section 232 derivatives) and the chapter 99
    headings claimed (`declared_headings`); the quote is priced exactly as `run` prices a line
    with them (`transport_mode` vessel unless given)."""
    mfn_row = schedule.mfn.filter(pl.col("hts8") == hts_code[:8])
    if mfn_row.height == 0:
        raise QuoteError(
            f"HTS {format_hts(hts_code)} is not in the schedule's MFN table "
            f"(no row for hts8 {hts_code[:8]} in {schedule.source})"
        )
    day = dt.date.fromisoformat(entry_date)
    line = pl.DataFrame(
        {
            "entry_number": ["QUOTE000000"],
            "line_number": [1],
            "entry_date": [day],
            "month": [day.strftime("%Y-%m")],
            "hts_code": [hts_code],
            "country_of_origin": [origin],
            "customs_value_usd": [Decimal(value)],
            "quantity": [Decimal(quantity) if quantity is not None else None],
            "transport_mode": [transport_mode],
            "source_row": [1],
            "steel_content_value_usd": [Decimal(steel_content) if steel_content is not None else None],
            "aluminum_content_value_usd": [Decimal(aluminum_content) if aluminum_content is not None else None],
            "export_date": [dt.date.fromisoformat(export_date) if export_date is not None else None],
            "declared_headings": [HEADING_SEPARATOR.join(dict.fromkeys(claims)) or None],
        },
        schema_overrides=QUOTE_LINE_DTYPES,
    )
    exact = priced_lines(line, schedule)  # one engine pass: the line's duty and its components
    components = components_of(exact, line.columns, schedule)
    priced = exact.row(0, named=True)
    flags = [f for f in priced["flags"].split(", ") if f]
    rows = components.select("program", "heading", "measure_id", "stated_rate", "rate", "duty_usd").to_dicts()
    mfn = next(r for r in rows if r["heading"] == "MFN")
    total = sum((r["duty_usd"] for r in rows), Decimal("0.00"))
    mfn_text = mfn["stated_rate"]
    tariff = mfn_row.row(0, named=True)
    # the stated ad valorem rate; for specific or compound rates, the ad valorem equivalent
    mfn_rate = (
        tariff["mfn_ad_val_rate"] if tariff["mfn_rate_type_code"] in AD_VALOREM_CODES else mfn["rate"]
    )
    return {
        "hts_code": hts_code,
        "origin": origin,
        "entry_date": entry_date,
        "customs_value_usd": _cents(Decimal(value)),
        "quantity": quantity,
        "mfn_rate": _rate_number(mfn_rate),
        "mfn_rate_text": mfn_text,
        "components": [_component(r) for r in rows],
        "total_duty_usd": _cents(total),
        "ch99_headings": [h for h in priced["ch99_headings"].split(", ") if h],
        "export_date": export_date,
        "steel_content_value_usd": _cents(Decimal(steel_content)) if steel_content is not None else None,
        "aluminum_content_value_usd": _cents(Decimal(aluminum_content)) if aluminum_content is not None else None,
        "claims": list(dict.fromkeys(claims)),
        "refused_claims": [m.group(1) for f in flags if (m := REFUSED_CLAIM.match(f))],
        "flags": flags,
        "schedule_version": schedule.version,
        "unconfirmed": _unconfirmed(rows, schedule),
    }


def _component(row: dict) -> dict:
    """One component of the quote: its program, heading, measure, rates and duty."""
    return {
        "program": row["program"],
        "heading": row["heading"],
        "measure_id": row["measure_id"],
        "stated_rate": row["stated_rate"],
        "rate": _rate_number(row["rate"]),
        "duty_usd": _cents(row["duty_usd"]),
    }


def _unconfirmed(rows: list[dict], schedule) -> list[str]:
    ids = {r["measure_id"] for r in rows if r["measure_id"]}
    measures = schedule.unconfirmed_measures
    return sorted(m for m in measures.get_column("measure_id").to_list() if m in ids)


def format_hts(code: str) -> str:
    return f"{code[:4]}.{code[4:6]}.{code[6:8]}.{code[8:]}"


def render_quote(q: dict) -> str:
    """A readable, CBP Form 7501-style breakdown of a quote."""
    def usd(text: str) -> str:
        return f"{Decimal(text):,.2f}"

    def pct(rate: float | None) -> str:
        return "—" if rate is None else f"{Decimal(str(rate)) * 100:.4f}".rstrip("0").rstrip(".") + "%"

    lines = [
        f"Duty quote (CBP Form 7501 style), schedule {q['schedule_version']}",
        f"  HTS {format_hts(q['hts_code'])}   origin {q['origin']}   entry date {q['entry_date']}",
        f"  entered value USD {usd(q['customs_value_usd'])}"
        + (f"   quantity {q['quantity']}" if q["quantity"] is not None else ""),
        "",
        f"  {'HTS / ch. 99 heading':<22}{'program':<14}{'stated rate':<18}{'rate':>10}{'duty USD':>16}",
    ]
    for c in q["components"]:
        heading = format_hts(q["hts_code"]) if c["heading"] == "MFN" else c["heading"]
        flag = "  UNCONFIRMED" if c["measure_id"] in q["unconfirmed"] else ""
        lines.append(
            f"  {heading:<22}{c['program'] or '':<14}{c['stated_rate'] or '':<18}"
            f"{pct(c['rate']):>10}{usd(c['duty_usd']):>16}{flag}"
        )
    lines += [
        f"  {'':<22}{'':<14}{'':<18}{'':>10}{'-' * 16:>16}",
        f"  {'total duty':<22}{'':<14}{'':<18}{'':>10}{usd(q['total_duty_usd']):>16}",
    ]
    facts = [
        f"exported {q['export_date']}" if q.get("export_date") else None,
        f"steel content USD {usd(q['steel_content_value_usd'])}" if q.get("steel_content_value_usd") else None,
        f"aluminum content USD {usd(q['aluminum_content_value_usd'])}" if q.get("aluminum_content_value_usd") else None,
        f"claims {', '.join(q['claims'])}" if q.get("claims") else None,
    ]
    if any(facts):
        lines.append("  declared: " + "; ".join(f for f in facts if f))
    exemptions = [h for h in q.get("ch99_headings", []) if h not in {c["heading"] for c in q["components"]}]
    if exemptions:
        lines.append("  exempt under: " + ", ".join(exemptions))
    lines += [f"  note: {flag}" for flag in q.get("flags", [])]
    return "\n".join(lines)
