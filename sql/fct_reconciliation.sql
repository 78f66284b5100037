-- fct_reconciliation: one row per customs line that declared its duty (grain: entry_number,
-- line_number). Published per month (delete-then-insert on `month`, the entry month).
-- difference_usd = total_duty_usd (computed) - declared_duty_usd: negative = overpaid.
-- status: match (within one cent) | overpaid | underpaid; likely_cause NULL when the
-- difference is not recognised as a known misreading of a measure.
CREATE TABLE IF NOT EXISTS fct_reconciliation (
    entry_number          VARCHAR       NOT NULL,
    line_number           BIGINT        NOT NULL,
    entry_date            DATE          NOT NULL,
    month                 VARCHAR       NOT NULL,  -- YYYY-MM of entry_date
    importer_id           VARCHAR       NOT NULL,
    hts_code              VARCHAR       NOT NULL,
    country_of_origin     VARCHAR       NOT NULL,
    customs_value_usd     DECIMAL(18,2) NOT NULL,
    declared_duty_usd     DECIMAL(18,2) NOT NULL,
    total_duty_usd        DECIMAL(18,2) NOT NULL,  -- computed under the schedule
    difference_usd        DECIMAL(18,2) NOT NULL,  -- computed - declared
    status                VARCHAR       NOT NULL,
    likely_cause          VARCHAR,
    ch99_headings         VARCHAR       NOT NULL,  -- headings of the computed duty, ", "-joined
    run_id                VARCHAR                  -- the run that published the row (runs.run_id); NULL for rows published before the column existed
);
