"""A one-line duty quote: price a single line under a schedule, component by component, as
the contract's JSON object (money as strings with two decimals, rates as fractions), and render
it as a CBP Form 7501-style breakdown. Pure: no I/O."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from transforms.duty import AD_VALOREM_CODES, line_components
from transforms.vocabulary import MONEY, RATE


def _rate_number(rate: Decimal | None) -> float | None:
    """A rate fraction as a JSON number (rates carry at most 6 decimals: exact in a float's
    shortest repr)."""
    return None if rate is None else float(rate)


def _cents(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


class QuoteError(ValueError):
    """The quote's line cannot be priced under the schedule (e.g. an unknown HTS code)."""


def quote_line(hts_code: str, origin: str, entry_date: str, value: str, quantity: str | None, schedule) -> dict:
    """The quote as the contract's JSON object (money as strings, rates as fractions)."""
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
            "transport_mode": ["vessel"],
            "source_row": [1],
        },
        schema_overrides={
            "customs_value_usd": MONEY, "quantity": RATE, "line_number": pl.Int64, "source_row": pl.Int64,
        },
    )
    components = line_components(line, schedule)
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
        "components": [
            {
                "program": r["program"],
                "heading": r["heading"],
                "measure_id": r["measure_id"],
                "stated_rate": r["stated_rate"],
                "rate": _rate_number(r["rate"]),
                "duty_usd": _cents(r["duty_usd"]),
            }
            for r in rows
        ],
        "total_duty_usd": _cents(total),
        "schedule_version": schedule.version,
        "unconfirmed": _unconfirmed(rows, schedule),
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
    return "\n".join(lines)
