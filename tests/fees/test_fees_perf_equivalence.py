"""entry_fees against a plain per-entry Python reference of the fee rules (transforms/fees.py
docstring), on the inputs its columnar paths tell apart: lines already grouped by entry and
by line_number (kept in place) or not (sorted, then put back in input order), values whose
products fit Int64 or need Int128, ties broken by line_number then input row, zero-value
entries, modes no fee row covers, and rates whose rate × value has more than 10 decimals
(the product is rounded to 10 places half to even before the cent, as Decimal(38,10) did).
"""

import datetime as dt
from dataclasses import replace
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fees.fee_schedule import FEES, empty_schedule
from transforms.fees import entry_fees
from transforms.vocabulary import MONEY, RATE

SCHEDULE = empty_schedule()
# rates with 10 decimals: rate × value has up to 12, rounded to 10 before the cent
ODD_RATES = replace(
    SCHEDULE,
    fees=FEES.with_columns(
        rate=pl.when(pl.col("fee_id") == "hmf")
        .then(pl.lit(Decimal("0.0012500005"), dtype=RATE))
        .otherwise(pl.lit(Decimal("0.0034640003"), dtype=RATE))
    ),
)
ENTRY_DATES = ["2024-09-30", "2024-10-01", "2025-10-01", "2026-11-02"]
LINE_SCHEMA = {
    "entry_number": pl.Utf8, "line_number": pl.Int64, "entry_date": pl.Date,
    "customs_value_usd": MONEY, "transport_mode": pl.Utf8, "total_duty_usd": MONEY,
}


def reference_fees(lines: list[dict], fees: pl.DataFrame) -> list[tuple[Decimal, Decimal]]:
    """(mpf_usd, hmf_usd) per line, in input order, entry by entry in plain Python."""
    out = [[Decimal("0.00"), Decimal("0.00")] for _ in lines]
    entries: dict[str, list[int]] = {}
    for row, line in enumerate(lines):
        entries.setdefault(line["entry_number"], []).append(row)
    for rows in entries.values():
        day = lines[rows[0]]["entry_date"]
        for k, fee_id in enumerate(("mpf", "hmf")):
            (fee_row,) = [
                r for r in fees.filter(pl.col("fee_id") == fee_id).to_dicts()
                if r["valid_from"] <= day and (r["valid_to"] is None or day < r["valid_to"])
            ]
            modes = fee_row["transport_modes"].split(" ")
            covered = [r for r in rows if fee_row["transport_modes"] == "*" or lines[r]["transport_mode"] in modes]
            if not covered:
                continue
            base = sum(lines[r]["customs_value_usd"] for r in covered)
            fee = (fee_row["rate"] * base).quantize(Decimal("1E-10"), rounding=ROUND_HALF_EVEN)
            if fee_row["min_usd"] is not None and fee < fee_row["min_usd"]:
                fee = fee_row["min_usd"]
            if fee_row["max_usd"] is not None and fee > fee_row["max_usd"]:
                fee = fee_row["max_usd"]
            fee_cents = int(fee.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)
            weights = {r: int(lines[r]["customs_value_usd"] * 100) if base > 0 else 1 for r in covered}
            total = sum(weights.values())
            cents = {r: fee_cents * weights[r] // total for r in covered}
            remainder = {r: fee_cents * weights[r] % total for r in covered}
            left_over = fee_cents - sum(cents.values())
            for r in sorted(covered, key=lambda r: (-remainder[r], lines[r]["line_number"], r))[:left_over]:
                cents[r] += 1
            for r in covered:
                out[r][k] = Decimal(cents[r]) / 100
    return [tuple(pair) for pair in out]


values = st.one_of(
    st.sampled_from([Decimal("0.00"), Decimal("0.01"), Decimal("100.01"), Decimal("250000.00")]),
    st.decimals(min_value=Decimal("0.00"), max_value=Decimal("400000.00"), places=2),
    # fee cents × value cents beyond Int64: the Int128 path
    st.decimals(min_value=Decimal("1E+15"), max_value=Decimal("9999999999999999.99"), places=2),
)
entry_lines = st.lists(
    st.tuples(st.integers(min_value=1, max_value=5), values, st.sampled_from(["vessel", "air", "truck"])),
    min_size=1,
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(ENTRY_DATES), entry_lines), min_size=1, max_size=6),
    st.randoms(use_true_random=False),
    st.sampled_from(["grouped", "by line", "shuffled"]),
    st.sampled_from([SCHEDULE, ODD_RATES]),
)
def test_entry_fees_equal_the_per_entry_reference(entries, random, layout, schedule):
    lines = [
        {
            "entry_number": f"E{e}", "line_number": number, "entry_date": dt.date.fromisoformat(day),
            "customs_value_usd": value, "transport_mode": mode, "total_duty_usd": Decimal("1.00"),
        }
        for e, (day, entry) in enumerate(entries)
        for number, value, mode in entry
    ]
    if layout == "by line":  # entries together and by line_number: kept in place
        lines.sort(key=lambda line: (line["entry_number"], line["line_number"]))
    elif layout == "shuffled":  # entries interleaved: sorted, then put back in input order
        random.shuffle(lines)
    out = entry_fees(pl.DataFrame(lines, schema=LINE_SCHEMA), schedule)
    assert list(zip(out.get_column("mpf_usd"), out.get_column("hmf_usd"), strict=False)) == reference_fees(lines, schedule.fees)
    assert out.get_column("total_cost_usd").to_list() == [
        Decimal("1.00") + mpf + hmf for mpf, hmf in zip(out.get_column("mpf_usd"), out.get_column("hmf_usd"), strict=False)
    ]


def test_equal_remainders_and_equal_line_numbers_go_by_input_row():
    # one entry, four lines of 1.00 (two numbered 2) shuffled: 4.00 x 0.3464% -> minimum 31.67
    # (2024-09-30), 7.9175 each -> floors 4 x 7.91 = 31.64, 3 cents left over, equal remainders:
    # lines 1, then the two lines 2 in input order (rows 0 and 2), not line 3
    lines = pl.DataFrame(
        {
            "entry_number": ["E1"] * 4,
            "line_number": [2, 3, 2, 1],
            "entry_date": [dt.date(2024, 9, 30)] * 4,
            "customs_value_usd": [Decimal("1.00")] * 4,
            "transport_mode": ["air"] * 4,
            "total_duty_usd": [Decimal("0.00")] * 4,
        },
        schema=LINE_SCHEMA,
    )
    assert entry_fees(lines, SCHEDULE).get_column("mpf_usd").to_list() == [
        Decimal("7.92"), Decimal("7.91"), Decimal("7.92"), Decimal("7.92")
    ]
