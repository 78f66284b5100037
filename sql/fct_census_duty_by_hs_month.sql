-- fct_census_duty_by_hs_month: one row per month × hts_code × cty_code of a --census input.
-- calculated_duty_usd is Census's figure (CAL_DUT); computed_duty_usd is the schedule's,
-- applied as a day-weighted average over the row's period (a month, or January to `month`
-- for annual year-to-date files), each component rounded once per row.
CREATE TABLE IF NOT EXISTS fct_census_duty_by_hs_month (
    month                 VARCHAR       NOT NULL,  -- YYYY-MM (Census `time`)
    hts_code              VARCHAR       NOT NULL,
    cty_code              VARCHAR       NOT NULL,  -- Census Schedule C code
    country_of_origin     VARCHAR       NOT NULL,  -- ISO 3166-1 alpha-2 (EU for group 0003)
    customs_value_usd     DECIMAL(18,2) NOT NULL,
    calculated_duty_usd   DECIMAL(18,2) NOT NULL,
    computed_duty_usd     DECIMAL(18,2) NOT NULL,
    mfn_duty_usd          DECIMAL(18,2) NOT NULL,
    section_232_duty_usd  DECIMAL(18,2) NOT NULL,
    ieepa_duty_usd        DECIMAL(18,2) NOT NULL,
    other_duty_usd        DECIMAL(18,2) NOT NULL,
    total_duty_usd        DECIMAL(18,2) NOT NULL,
    effective_duty_rate   DECIMAL(18,6),           -- computed / value
    calculated_duty_rate  DECIMAL(18,6),           -- Census calculated / value
    duty_gap_usd          DECIMAL(18,2) NOT NULL,  -- computed - calculated
    ch99_headings         VARCHAR       NOT NULL,
    flags                 VARCHAR       NOT NULL,
    period_start          DATE          NOT NULL,
    period_end            DATE          NOT NULL,  -- exclusive
    run_id                VARCHAR                  -- the run that published the row (runs.run_id); NULL for rows published before the column existed
);
