-- fct_scenario_duty_by_hs_month: one row per scenario × month × hts_code × country_of_origin.
-- The same customs lines priced under the schedule as enacted (scenario 'as_enacted', always
-- present; the exact sums of fct_duty_lines) and under each what-if scenario of the run.
-- Duty only (no fees). delta_vs_enacted_usd = total_duty_usd − the as_enacted total_duty_usd.
CREATE TABLE IF NOT EXISTS fct_scenario_duty_by_hs_month (
    scenario              VARCHAR       NOT NULL,  -- as_enacted | a scenario name
    month                 VARCHAR       NOT NULL,  -- YYYY-MM
    hts_code              VARCHAR       NOT NULL,
    country_of_origin     VARCHAR       NOT NULL,
    line_count            BIGINT        NOT NULL,
    customs_value_usd     DECIMAL(18,2) NOT NULL,
    mfn_duty_usd          DECIMAL(18,2) NOT NULL,
    section_232_duty_usd  DECIMAL(18,2) NOT NULL,
    ieepa_duty_usd        DECIMAL(18,2) NOT NULL,
    other_duty_usd        DECIMAL(18,2) NOT NULL,
    total_duty_usd        DECIMAL(18,2) NOT NULL,
    effective_duty_rate   DECIMAL(18,6),           -- total_duty / value; NULL when value is 0
    delta_vs_enacted_usd  DECIMAL(18,2) NOT NULL,  -- may be negative
    run_id                VARCHAR                  -- the run that published the row (runs.run_id); NULL for rows published before the column existed
);
