"""The run report's ingredients (golden rows) and its rendering; months; retryable errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from flows.months import month_days, month_range, parse_month, previous_month
from flows.present.findings import ProblemSummary, duty_by_program, run_warnings, worst_problems
from flows.present.summary import collapsed_problems, collapsed_warnings, month_ranges, summary_lines, summary_markdown
from flows.run.lifecycle import RunResult
from flows.run.stages import is_io_error
from flows.warehouse.publish import PublishError
from tests.engine.tiny_schedule import measure, tiny_schedule
from tests.flows.frames import rejects
from transforms.vocabulary import MONEY, RATE


def test_worst_problems_counts_rows_per_check_with_first_examples():
    frame = rejects("r1", [
        (9, "quantity", "not_empty", None),
        (2, "quantity", "not_empty", None),
        (5, "quantity", "not_empty", None),
        (7, "quantity", "not_empty", None),
        (5, "hts_code", "hts_10_digits", "87O3"),
    ])
    assert worst_problems(frame) == [
        ProblemSummary("in.csv", "quantity", "not_empty", 4, [(2, None), (5, None), (7, None)]),
        ProblemSummary("in.csv", "hts_code", "hts_10_digits", 1, [(5, "87O3")]),
    ]
    assert worst_problems(frame, top=1)[0].describe() == (
        "quantity / not_empty: 4 rows (e.g. row 2 None, row 5 None, row 7 None)"
    )
    assert worst_problems(frame.head(0)) == []


def lines(flags: list[str], amounts: list[str]) -> pl.DataFrame:
    columns = ["mfn_duty_usd", "section_232_duty_usd", "ieepa_duty_usd", "other_duty_usd",
               "total_duty_usd", "mpf_usd", "hmf_usd", "total_cost_usd"]
    return pl.DataFrame(
        {"entry_number": [f"ABC1234567{i}" for i in range(len(flags))], "flags": flags,
         **{c: [Decimal(a) for a in amounts] for c in columns}},
        schema_overrides={c: MONEY for c in columns},
    )


def test_duty_by_program_is_the_exact_sum_of_lines():
    # 0.10 + 0.20 + 0.70 = 1.00 exactly (in floats it would not be)
    sums = duty_by_program(lines(["", "", ""], ["0.10", "0.20", "0.70"]))
    assert sums["MFN"] == Decimal("1.00") and sums["total cost"] == Decimal("1.00")
    assert list(sums) == ["MFN", "Section 232", "IEEPA", "other (122/301)", "total duty", "MPF", "HMF", "total cost"]
    assert duty_by_program(None) == {}


def test_run_warnings_name_unconfirmed_measures_and_fees_used():
    schedule = tiny_schedule(
        [measure("s301_x", "other", "*", "2026-07-24", "0.125", shape="inclusive_total",
                 heading="9903.05.49", confidence="unconfirmed", program="section_301", component="other")],
        {}, {"87032301": ("2.5%", "7", "0.025", "0")},
    )
    schedule = dataclasses.replace(schedule, measures=schedule.measures.with_columns(
        confidence_note=pl.lit("one source reads it as +10%")))
    fees = pl.DataFrame(
        {"fee_id": ["mpf"], "valid_from": [dt.date(2026, 10, 1)], "valid_to": [None], "rate": [Decimal("0.003464")],
         "min_usd": [Decimal("33.58")], "max_usd": [Decimal("651.50")], "transport_modes": ["*"],
         "confidence": ["unconfirmed"], "confidence_note": ["FY2027 bounds not published"], "legal_source": ["19 CFR 24.23"]},
        schema_overrides={"valid_to": pl.Date, "rate": RATE, "min_usd": MONEY, "max_usd": MONEY},
    )
    schedule = dataclasses.replace(schedule, fees=fees)
    frame = lines(
        ["unconfirmed:s301_x, unconfirmed:mpf_fy2027", "unconfirmed:s301_x, metal content not declared", ""],
        ["1.00", "1.00", "1.00"],
    )
    assert run_warnings(frame, schedule) == [
        "UNCONFIRMED fee mpf_fy2027 (from 2026-10-01, rate 0.003464): FY2027 bounds not published; "
        "used by 1 line in 1 entry",
        "UNCONFIRMED measure s301_x (heading 9903.05.49, inclusive_total rate 0.125, test): "
        "one source reads it as +10%; used by 2 lines in 2 entries",
        "metal content not declared: used by 1 line in 1 entry",
    ]


def test_summary_lines_golden():
    result = RunResult(
        run_id="b-2025-06", month="2025-06", status="success", rows_in=3, rows_rejected=1,
        rows_published=2, rows_in_by_input={"customs": 2, "vehicles": 1}, tables={"fct_duty_lines": 2}, duty_by_program={"MFN": Decimal("1500.00"),
        "total duty": Decimal("16500.00")}, stage_seconds={"load": 0.1, "publish": 0.25},
        warnings=["metal content not declared: used by 1 line in 1 entry"],
    )
    assert summary_lines([result]) == [
        "2025-06  SUCCESS  run b-2025-06",
        "  rows in 3 (customs 2, vehicles 1), rejected 1 (33.33%), lines published 2",
        "  USD by program: MFN 1,500.00, total duty 16,500.00",
        "  tables: fct_duty_lines 2",
        "  time: load 0.10 s, publish 0.25 s",
        "  warnings:",
        "    metal content not declared: used by 1 line in 1 entry",
    ]
    failed = RunResult(run_id="b-2025-07", month="2025-07", status="failed", rows_in=4, error="boom")
    both = summary_lines([result, failed])
    assert both == [
        "2025-06  SUCCESS  rows in 3 (customs 2, vehicles 1), rejected 1 (33.33%), lines published 2, 0.3 s",
        "2025-07  FAILED   rows in 4, rejected 0 (0.00%), lines published 0",
        "  error: boom",
        "  nothing was published for this month (run b-2025-07)",
        "1 of 2 months published; rows in 7, rejected 1, lines published 2; USD by program:",
        "  USD           MFN  total duty",
        "  2025-06  1,500.00   16,500.00",
        "  -------  --------  ----------",
        "  total    1,500.00   16,500.00",
        "warnings:",
        "  metal content not declared: used by 1 line in 1 entry (2025-06)",
    ]
    markdown = summary_markdown([result, failed])
    assert "| 2025-06 | success | 3 | 1 | 2 | 1,500.00 | 16,500.00 | 0.35 |" in markdown
    assert "- **2025-07** failed: boom" in markdown


def test_months():
    assert previous_month(dt.date(2025, 1, 15)) == "2024-12"
    assert previous_month(dt.date(2026, 3, 31)) == "2026-02"
    assert month_range("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert month_range("2025-01", "2025-01") == ["2025-01"]
    with pytest.raises(ValueError, match="before --from"):
        month_range("2025-02", "2025-01")
    for bad in ["2025-13", "2025-1", "25-01", "2025/01", ""]:
        with pytest.raises(ValueError, match="YYYY-MM"):
            parse_month(bad)


def test_only_transient_io_errors_are_retried():
    assert is_io_error(OSError(5, "Input/output error"))
    assert is_io_error(PublishError("publishing failed").with_traceback(None)) is False
    wrapped = PublishError("publishing failed")
    wrapped.__cause__ = duckdb.IOException("disk hiccup")
    assert is_io_error(wrapped)
    assert not is_io_error(FileNotFoundError(2, "No such file"))
    assert not is_io_error(ValueError("bad month"))


@pytest.mark.parametrize(
    ("month", "first", "after"),
    [("2025-06", "2025-06-01", "2025-07-01"), ("2025-12", "2025-12-01", "2026-01-01"), ("2024-02", "2024-02-01", "2024-03-01")],
)
def test_month_days_are_the_first_day_and_the_first_day_after(month, first, after):
    assert month_days(month) == (dt.date.fromisoformat(first), dt.date.fromisoformat(after))


def test_markdown_artifacts_escape_input_text():
    # input text (a raw cell, a make and model in a warning, a file name) must render as written
    result = RunResult(
        run_id="b-2025-06", month="2025-06", status="failed", rows_in=2, rows_rejected=1,
        error="cannot read in|put.csv: <b>bad</b>",
        problems=[ProblemSummary("in_*x*.csv", "importer_id", "not_empty", 1, [(2, "IMP-<img src=x>|**1** [a](b)")])],
        warnings=["_Toyota_ `Prius` # 2\nnext"],
    )
    markdown = summary_markdown([result])
    assert "- **2025-06** failed: cannot read in\\|put.csv: \\<b\\>bad\\</b\\>" in markdown
    assert ("- **2025-06** in\\_\\*x\\*.csv: importer_id / not_empty: 1 row "
            "(e.g. row 2 'IMP-\\<img src=x\\>\\|\\*\\*1\\*\\* \\[a\\](b)')") in markdown
    assert "- **2025-06** warning: \\_Toyota\\_ \\`Prius\\` \\# 2 next" in markdown
    assert not re.search(r"(?<!\\)<", markdown)  # no unescaped HTML


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("hts_code", "hts_code"),  # intraword underscores are literal in CommonMark
        ("_em_", "\\_em\\_"),
        ("a | b", "a \\| b"),
        ("<script>", "\\<script\\>"),
        ("[x](http://e.com)", "\\[x\\](http://e.com)"),
        ("back\\slash", "back\\\\slash"),
        ("AT&T", "AT\\&T"),
        ("two\r\nlines", "two lines"),
    ],
)
def test_markdown_escape(text, escaped):
    from flows.present.markdown import escape

    assert escape(text) == escaped


def test_the_summary_lists_the_tables_a_run_replaced():
    result = RunResult(run_id="b2-2025-10", month="2025-10", status="success", rows_in=3, rows_published=3,
                       tables={"fct_duty_lines": 3}, replaced={"fct_duty_lines": 2593, "fct_vehicle_duty": 3411},
                       replaced_run="b1-2025-10")
    assert "  replaced: fct_duty_lines (2,593 rows), fct_vehicle_duty (3,411 rows) of run b1-2025-10" in summary_lines([result])
    assert "- **2025-10** replaced: fct_duty_lines (2,593 rows), fct_vehicle_duty (3,411 rows) of run b1-2025-10" in (
        summary_markdown([result]))
    failed = dataclasses.replace(result, status="failed", error="boom")
    assert not [line for line in summary_lines([failed]) if "replaced" in line]  # a failed run replaced nothing


def test_month_ranges_join_consecutive_months():
    assert month_ranges(["2025-03", "2025-01", "2025-02", "2025-12", "2026-01", "2026-05"]) == (
        "2025-01..2025-03, 2025-12..2026-01, 2026-05"
    )
    assert month_ranges(["2025-06"]) == "2025-06"


def _month(month: str, warnings=(), problems=()) -> RunResult:
    return RunResult(run_id=f"b-{month}", month=month, status="success", warnings=list(warnings),
                     problems=list(problems))


def test_repeated_warnings_are_stated_once_with_their_months():
    unconfirmed = "UNCONFIRMED measure s301_x (heading 9903.05.49): one source reads it as +10%"
    results = [
        _month("2025-01", ["metal content not declared: used by 2 lines in 1 entry"]),
        _month("2025-02", ["metal content not declared: used by 3 lines in 3 entries",
                           "vehicles maker_mismatch: 2 vehicle(s): Toyota vs WMI Subaru (2)"]),
        _month("2025-04", [f"{unconfirmed}; used by 1 line in 1 entry",
                           "vehicles maker_mismatch: 5 vehicle(s): Toyota vs WMI Subaru (5)"]),
    ]
    assert collapsed_warnings(results) == [
        # 1 line in 2025-04 only
        f"{unconfirmed}; used by 1 line in 1 entry (2025-04)",
        # 2 + 3 lines, 1 + 3 entries
        "metal content not declared: used by 5 lines in 4 entries (2025-01..2025-02)",
        "vehicles maker_mismatch: 5 vehicle(s): Toyota vs WMI Subaru (5) (2025-02, 2025-04; figures of 2025-04)",
    ]


def test_input_problems_are_stated_once_with_rows_summed_over_the_months():
    bad_origin = [ProblemSummary("c.csv", "country_of_origin", "iso3166_alpha2", 2, [(7, "XZ")]),
                  ProblemSummary("c.csv", "country_of_origin", "iso3166_alpha2", 1, [(90, "XX")])]
    results = [_month("2025-01", problems=bad_origin[:1]), _month("2025-02", problems=bad_origin[1:])]
    assert collapsed_problems(results) == [
        "c.csv: country_of_origin / iso3166_alpha2: 3 rows (2025-01..2025-02), e.g. 2025-01 row 7 'XZ'"
    ]


def test_a_long_backfill_summary_is_one_line_per_month_plus_a_table():
    # 22 months, each with the same four warnings and two input problems: the summary grows by
    # two lines a month (its line and its table row); the warnings and problems appear once
    problem = ProblemSummary("c.csv", "hts_code", "hts_10_digits", 2, [(1, "8703")])
    warnings = ["UNCONFIRMED fee mpf_fy2027 (from 2026-10-01, rate 0.003464): bounds not published; "
                "used by 9 lines in 3 entries", "metal content not declared: used by 1 line in 1 entry",
                "metal derivative duty not computed: used by 4 lines in 2 entries",
                "vehicles maker_mismatch: 3 vehicle(s): Toyota vs WMI Subaru (3)"]
    results = [
        dataclasses.replace(_month(m, warnings, [problem]), rows_in=10, duty_by_program={"MFN": Decimal("1.00")})
        for m in month_range("2025-01", "2026-10")
    ]
    lines = summary_lines(results)
    # 22 month lines + the published line + header, 22 rows, rule, total
    # + problems heading and 1 problem + warnings heading and 4 warnings
    assert len(lines) == 22 + 1 + 1 + 22 + 2 + 2 + 5
    assert sum("metal content not declared" in line for line in lines) == 1
