-- fct_ieepa_refunds_by_importer_month: one row per month x importer_id, the exact sums of
-- fct_ieepa_refunds. declared_ieepa_duty_usd sums the declared_line_count lines that declared
-- duty; cape_eligible_ieepa_duty_usd the computed IEEPA duty estimated within CAPE.
CREATE TABLE IF NOT EXISTS fct_ieepa_refunds_by_importer_month (
    month                         VARCHAR       NOT NULL,  -- YYYY-MM
    importer_id                   VARCHAR       NOT NULL,
    entry_count                   BIGINT        NOT NULL,
    line_count                    BIGINT        NOT NULL,
    declared_line_count           BIGINT        NOT NULL,
    customs_value_usd             DECIMAL(18,2) NOT NULL,
    ieepa_duty_usd                DECIMAL(18,2) NOT NULL,
    declared_ieepa_duty_usd       DECIMAL(18,2) NOT NULL,
    cape_eligible_ieepa_duty_usd  DECIMAL(18,2) NOT NULL,
    as_of_date                    DATE          NOT NULL,
    run_id                        VARCHAR  -- the run that published the row (runs.run_id); NULL for rows published before the column existed
);
