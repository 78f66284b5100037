"""Golden rows for the engine's mechanics on a tiny hand-written schedule: prefix length,
origin specificity, half-open dates, exclusions, inclusive caps, specific rates, rounding."""

from decimal import Decimal

import polars as pl

from tests.engine.tiny_schedule import lines, measure, tiny_schedule
from transforms.duty import compute_line_duty, line_components, resolve_measures

MFN = {
    "87032301": ("2.5%", "7", "0.025", "0"),
    "87043101": ("25%", "7", "0.25", "0"),
    "87089999": ("2.5%", "7", "0.025", "0"),
    "87111000": ("Free", "0", "0", "0"),
    "84834070": ("25 cents each + 3.9%", "4", "0.039", "0.25"),
}
SCOPES = {"cars": ["87032301", "87043101"], "parts": ["8708", "870899"], "trucks": ["8704"]}
SCHEDULE = tiny_schedule(
    [
        measure("autos", "s232", "cars", "2025-04-03", "0.25", heading="9903.94.01"),
        measure("autos_jp", "s232", "cars", "2025-09-16", "0.15", origin="JP", shape="inclusive_total",
                heading="9903.94.41", cap_heading="9903.94.40"),
        measure("trucks", "s232", "trucks", "2025-11-01", "0.25", heading="9903.74.01"),
        measure("parts_broad", "s232", "parts", "2025-05-03", "0.25", heading="9903.94.05"),
        measure("recip", "ieepa", "*", "2025-04-05", "0.10", valid_to="2026-02-24", heading="9903.01.25",
                excluded_by="autos autos_jp parts_broad", component="ieepa", program="ieepa"),
    ],
    SCOPES,
    MFN,
)


def by_line(frame: pl.DataFrame) -> dict[int, dict]:
    return {row["line_number"]: row for row in frame.sort("line_number").to_dicts()}


def test_worked_examples_of_the_rules_file():
    # $30,000 car: before 232 -> 2.5% = 750.00; 232 era -> 750 + 7,500 = 8,250.00;
    # deal era (JP) -> 15% total = 4,500.00 (MFN 750 + 3,750 under the cap heading).
    out = by_line(compute_line_duty(lines(
        ("8703230190", "JP", "2025-03-15", "30000.00", "1"),
        ("8703230190", "JP", "2025-06-10", "30000.00", "1"),
        ("8703230190", "JP", "2025-09-16", "30000.00", "1"),
        ("8703230190", "JP", "2025-09-15", "30000.00", "1"),
    ), SCHEDULE))
    assert out[1]["total_duty_usd"] == Decimal("750.00") and out[1]["ch99_headings"] == ""
    assert out[1]["ieepa_duty_usd"] == Decimal("0.00")  # 2025-03-15: before the reciprocal start
    assert (out[2]["mfn_duty_usd"], out[2]["section_232_duty_usd"], out[2]["ieepa_duty_usd"]) == (
        Decimal("750.00"), Decimal("7500.00"), Decimal("0.00"))
    assert out[2]["total_duty_usd"] == Decimal("8250.00") and out[2]["ch99_headings"] == "9903.94.01"
    assert out[3]["section_232_duty_usd"] == Decimal("3750.00")
    assert out[3]["total_duty_usd"] == Decimal("4500.00") and out[3]["ch99_headings"] == "9903.94.41"
    assert out[3]["effective_duty_rate"] == Decimal("0.150000")
    assert out[4]["total_duty_usd"] == Decimal("8250.00")  # day before the deal: still 25% additive


def test_inclusive_cap_at_or_above_mfn_adds_nothing_and_uses_companion_heading():
    # light truck MFN 25% >= 15% cap: 232 deal adds 0, heading 9903.94.40; total 25% of 40,000 = 10,000.00
    out = by_line(compute_line_duty(lines(("8704310120", "JP", "2025-10-01", "40000.00", "1")), SCHEDULE))
    assert out[1]["section_232_duty_usd"] == Decimal("0.00")
    assert out[1]["total_duty_usd"] == Decimal("10000.00")
    assert out[1]["ch99_headings"] == "9903.94.40"


def test_origin_specific_measure_only_for_its_origin():
    # German car on the deal date keeps +25%: 30,000 x 27.5% = 8,250.00
    out = by_line(compute_line_duty(lines(("8703230190", "DE", "2025-09-16", "30000.00", "1")), SCHEDULE))
    assert out[1]["total_duty_usd"] == Decimal("8250.00")


def test_longest_prefix_wins_within_a_layer():
    # 8704.31.01 is in "cars" (8 digits) and "trucks" (4 digits): the 8-digit scope wins.
    resolved = resolve_measures(
        lines(("8704310120", "DE", "2025-12-01", "1.00", "1")).select("hts_code", "country_of_origin", "entry_date"),
        SCHEDULE,
    )
    assert resolved.filter(pl.col("layer") == "s232").get_column("measure_id").to_list() == ["autos"]


def test_exclusion_drops_reciprocal_for_232_goods_but_not_for_others():
    # part 8708.99.99 before the parts start (2025-05-02): reciprocal 10% of 1,000 = 100.00 on MFN 25.00;
    # on 2025-05-03 it is a 232 part: 25.00 + 250.00 and no reciprocal.
    # motorcycle (not 232): Free + 10% = 100.00
    out = by_line(compute_line_duty(lines(
        ("8708999990", "JP", "2025-05-02", "1000.00", "1"),
        ("8708999990", "JP", "2025-05-03", "1000.00", "1"),
        ("8711100000", "JP", "2025-05-03", "1000.00", "1"),
    ), SCHEDULE))
    assert (out[1]["ieepa_duty_usd"], out[1]["total_duty_usd"]) == (Decimal("100.00"), Decimal("125.00"))
    assert (out[2]["ieepa_duty_usd"], out[2]["total_duty_usd"]) == (Decimal("0.00"), Decimal("275.00"))
    assert out[3]["total_duty_usd"] == Decimal("100.00") and out[3]["ch99_headings"] == "9903.01.25"


def test_half_open_end_date():
    # reciprocal valid_to 2026-02-24 (exclusive): paid on 02-23, not on 02-24
    out = by_line(compute_line_duty(lines(
        ("8711100000", "JP", "2026-02-23", "500.00", "1"),
        ("8711100000", "JP", "2026-02-24", "500.00", "1"),
    ), SCHEDULE))
    assert out[1]["ieepa_duty_usd"] == Decimal("50.00")
    assert out[2]["ieepa_duty_usd"] == Decimal("0.00")


def test_compound_specific_rate_uses_quantity():
    # 25 cents each + 3.9%: 40 units, $1,234.56 -> 10.00 + 48.147840 = 58.147840 -> MFN 58.15
    out = by_line(compute_line_duty(lines(("8483407000", "JP", "2025-01-10", "1234.56", "40")), SCHEDULE))
    assert out[1]["mfn_duty_usd"] == Decimal("58.15")


def test_each_amount_rounded_once_half_away_from_zero():
    # 2.5% of 0.50 = 0.0125 -> 0.01; 2.5% of 0.70 = 0.0175 -> 0.02; 2.5% of 0.20 = 0.005 -> 0.01 (half up)
    out = by_line(compute_line_duty(lines(
        ("8703230190", "JP", "2025-01-10", "0.50", "1"),
        ("8703230190", "JP", "2025-01-10", "0.70", "1"),
        ("8703230190", "JP", "2025-01-10", "0.20", "1"),
    ), SCHEDULE))
    assert [out[i]["mfn_duty_usd"] for i in (1, 2, 3)] == [Decimal("0.01"), Decimal("0.02"), Decimal("0.01")]


def test_line_components_sum_to_total_and_name_headings():
    comps = line_components(lines(("8703230190", "JP", "2025-10-01", "30000.00", "1")), SCHEDULE)
    rows = comps.to_dicts()
    assert [r["heading"] for r in rows] == ["MFN", "9903.94.41"]
    assert [r["duty_usd"] for r in rows] == [Decimal("750.00"), Decimal("3750.00")]
    assert [r["rate"] for r in rows] == [Decimal("0.025000"), Decimal("0.125000")]
    assert rows[1]["stated_rate"] == "15% total"


def test_money_columns_are_decimal_18_2():
    out = compute_line_duty(lines(("8703230190", "JP", "2025-10-01", "30000.00", "1")), SCHEDULE)
    for column in ("mfn_duty_usd", "section_232_duty_usd", "ieepa_duty_usd", "other_duty_usd", "total_duty_usd"):
        assert out.schema[column] == pl.Decimal(18, 2), column
    assert out.schema["effective_duty_rate"] == pl.Decimal(18, 6)
