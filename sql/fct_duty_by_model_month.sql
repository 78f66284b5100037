-- fct_duty_by_model_month: one row per month × make × model (grain, unique).
-- Money columns are exact sums of fct_vehicle_duty; averages and rates are rounded once.
-- Published per month (delete-then-insert on `month`). pandera contract:
-- schemas/fct_duty_by_model_month.py.
CREATE TABLE IF NOT EXISTS fct_duty_by_model_month (
    month                     VARCHAR       NOT NULL,  -- YYYY-MM
    make                      VARCHAR       NOT NULL,
    model                     VARCHAR       NOT NULL,
    vehicles                  BIGINT        NOT NULL,
    customs_value_usd         DECIMAL(18,2) NOT NULL,
    total_duty_usd            DECIMAL(18,2) NOT NULL,
    total_fees_usd            DECIMAL(18,2) NOT NULL,  -- MPF + HMF
    total_cost_usd            DECIMAL(18,2) NOT NULL,  -- total_duty_usd + total_fees_usd
    msrp_usd                  DECIMAL(18,2) NOT NULL,
    avg_duty_per_vehicle_usd  DECIMAL(18,2) NOT NULL,  -- total_duty_usd / vehicles
    avg_cost_per_vehicle_usd  DECIMAL(18,2) NOT NULL,  -- total_cost_usd / vehicles
    effective_duty_rate       DECIMAL(18,6),           -- total_duty_usd / customs_value_usd
    duty_share_of_msrp        DECIMAL(18,6),           -- total_duty_usd / msrp_usd
    misclassified_vehicles    BIGINT        NOT NULL,  -- classification_ok false
    maker_mismatch_vehicles   BIGINT        NOT NULL,  -- maker_mismatch true
    run_id                    VARCHAR                  -- the run that published the row (runs.run_id); NULL for rows published before the column existed
);
