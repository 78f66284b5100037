-- fct_vehicle_duty: one row per imported vehicle (grain: vin).
-- Published per month (delete-then-insert on `month`, the month of the vehicle's customs
-- line). duty_usd / fees_usd are the line's total_duty_usd / (mpf_usd + hmf_usd) allocated
-- over the line's vehicles by customs value, largest remainder to the cent: per line they sum
-- to the line's amounts exactly. pandera contract: schemas/fct_vehicle_duty.py.
CREATE TABLE IF NOT EXISTS fct_vehicle_duty (
    vin                 VARCHAR       NOT NULL,  -- 17 characters, valid check digit
    entry_number        VARCHAR       NOT NULL,  -- normalised: no dashes, upper case
    line_number         BIGINT        NOT NULL,
    entry_date          DATE          NOT NULL,
    month               VARCHAR       NOT NULL,  -- YYYY-MM of entry_date
    country_of_origin   VARCHAR       NOT NULL,
    make                VARCHAR       NOT NULL,  -- as declared
    model               VARCHAR       NOT NULL,
    model_year          BIGINT        NOT NULL,
    vehicle_class       VARCHAR       NOT NULL,  -- passenger | goods
    propulsion          VARCHAR       NOT NULL,
    engine_cc           BIGINT,                  -- NULL for electric / fuel cell
    gvw_kg              BIGINT        NOT NULL,
    hts_declared        VARCHAR       NOT NULL,  -- the customs line's HTS10
    hts_expected        VARCHAR,                 -- HTS6 the vehicle's attributes call for (data/vehicles/hts_classification.csv)
    classification_ok   BOOLEAN       NOT NULL,  -- hts_declared starts with hts_expected
    maker_from_wmi      VARCHAR,                 -- vPIC common name of the VIN's WMI; NULL when unknown
    maker_mismatch      BOOLEAN,                 -- declared make disagrees with the WMI maker; NULL when unknown
    customs_value_usd   DECIMAL(18,2) NOT NULL,
    duty_usd            DECIMAL(18,2) NOT NULL,
    fees_usd            DECIMAL(18,2) NOT NULL,  -- MPF + HMF share
    total_cost_usd      DECIMAL(18,2) NOT NULL,  -- duty_usd + fees_usd
    msrp_usd            DECIMAL(18,2) NOT NULL,
    duty_share_of_msrp  DECIMAL(18,6),           -- duty_usd / msrp_usd; NULL when msrp is 0
    run_id              VARCHAR                  -- the run that published the row (runs.run_id); NULL for rows published before the column existed
);
