"""The report's charts as Vega-Lite specs (plain dicts, drawn in the browser by Vega-Embed).
Readability rules every chart follows: months are `YYYY-MM` and at most `MAX_MONTH_LABELS`
of them are labelled; money axes are abbreviated ($K / $M / $B) with at most `MONEY_TICKS`
ticks; policy dates are numbered markers placed in lanes so that no two numbers overlap (the
numbers are explained in the table under the chart).

The specs are written out in the form Altair's `to_dict()` gives (each chart's rows inline
under top-level `datasets`, named by a hash of their values; keys in the same order), without
importing Altair: its import was a tenth of a small month's run. tests/report/test_report.py
checks every chart against the Vega-Lite JSON schema."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from flows.present.report_data import ReportData, month_end, month_start
from flows.present.vega import chart, condition, field, layered, mark
from transforms.scenario import ENACTED

WIDTH = 760
MAX_MONTH_LABELS = 10
MONEY_TICKS = 5
PROGRAM_LABELS = {
    "mfn": "MFN",
    "section_232": "Section 232",
    "ieepa": "IEEPA reciprocal",
    "other": "Section 122 / 301",
}
PROGRAM_COLORS = ["#4c78a8", "#e45756", "#f58518", "#72b7b2"]
CATEGORY_ORDER = ["cars", "parts", "motorcycles", "trucks and buses"]
REFUND_STATUS_LABELS = {
    "likely_unliquidated": "unliquidated (CAPE)",
    "likely_within_80_days_of_liquidation": "within 80 days of liquidation (CAPE)",
    "likely_finally_liquidated": "finally liquidated (outside CAPE)",
}
REFUND_STATUS_COLORS = ["#4c78a8", "#f58518", "#bab0ac"]
# Policy-date markers: pixel geometry of the numbers drawn at the top of the rate chart.
MARKER_CHAR_PX = 7
MARKER_GAP_PX = 4
MARKER_LANE_PX = 13
MARKER_TOP_PX = 9
MARKER_HEADROOM = 0.25  # share of the rate chart's height kept free above the lines

# --------------------------------------------------------------------------------------------
# the report's charts


def refund_status_label(status: str) -> str:
    return REFUND_STATUS_LABELS.get(status, status.replace("_", " "))


def _floats(frame: pl.DataFrame) -> pl.DataFrame:
    """Money as float for drawing only (the tables show the exact decimals)."""
    return frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64))


def _with_month_date(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(month_start=(pl.col("month") + pl.lit("-01")))


def _label_step(count: int) -> int:
    return max(1, math.ceil(count / MAX_MONTH_LABELS))


def _ordinal_month_axis(months: list[str]) -> dict:
    """Months as ordered `YYYY-MM` bands; every k-th month labelled (at most MAX_MONTH_LABELS)."""
    months = sorted(set(months))
    step = _label_step(len(months))
    return field("month:O", title="month of entry", sort=months,
                 axis={"values": months[::step], "labelAngle": 0, "labelOverlap": True})


def _utc(day: dt.date) -> dict:
    return {"year": day.year, "month": day.month, "date": day.day, "utc": True}


def _time_domain(first_month: str, last_month: str) -> tuple[dt.date, dt.date]:
    return month_start(first_month), month_end(last_month) + dt.timedelta(days=1)


def _time_scale(first_month: str, last_month: str) -> dict:
    start, end = _time_domain(first_month, last_month)
    return {"domain": [_utc(start), _utc(end)], "nice": False}


def _time_month_axis(first_month: str, last_month: str, column: str = "month_start") -> dict:
    """Months on a UTC time axis from the first month's start to the last month's end, labelled
    `YYYY-MM` every k-th month."""
    start, end = _time_domain(first_month, last_month)
    months = (end.year - start.year) * 12 + end.month - start.month
    return field(
        f"utcyearmonthdate({column}):T", title="month of entry", scale=_time_scale(first_month, last_month),
        axis={"format": "%Y-%m", "labelAngle": 0, "labelOverlap": True,
              "tickCount": {"interval": "month", "step": _label_step(months)}},
    )


def money_unit(largest: float) -> tuple[float, str]:
    """The divisor and suffix that abbreviate amounts up to `largest` (USD)."""
    for divisor, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(largest) >= divisor:
            return divisor, suffix
    return 1.0, ""


def _money_axis(largest: float, title: str) -> dict:
    divisor, suffix = money_unit(largest)
    expr = f"datum.value == 0 ? '0' : '$' + format(datum.value / {divisor:g}, ',.4~r') + '{suffix}'"
    return {"title": title, "labelExpr": expr, "tickCount": MONEY_TICKS, "labelOverlap": True}


def _largest_stack(frame: pl.DataFrame, by: str, value: str) -> float:
    if not frame.height:
        return 0.0
    return float(frame.group_by(by).agg(pl.col(value).sum()).get_column(value).max() or 0.0)


def _money_tooltip(column: str, title: str | None = None, signed: bool = False) -> dict:
    return field(f"{column}:Q", format="+$,.2f" if signed else "$,.2f", title=title or column)


def duty_by_program_chart(data: ReportData) -> dict:
    order = {program: i for i, program in enumerate(PROGRAM_LABELS)}
    frame = _floats(data.by_program).with_columns(
        program_order=pl.col("program").replace_strict(order, default=len(order), return_dtype=pl.Int64),
        program=pl.col("program").replace_strict(PROGRAM_LABELS, default=pl.col("program")),
    )
    encoding = {
        "x": _ordinal_month_axis(frame.get_column("month").to_list()),
        "y": field("sum(duty_usd):Q", stack="zero",
                   axis=_money_axis(_largest_stack(frame, "month", "duty_usd"), "duty")),
        "color": field("program:N", title="program",
                       scale={"domain": list(PROGRAM_LABELS.values()), "range": PROGRAM_COLORS}),
        "order": field("program_order:Q"),  # MFN at the bottom of each bar
        "tooltip": [field("month:N"), field("program:N"), _money_tooltip("duty_usd", "duty")],
    }
    return chart(frame, mark("bar"), encoding, title="Duty by program per month", width=WIDTH, height=280)


def marker_lanes(events: pl.DataFrame, start: dt.date, end: dt.date, width: int = WIDTH) -> list[int]:
    """A lane (row) for each numbered policy marker, in event order: a marker goes in the first
    lane whose previous marker ends at least MARKER_GAP_PX to its left, so no two numbers
    overlap however close their dates are."""
    span = (end - start).days or 1
    lane_ends: list[float] = []
    lanes = []
    for number, day in zip(events.get_column("number").to_list(), events.get_column("date").to_list(), strict=True):
        half = (len(str(number)) * MARKER_CHAR_PX + 2) / 2
        x = (day - start).days / span * width
        lane = next((i for i, right in enumerate(lane_ends) if right + MARKER_GAP_PX <= x - half), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(x + half)
        else:
            lane_ends[lane] = x + half
        lanes.append(lane)
    return lanes


def _policy_layers(data: ReportData, scale: dict, start: dt.date, end: dt.date) -> list[tuple]:
    lanes = marker_lanes(data.policy_events, start, end)
    events = data.policy_events.with_columns(lane=pl.Series(lanes, dtype=pl.Int64))
    events = events.with_columns(day=pl.col("date").cast(pl.Utf8), date=pl.col("date").cast(pl.Utf8),
                                 marker=pl.col("number").cast(pl.Utf8))
    x = field("utcyearmonthdate(date):T", scale=scale, title="month of entry")
    tooltip = [field("marker:N", title="#"), field("day:N", title="policy date"), field("label:N", title="change")]
    layers = [(events, mark("rule", color="#999", strokeDash=[4, 3]), {"x": x, "tooltip": tooltip})]
    for lane in sorted(set(events.get_column("lane").to_list())):
        layers.append((
            events.filter(pl.col("lane") == lane),
            mark("text", fontSize=11, fontWeight="bold", color="#555", y=MARKER_TOP_PX + lane * MARKER_LANE_PX),
            {"x": x, "text": field("marker:N"), "tooltip": tooltip},
        ))
    return layers


def effective_rate_chart(data: ReportData) -> dict:
    frame = _floats(_with_month_date(data.rates))
    first, last = frame.get_column("month").min(), data.month
    # head room above the lines for the lanes of policy markers
    top = float(frame.get_column("effective_duty_rate").max() or 0.0) / (1 - MARKER_HEADROOM)
    lines = {
        "x": _time_month_axis(first, last),
        "y": field("effective_duty_rate:Q", title="effective duty rate", scale={"domain": [0, top or 1]},
                   axis={"format": ".0%", "tickCount": MONEY_TICKS}),
        "color": field("category:N", sort=CATEGORY_ORDER, title="category"),
        "tooltip": [field("month:N"), field("category:N"), field("effective_duty_rate:Q", format=".2%"),
                    _money_tooltip("total_duty_usd", "duty")],
    }
    layers = [(frame, mark("line", point=True), lines)]
    if data.policy_events.height:
        layers += _policy_layers(data, _time_scale(first, last), *_time_domain(first, last))
    title = f"Effective duty rate, origin {data.origin} (numbers: policy dates, table below)"
    return layered(layers, title=title, width=WIDTH, height=300)


def format_hts(hts_code: str) -> str:
    """`8703230190` → `8703.23.01.90`."""
    if len(hts_code) != 10:
        return hts_code
    return f"{hts_code[:4]}.{hts_code[4:6]}.{hts_code[6:8]}.{hts_code[8:]}"


def _hs_label(hts_code: str, description: str | None, limit: int = 46) -> str:
    """The HTS code and the distinguishing end of its description (the USITC brief
    descriptions of a heading all begin alike, e.g. `Motor vehicles to transport persons, …`)."""
    if not description:
        return format_hts(hts_code)
    clauses = description.split(", ", 1)
    tail = clauses[-1]
    short = tail if len(tail) <= limit else "…" + tail[-(limit - 1):].lstrip()
    return f"{format_hts(hts_code)} {short}"


def top_hs_chart(data: ReportData) -> dict:
    frame = _floats(data.top_hs).with_columns(
        label=pl.struct("hts_code", "description").map_elements(
            lambda r: _hs_label(r["hts_code"], r["description"]), return_dtype=pl.Utf8)
    )
    largest = float(frame.get_column("total_duty_usd").max() or 0.0)
    encoding = {
        "y": field("label:N", sort=frame.get_column("label").to_list(), title=None, axis={"labelLimit": 300}),
        "x": field("total_duty_usd:Q", axis=_money_axis(largest, "duty")),
        "tooltip": [field("hts_code:N"), field("description:N"), _money_tooltip("total_duty_usd", "duty"),
                    _money_tooltip("customs_value_usd", "customs value"),
                    field("effective_duty_rate:Q", format=".2%"), field("line_count:Q")],
    }
    title = f"Top {frame.height} HS codes by duty, {data.month}"
    return chart(frame, mark("bar", color="#4c78a8"), encoding, title=title, width=WIDTH - 300,
                 height=24 * frame.height)


IS_ENACTED = f"(datum.scenario === '{ENACTED}')"  # a Vega expression: the row is the schedule as enacted


def scenarios_chart(data: ReportData) -> dict:
    frame = _floats(data.scenarios)
    largest = float(frame.get_column("total_duty_usd").max() or 0.0)
    encoding = {
        "y": field("scenario:N", sort=frame.get_column("scenario").to_list(), title=None),
        "x": field("total_duty_usd:Q", axis=_money_axis(largest, "total duty")),
        "color": condition(IS_ENACTED, "#4c78a8", "#bab0ac"),
        "tooltip": [field("scenario:N"), _money_tooltip("total_duty_usd", "total duty"),
                    _money_tooltip("delta_vs_enacted_usd", "vs as enacted", signed=True),
                    field("effective_duty_rate:Q", format=".2%")],
    }
    return chart(frame, mark("bar"), encoding, title=f"Duty under each scenario, {data.month}",
                 width=WIDTH - 140, height=36 * frame.height)


def scenario_trend_chart(data: ReportData) -> dict:
    frame = _floats(_with_month_date(data.scenario_trend))
    largest = float(frame.get_column("total_duty_usd").max() or 0.0)
    encoding = {
        "x": _time_month_axis(frame.get_column("month").min(), data.month),
        "y": field("total_duty_usd:Q", axis=_money_axis(largest, "total duty")),
        "color": field("scenario:N", title="scenario"),
        "strokeDash": condition(IS_ENACTED, [1, 0], [5, 3]),
        "tooltip": [field("month:N"), field("scenario:N"), _money_tooltip("total_duty_usd", "total duty")],
    }
    return chart(frame, mark("line", point=True), encoding, title="Total duty per month under each scenario",
                 width=WIDTH, height=260)


def fees_chart(data: ReportData) -> dict:
    frame = _floats(data.fees_by_month)
    encoding = {
        "x": _ordinal_month_axis(frame.get_column("month").to_list()),
        "y": field("sum(fee_usd):Q", stack="zero", axis=_money_axis(_largest_stack(frame, "month", "fee_usd"), "fees")),
        "color": field("fee:N", title="fee", scale={"domain": ["MPF", "HMF"], "range": ["#54a24b", "#9d755d"]}),
        "tooltip": [field("month:N"), field("fee:N"), _money_tooltip("fee_usd", "fee")],
    }
    return chart(frame, mark("bar"), encoding,
                 title="Merchandise processing (MPF) and harbor maintenance (HMF) fees per month",
                 width=WIDTH, height=200)


def refunds_chart(data: ReportData) -> dict:
    frame = _floats(data.refunds.by_month).with_columns(
        status=pl.col("refund_status").map_elements(refund_status_label, return_dtype=pl.Utf8)
    )
    encoding = {
        "x": _ordinal_month_axis(frame.get_column("month").to_list()),
        "y": field("sum(ieepa_duty_usd):Q", stack="zero",
                   axis=_money_axis(_largest_stack(frame, "month", "ieepa_duty_usd"), "IEEPA duty")),
        "color": field("status:N", title="refund status (estimate)",
                       scale={"domain": list(REFUND_STATUS_LABELS.values()), "range": REFUND_STATUS_COLORS},
                       legend={"orient": "bottom", "columns": 1, "labelLimit": 400}),
        "tooltip": [field("month:N"), field("status:N"), _money_tooltip("ieepa_duty_usd", "IEEPA duty"),
                    field("first_liquidation_date:N", title="est. liquidation from"),
                    field("last_liquidation_date:N", title="est. liquidation to")],
    }
    return chart(frame, mark("bar"), encoding, title="IEEPA duty paid per entry month, by estimated refund status",
                 width=WIDTH, height=220)


def _has_scenario_trend(data: ReportData) -> bool:
    trend = data.scenario_trend
    return trend is not None and trend.height > 0 and trend.get_column("scenario").n_unique() > 1


def chart_specs(data: ReportData) -> dict[str, dict]:
    """Chart id → Vega-Lite spec (a dict), in page order. Charts without data are left out.
    The specs are not checked against the Vega-Lite JSON schema here (a third of the report's
    time): tests/report/test_report.py checks every chart against it."""
    refunds = data.refunds is not None and data.refunds.by_month.height > 0
    builders = [
        ("duty_by_program", data.by_program.height > 0, duty_by_program_chart),
        ("effective_rate", data.rates.height > 0, effective_rate_chart),
        ("refunds", refunds, refunds_chart),
        ("fees", data.fees_by_month.height > 0, fees_chart),
        ("top_hs", data.top_hs.height > 0, top_hs_chart),
        ("scenarios", data.scenarios is not None and data.scenarios.height > 0, scenarios_chart),
        ("scenario_trend", _has_scenario_trend(data), scenario_trend_chart),
    ]
    return {chart_id: build(data) for chart_id, present, build in builders if present}
