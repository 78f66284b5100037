-- fct_ieepa_refunds: the IEEPA refund ledger, one row per customs line that carried IEEPA
-- duty (grain: entry_number, line_number). Published per month (the entry month).
-- The refund status is an ESTIMATE as of as_of_date (the run date): liquidation estimated at
-- entry_date + the usual lag (data/refunds/refund_status_rules.csv).
CREATE TABLE IF NOT EXISTS fct_ieepa_refunds (
    entry_number                VARCHAR       NOT NULL,
    line_number                 BIGINT        NOT NULL,
    entry_date                  DATE          NOT NULL,
    month                       VARCHAR       NOT NULL,  -- YYYY-MM of entry_date
    importer_id                 VARCHAR       NOT NULL,
    hts_code                    VARCHAR       NOT NULL,
    country_of_origin           VARCHAR       NOT NULL,
    customs_value_usd           DECIMAL(18,2) NOT NULL,
    ieepa_duty_usd              DECIMAL(18,2) NOT NULL,  -- computed IEEPA component (> 0)
    declared_duty_usd           DECIMAL(18,2),           -- the line's declared duty, if given
    declared_ieepa_duty_usd     DECIMAL(18,2),           -- declared - computed non-IEEPA parts, >= 0
    ieepa_headings              VARCHAR       NOT NULL,  -- 9903.01.xx / 9903.02.xx applied
    ch99_headings               VARCHAR       NOT NULL,  -- every chapter 99 heading applied
    estimated_liquidation_date  DATE          NOT NULL,
    as_of_date                  DATE          NOT NULL,
    refund_status               VARCHAR       NOT NULL,
    cape_eligible               BOOLEAN       NOT NULL,  -- estimated
    refund_status_note          VARCHAR       NOT NULL,
    run_id                      VARCHAR  -- the run that published the row (runs.run_id); NULL for rows published before the column existed
);
