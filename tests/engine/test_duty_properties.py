"""Property tests (hypothesis) of the engine's invariants on the shipped schedule."""

import datetime as dt
from decimal import Decimal

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.inputs.schedule import read_schedule
from transforms.duty import compute_exact_components, compute_line_duty, layers
from transforms.vocabulary import MONEY, RATE

SCHEDULE = read_schedule()
HTS8 = sorted(SCHEDULE.mfn.filter(pl.col("mfn_rate_type_code").is_in(["0", "7", "4"]))["hts8"].to_list())
ORIGINS = ["JP", "DE", "KR", "CN", "MX", "EU"]
CENT = Decimal("0.01")

line = st.tuples(
    st.sampled_from(HTS8),
    st.sampled_from(["10", "20", "90"]),
    st.sampled_from(ORIGINS),
    st.dates(dt.date(2024, 10, 1), dt.date(2026, 12, 31)),
    st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=0, max_value=5_000, places=0, allow_nan=False, allow_infinity=False),
)


def frame(rows) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "line_number": list(range(1, len(rows) + 1)),
            "hts_code": [r[0] + r[1] for r in rows],
            "country_of_origin": [r[2] for r in rows],
            "entry_date": [r[3] for r in rows],
            "customs_value_usd": [r[4] for r in rows],
            "quantity": [r[5] for r in rows],
        },
        schema_overrides={"customs_value_usd": MONEY, "quantity": RATE},
    )


common = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(st.lists(line, min_size=1, max_size=40))
def test_components_sum_to_total_and_total_at_least_mfn(rows):
    out = compute_line_duty(frame(rows), SCHEDULE)
    parts = out["mfn_duty_usd"] + out["section_232_duty_usd"] + out["ieepa_duty_usd"] + out["other_duty_usd"]
    assert (parts == out["total_duty_usd"]).all()
    assert (out["total_duty_usd"] >= out["mfn_duty_usd"]).all()
    assert (out["mfn_duty_usd"] >= 0).all()


@common
@given(st.lists(line, min_size=1, max_size=40))
def test_inclusive_total_never_exceeds_its_cap_unless_mfn_alone_does(rows):
    names = layers(SCHEDULE)
    exact = compute_exact_components(frame(rows), SCHEDULE)
    out = compute_line_duty(frame(rows), SCHEDULE)
    joined = exact.select("line_number", *[f"{n}__shape" for n in names], *[f"{n}__rate" for n in names]).join(
        out.select("line_number", "customs_value_usd", "mfn_duty_usd", "total_duty_usd"), on="line_number"
    )
    for row in joined.iter_rows(named=True):
        shapes = [row[f"{n}__shape"] for n in names if row[f"{n}__shape"] is not None]
        if not shapes or any(s != "inclusive_total" for s in shapes):
            continue
        cap = max(row[f"{n}__rate"] for n in names if row[f"{n}__shape"] == "inclusive_total")
        cap_usd = (cap * row["customs_value_usd"]).quantize(CENT)
        # one cent of slack: MFN and the top-up are each rounded once
        assert row["total_duty_usd"] <= max(row["mfn_duty_usd"], cap_usd + CENT)


@settings(max_examples=25, deadline=None)
@given(st.lists(line, min_size=2, max_size=40), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_row_order(rows, rnd):
    data = frame(rows)
    order = list(range(data.height))
    rnd.shuffle(order)
    first = compute_line_duty(data, SCHEDULE).sort("line_number")
    second = compute_line_duty(data[order], SCHEDULE).sort("line_number")
    assert first.equals(second)


def test_pool_covers_every_rate_type_used_by_generated_lines():
    assert {"0", "7"} <= set(SCHEDULE.mfn.filter(pl.col("hts8").is_in(HTS8))["mfn_rate_type_code"])
    assert len(HTS8) > 2000
