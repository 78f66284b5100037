-- fct_duty_lines: one row per customs entry line (grain: entry_number, line_number).
-- Published per month (delete-then-insert on `month`); money DECIMAL(18,2), each line's
-- components rounded once to the cent; total_duty_usd = mfn + section_232 + ieepa + other;
-- total_cost_usd = total_duty_usd + mpf_usd + hmf_usd. Contract columns first, extensions after.
CREATE TABLE IF NOT EXISTS fct_duty_lines (
    entry_number          VARCHAR       NOT NULL,
    line_number           BIGINT        NOT NULL,
    entry_date            DATE          NOT NULL,
    month                 VARCHAR       NOT NULL,  -- YYYY-MM of entry_date
    hts_code              VARCHAR       NOT NULL,  -- 10 digits, no dots
    country_of_origin     VARCHAR       NOT NULL,  -- ISO 3166-1 alpha-2
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
    ch99_headings         VARCHAR       NOT NULL,  -- chapter 99 headings applied, ", "-joined
    importer_id           VARCHAR,
    transport_mode        VARCHAR,
    port_code             VARCHAR,
    quantity              DECIMAL(38,10),
    quantity_unit         VARCHAR,
    mfn_rate_text         VARCHAR,                 -- Column 1 General rate as the HTS states it
    declared_duty_usd     DECIMAL(18,2),
    flags                 VARCHAR       NOT NULL,  -- ", "-joined notes, e.g. unconfirmed:<measure_id>
    steel_content_value_usd    DECIMAL(18,2),      -- declared metal content (Section 232 derivatives)
    aluminum_content_value_usd DECIMAL(18,2),
    export_date           DATE,                    -- date of exportation (in-transit rules)
    declared_headings     VARCHAR                  -- chapter 99 headings the line declared, ";"-joined
);
