-- The benchmark's baseline: the monthly run's arithmetic as one plain DuckDB SQL script, the
-- way an analyst would write it by hand. Same input (the all-text customs Parquet), same
-- schedule files, same rules as the pipeline (docs/architecture.md):
--   MFN by HTS8 (ad valorem + specific x quantity);
--   chapter 99 measures resolved on distinct (hts_code, origin, entry_date) keys: per layer the
--   longest scope prefix, then a specific origin over '*', then priority, then measure_id;
--   a winner is dropped when its excluded_by names another layer's winner; additive
--   (rate x value) and inclusive_total (max(rate x value - MFN, 0)) shapes; each measure's
--   amount rounded once to the cent, half away from zero;
--   MPF and HMF per entry (fee row in force on the entry date, transport modes, min/max),
--   rounded to the cent and allocated to lines by largest remainder in integer cents.
-- Writes fct_duty_lines and fct_duty_by_hs_month into the connected DuckDB file and the
-- aggregate to a Parquet file. It does not check rows (no rejects), flag unconfirmed
-- measures or metal derivatives, journal runs, or export the lines to Parquet.
--
-- Inputs are DuckDB variables set by bench/plain_duckdb.py (SET VARIABLE name = ?):
--   customs_path, month ('YYYY-MM'), mfn_csv, measures_csv, scopes_csv, fees_csv,
--   agg_parquet.
-- Each step starts with a `-- step: <name>` line; the runner times the steps one by one.

-- step: read_schedule
CREATE OR REPLACE TEMP TABLE mfn AS
SELECT
    hts8,
    mfn_text_rate,
    mfn_rate_type_code,
    CAST(COALESCE(NULLIF(mfn_ad_val_rate, ''), '0') AS DECIMAL(38, 10)) AS mfn_ad_val_rate,
    CAST(COALESCE(NULLIF(mfn_specific_rate, ''), '0') AS DECIMAL(38, 10)) AS mfn_specific_rate
FROM read_csv(getvariable('mfn_csv'), all_varchar = true);

CREATE OR REPLACE TEMP TABLE measures AS
SELECT
    measure_id, component, layer, scope_id, origin,
    CAST(valid_from AS DATE) AS valid_from,
    CAST(NULLIF(valid_to, '') AS DATE) AS valid_to,
    shape,
    CAST(rate AS DECIMAL(38, 10)) AS rate,
    heading,
    NULLIF(heading_at_or_above_cap, '') AS heading_at_or_above_cap,
    string_split(COALESCE(excluded_by, ''), ' ') AS excluded_by,
    CAST(priority AS BIGINT) AS priority
FROM read_csv(getvariable('measures_csv'), all_varchar = true);

-- layers stack in the order they first appear in the measures file
CREATE OR REPLACE TEMP TABLE layer_order AS
SELECT layer, min(rowid) AS layer_order FROM measures GROUP BY layer;

CREATE OR REPLACE TEMP TABLE scopes AS
SELECT scope_id, hts_prefix FROM read_csv(getvariable('scopes_csv'), all_varchar = true);

CREATE OR REPLACE TEMP TABLE fees AS
SELECT
    fee_id,
    CAST(valid_from AS DATE) AS valid_from,
    CAST(NULLIF(valid_to, '') AS DATE) AS valid_to,
    CAST(rate AS DECIMAL(38, 10)) AS rate,
    CAST(NULLIF(min_usd, '') AS DECIMAL(38, 10)) AS min_usd,
    CAST(NULLIF(max_usd, '') AS DECIMAL(38, 10)) AS max_usd,
    string_split(trim(transport_modes), ' ') AS transport_modes
FROM read_csv(getvariable('fees_csv'), all_varchar = true);

-- duty / value rounded half away from zero to 6 decimals, exactly (DuckDB's decimal
-- division returns DOUBLE, so divide integers: both amounts are whole cents)
CREATE OR REPLACE TEMP MACRO effective_rate(duty_usd, value_usd) AS
    CASE WHEN value_usd > 0 THEN CAST(CAST(
        (2 * CAST(duty_usd * 100 AS HUGEINT) * 1000000 + CAST(value_usd * 100 AS HUGEINT))
        // (2 * CAST(value_usd * 100 AS HUGEINT)) AS DECIMAL(18, 0)) * 0.000001 AS DECIMAL(18, 6))
    END;

-- step: read_lines
CREATE OR REPLACE TEMP TABLE lines AS
SELECT
    upper(replace(trim(entry_number), '-', '')) AS entry_number,
    CAST(trim(line_number) AS BIGINT) AS line_number,
    CAST(trim(entry_date) AS DATE) AS entry_date,
    getvariable('month') AS month,
    replace(trim(hts_code), '.', '') AS hts_code,
    upper(trim(country_of_origin)) AS country_of_origin,
    CAST(trim(customs_value_usd) AS DECIMAL(18, 2)) AS customs_value_usd,
    CAST(NULLIF(trim(quantity), '') AS DECIMAL(38, 10)) AS quantity,
    upper(trim(quantity_unit)) AS quantity_unit,
    lower(trim(transport_mode)) AS transport_mode,
    trim(port_code) AS port_code,
    trim(importer_id) AS importer_id,
    CAST(NULLIF(trim(declared_duty_usd), '') AS DECIMAL(18, 2)) AS declared_duty_usd
FROM read_parquet(getvariable('customs_path'))
WHERE strftime(CAST(trim(entry_date) AS DATE), '%Y-%m') = getvariable('month');

-- step: resolve_measures
CREATE OR REPLACE TEMP TABLE applied AS
WITH keys AS (
    SELECT DISTINCT hts_code, country_of_origin, entry_date FROM lines
),
scoped AS (
    SELECT c.hts_code, s.scope_id, length(s.hts_prefix) AS prefix_len
    FROM (SELECT DISTINCT hts_code FROM keys) AS c
    JOIN scopes AS s ON starts_with(c.hts_code, s.hts_prefix)
    UNION ALL
    SELECT DISTINCT hts_code, '*' AS scope_id, 0 AS prefix_len FROM keys
),
winners AS (
    SELECT k.hts_code, k.country_of_origin, k.entry_date, m.*
    FROM keys AS k
    JOIN scoped AS sc USING (hts_code)
    JOIN measures AS m ON m.scope_id = sc.scope_id
    WHERE m.valid_from <= k.entry_date
      AND (m.valid_to IS NULL OR k.entry_date < m.valid_to)
      AND m.origin IN (k.country_of_origin, '*')
    QUALIFY row_number() OVER (
        PARTITION BY k.hts_code, k.country_of_origin, k.entry_date, m.layer
        ORDER BY sc.prefix_len DESC, (m.origin <> '*') DESC, m.priority DESC, m.measure_id
    ) = 1
)
SELECT w.*, lo.layer_order
FROM winners AS w
JOIN layer_order AS lo USING (layer)
WHERE NOT EXISTS (
    SELECT 1 FROM winners AS x
    WHERE x.hts_code = w.hts_code
      AND x.country_of_origin = w.country_of_origin
      AND x.entry_date = w.entry_date
      AND list_contains(w.excluded_by, x.measure_id)
);

-- step: line_duty
CREATE OR REPLACE TEMP TABLE line_mfn AS
SELECT
    l.rowid AS line_id,
    l.*,
    r.mfn_text_rate AS mfn_rate_text,
    COALESCE(r.mfn_ad_val_rate, 0) * CAST(l.customs_value_usd AS DECIMAL(38, 10))
        + CASE WHEN r.mfn_rate_type_code IN ('1', '2', '4', '5')
               THEN r.mfn_specific_rate * COALESCE(l.quantity, 0) ELSE 0 END AS mfn_exact
FROM lines AS l
LEFT JOIN mfn AS r ON r.hts8 = substr(l.hts_code, 1, 8);

CREATE OR REPLACE TEMP TABLE line_measures AS
WITH amounts AS (
    SELECT
        l.line_id,
        a.component,
        a.layer_order,
        a.rate * CAST(l.customs_value_usd AS DECIMAL(38, 10)) AS at_rate,
        a.shape,
        a.heading,
        a.heading_at_or_above_cap,
        l.mfn_exact
    FROM line_mfn AS l
    JOIN applied AS a USING (hts_code, country_of_origin, entry_date)
)
SELECT
    line_id,
    sum(duty) FILTER (WHERE component = 'section_232') AS section_232_duty_usd,
    sum(duty) FILTER (WHERE component = 'ieepa') AS ieepa_duty_usd,
    sum(duty) FILTER (WHERE component = 'other') AS other_duty_usd,
    string_agg(applied_heading, ', ' ORDER BY layer_order) AS ch99_headings
FROM (
    SELECT
        line_id, component, layer_order,
        round(CASE WHEN shape = 'additive' THEN at_rate
                   ELSE greatest(at_rate - mfn_exact, 0) END, 2) AS duty,
        CASE WHEN shape = 'additive' OR at_rate > mfn_exact THEN heading
             ELSE heading_at_or_above_cap END AS applied_heading
    FROM amounts
)
GROUP BY line_id;

-- step: entry_fees
CREATE OR REPLACE TEMP TABLE line_fees AS
WITH covered AS (
    SELECT
        l.line_id, l.entry_number, l.line_number, f.fee_id, f.rate, f.min_usd, f.max_usd,
        l.customs_value_usd,
        CAST(l.customs_value_usd * 100 AS HUGEINT) AS value_cents
    FROM line_mfn AS l
    JOIN fees AS f
      ON f.valid_from <= l.entry_date
     AND (f.valid_to IS NULL OR l.entry_date < f.valid_to)
     AND (f.transport_modes = ['*'] OR list_contains(f.transport_modes, l.transport_mode))
),
entry_totals AS (
    SELECT
        *,
        sum(value_cents) OVER entry AS base_cents,
        rate * sum(CAST(customs_value_usd AS DECIMAL(38, 10))) OVER entry AS exact_fee
    FROM covered
    WINDOW entry AS (PARTITION BY fee_id, entry_number)
),
shares AS (
    SELECT
        *,
        CAST(round(CASE WHEN min_usd IS NOT NULL AND exact_fee < min_usd THEN min_usd
                        WHEN max_usd IS NOT NULL AND exact_fee > max_usd THEN max_usd
                        ELSE exact_fee END, 2) * 100 AS HUGEINT) AS fee_cents,
        CASE WHEN base_cents > 0 THEN value_cents ELSE 1 END AS weight
    FROM entry_totals
),
floors AS (
    SELECT
        *,
        fee_cents * weight // sum(weight) OVER entry AS floor_cents,
        fee_cents * weight % sum(weight) OVER entry AS remainder
    FROM shares
    WINDOW entry AS (PARTITION BY fee_id, entry_number)
),
ranked AS (
    SELECT
        *,
        fee_cents - sum(floor_cents) OVER (PARTITION BY fee_id, entry_number) AS left_over,
        row_number() OVER (
            PARTITION BY fee_id, entry_number ORDER BY remainder DESC, line_number
        ) - 1 AS rank
    FROM floors
)
SELECT
    line_id,
    CAST(CAST(sum(floor_cents + CASE WHEN rank < left_over THEN 1 ELSE 0 END)
              FILTER (WHERE fee_id = 'mpf') AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(18, 2)) AS mpf_usd,
    CAST(CAST(sum(floor_cents + CASE WHEN rank < left_over THEN 1 ELSE 0 END)
              FILTER (WHERE fee_id = 'hmf') AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(18, 2)) AS hmf_usd
FROM ranked
GROUP BY line_id;

-- step: write_fct_duty_lines
CREATE OR REPLACE TABLE fct_duty_lines AS
WITH duty AS (
    SELECT
        l.*,
        CAST(round(l.mfn_exact, 2) AS DECIMAL(18, 2)) AS mfn_duty_usd,
        CAST(COALESCE(m.section_232_duty_usd, 0) AS DECIMAL(18, 2)) AS section_232_duty_usd,
        CAST(COALESCE(m.ieepa_duty_usd, 0) AS DECIMAL(18, 2)) AS ieepa_duty_usd,
        CAST(COALESCE(m.other_duty_usd, 0) AS DECIMAL(18, 2)) AS other_duty_usd,
        COALESCE(m.ch99_headings, '') AS ch99_headings,
        COALESCE(f.mpf_usd, 0) AS mpf_usd,
        COALESCE(f.hmf_usd, 0) AS hmf_usd
    FROM line_mfn AS l
    LEFT JOIN line_measures AS m USING (line_id)
    LEFT JOIN line_fees AS f USING (line_id)
),
totals AS (
    SELECT
        *,
        CAST(mfn_duty_usd + section_232_duty_usd + ieepa_duty_usd + other_duty_usd
             AS DECIMAL(18, 2)) AS total_duty_usd
    FROM duty
)
SELECT
    entry_number, line_number, entry_date, month, hts_code, country_of_origin,
    customs_value_usd, mfn_duty_usd, section_232_duty_usd, ieepa_duty_usd, other_duty_usd,
    total_duty_usd, mpf_usd, hmf_usd,
    CAST(total_duty_usd + mpf_usd + hmf_usd AS DECIMAL(18, 2)) AS total_cost_usd,
    effective_rate(total_duty_usd, customs_value_usd) AS effective_duty_rate,
    ch99_headings,
    importer_id, transport_mode, port_code, quantity, quantity_unit, mfn_rate_text,
    declared_duty_usd
FROM totals
ORDER BY entry_number, line_number;

-- step: write_fct_duty_by_hs_month
CREATE OR REPLACE TABLE fct_duty_by_hs_month AS
SELECT
    month, hts_code, country_of_origin,
    count(*) AS line_count,
    CAST(sum(customs_value_usd) AS DECIMAL(18, 2)) AS customs_value_usd,
    CAST(sum(mfn_duty_usd) AS DECIMAL(18, 2)) AS mfn_duty_usd,
    CAST(sum(section_232_duty_usd) AS DECIMAL(18, 2)) AS section_232_duty_usd,
    CAST(sum(ieepa_duty_usd) AS DECIMAL(18, 2)) AS ieepa_duty_usd,
    CAST(sum(other_duty_usd) AS DECIMAL(18, 2)) AS other_duty_usd,
    CAST(sum(total_duty_usd) AS DECIMAL(18, 2)) AS total_duty_usd,
    CAST(sum(mpf_usd) AS DECIMAL(18, 2)) AS mpf_usd,
    CAST(sum(hmf_usd) AS DECIMAL(18, 2)) AS hmf_usd,
    CAST(sum(total_cost_usd) AS DECIMAL(18, 2)) AS total_cost_usd,
    effective_rate(sum(total_duty_usd), sum(customs_value_usd)) AS effective_duty_rate
FROM fct_duty_lines
GROUP BY month, hts_code, country_of_origin
ORDER BY month, hts_code, country_of_origin;

-- step: export_parquet
COPY fct_duty_by_hs_month TO (getvariable('agg_parquet')) (FORMAT parquet);

-- step: checkpoint
CHECKPOINT;
