-- fct_duty_by_hs_month: one row per month × hts_code × country_of_origin.
-- Every money column is the exact sum of the fct_duty_lines rows of its group.
CREATE TABLE IF NOT EXISTS fct_duty_by_hs_month (
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
    mpf_usd               DECIMAL(18,2) NOT NULL,
    hmf_usd               DECIMAL(18,2) NOT NULL,
    total_cost_usd        DECIMAL(18,2) NOT NULL,
    effective_duty_rate   DECIMAL(18,6),           -- total_duty / value; NULL when value is 0
    run_id                VARCHAR                  -- the run that published the row (runs.run_id); NULL for rows published before the column existed
);
