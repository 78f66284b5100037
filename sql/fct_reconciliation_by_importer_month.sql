-- fct_reconciliation_by_importer_month: one row per month x importer_id, the exact sums of
-- fct_reconciliation. overpaid_usd / underpaid_usd are >= 0 (sums over overpaid / underpaid
-- lines); unexplained_count counts differences without a likely cause.
CREATE TABLE IF NOT EXISTS fct_reconciliation_by_importer_month (
    month                 VARCHAR       NOT NULL,  -- YYYY-MM
    importer_id           VARCHAR       NOT NULL,
    line_count            BIGINT        NOT NULL,
    match_count           BIGINT        NOT NULL,
    overpaid_count        BIGINT        NOT NULL,
    underpaid_count       BIGINT        NOT NULL,
    unexplained_count     BIGINT        NOT NULL,
    declared_duty_usd     DECIMAL(18,2) NOT NULL,
    total_duty_usd        DECIMAL(18,2) NOT NULL,
    difference_usd        DECIMAL(18,2) NOT NULL,
    overpaid_usd          DECIMAL(18,2) NOT NULL,
    underpaid_usd         DECIMAL(18,2) NOT NULL,
    run_id                VARCHAR  -- the run that published the row (runs.run_id); NULL for rows published before the column existed
);
