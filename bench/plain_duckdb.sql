-- The benchmark's baseline: the monthly run's core arithmetic as the leanest plain DuckDB SQL
-- script we could write by hand (profiled step by step with EXPLAIN ANALYZE). Same input (the
-- all-text customs Parquet), same schedule files, same rules as the pipeline
-- (docs/architecture.md):
--   MFN by HTS8 (ad valorem + specific x quantity);
--   chapter 99 measures resolved on distinct (hts_code, origin, entry_date) keys: per layer the
--   longest scope prefix, then a specific origin over '*', then priority, then measure_id;
--   a winner is dropped when its excluded_by names another layer's winner; additive
--   (rate x value) and inclusive_total (max(rate x value - MFN, 0)) shapes; each measure's
--   amount rounded once to the cent, half away from zero;
--   MPF and HMF per entry (fee row in force on the entry date, transport modes, min/max),
--   rounded to the cent and allocated to lines by largest remainder in integer cents.
-- Writes fct_duty_lines and fct_duty_by_hs_month into the connected DuckDB file and the
-- aggregate to a Parquet file. It does not check rows (no rejects; it takes the text as clean:
-- no surrounding blanks, codes in upper case, as bench/generate_lines.py writes it), flag
-- unconfirmed measures or metal derivatives, journal runs, sort the line table, or export the
-- lines to Parquet.
--
-- What makes it lean: the lines are parsed once into a narrow typed table; everything that
-- depends only on (HTS, origin, entry date) is worked out once per distinct key and pivoted
-- into one row with a column group per measure layer, so each line's duty is plain column
-- arithmetic (no line x measure join, no group-by per line, no string_agg); the fees are
-- matched per (entry date, transport mode) cell, then carry only (line id, line number, cents)
-- into one hash aggregate per (fee, entry) whose short list of lines is sorted in place for the
-- left-over cents (no window over the month);
-- the line table is written once, unsorted, by one join pass.
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
    CAST(COALESCE(NULLIF(mfn_ad_val_rate, ''), '0') AS DECIMAL(9, 6)) AS ad_val_rate,
    CASE WHEN mfn_rate_type_code IN ('1', '2', '4', '5')
         THEN CAST(COALESCE(NULLIF(mfn_specific_rate, ''), '0') AS DECIMAL(9, 6))
         ELSE 0 END AS specific_rate
FROM read_csv(getvariable('mfn_csv'), all_varchar = true);

CREATE OR REPLACE TEMP TABLE measures AS
SELECT
    measure_id, component, layer, scope_id, origin,
    CAST(valid_from AS DATE) AS valid_from,
    CAST(NULLIF(valid_to, '') AS DATE) AS valid_to,
    shape = 'inclusive_total' AS inclusive,
    CAST(rate AS DECIMAL(9, 6)) AS rate,
    heading,
    NULLIF(heading_at_or_above_cap, '') AS cap_heading,
    string_split(COALESCE(excluded_by, ''), ' ') AS excluded_by,
    CAST(priority AS BIGINT) AS priority
FROM read_csv(getvariable('measures_csv'), all_varchar = true);

-- layers stack in the order they first appear in the measures file; each gets a slot 1..4 of
-- the pivoted key table below (a fifth layer stops the script rather than being dropped)
CREATE OR REPLACE TEMP TABLE layer_slot AS
SELECT layer, row_number() OVER (ORDER BY min(rowid)) AS slot
FROM measures GROUP BY layer;
SELECT CASE WHEN max(slot) > 4 THEN error('plain_duckdb.sql pivots at most 4 measure layers') END
FROM layer_slot;

CREATE OR REPLACE TEMP TABLE scopes AS
SELECT scope_id, hts_prefix FROM read_csv(getvariable('scopes_csv'), all_varchar = true);

CREATE OR REPLACE TEMP TABLE fees AS
SELECT
    fee_id,
    CAST(valid_from AS DATE) AS valid_from,
    CAST(NULLIF(valid_to, '') AS DATE) AS valid_to,
    CAST(rate AS DECIMAL(9, 6)) AS rate,
    CAST(NULLIF(min_usd, '') AS DECIMAL(18, 2)) AS min_usd,
    CAST(NULLIF(max_usd, '') AS DECIMAL(18, 2)) AS max_usd,
    string_split(trim(transport_modes), ' ') AS transport_modes
FROM read_csv(getvariable('fees_csv'), all_varchar = true);

-- duty / value rounded half away from zero to 6 decimals, exactly (DuckDB's decimal
-- division returns DOUBLE, so divide integers: both amounts are whole cents)
CREATE OR REPLACE TEMP MACRO effective_rate(duty_usd, value_usd) AS
    CASE WHEN value_usd > 0 THEN CAST(CAST(
        (2 * CAST(duty_usd * 100 AS HUGEINT) * 1000000 + CAST(value_usd * 100 AS HUGEINT))
        // (2 * CAST(value_usd * 100 AS HUGEINT)) AS DECIMAL(18, 0)) * 0.000001 AS DECIMAL(18, 6))
    END;

-- one layer's amount on a line: rounded once to the cent; null when the key has no measure
-- in that layer
CREATE OR REPLACE TEMP MACRO layer_duty(rate, inclusive, value_usd, mfn_exact) AS
    CASE WHEN inclusive THEN round(greatest(rate * value_usd - mfn_exact, 0), 2)
         ELSE round(rate * value_usd, 2) END;
CREATE OR REPLACE TEMP MACRO layer_heading(rate, inclusive, heading, cap_heading, value_usd, mfn_exact) AS
    CASE WHEN rate IS NULL THEN NULL
         WHEN NOT inclusive OR rate * value_usd > mfn_exact THEN heading
         ELSE cap_heading END;

-- step: read_lines
CREATE OR REPLACE TEMP TABLE lines AS
SELECT
    entry_number,
    CAST(line_number AS INTEGER) AS line_number,
    CAST(entry_date AS DATE) AS entry_date,
    replace(hts_code, '.', '') AS hts_code,
    country_of_origin,
    CAST(customs_value_usd AS DECIMAL(18, 2)) AS customs_value_usd,
    CAST(NULLIF(quantity, '') AS DECIMAL(28, 10)) AS quantity,
    quantity_unit,
    transport_mode,
    port_code,
    importer_id,
    CAST(NULLIF(declared_duty_usd, '') AS DECIMAL(18, 2)) AS declared_duty_usd
FROM read_parquet(getvariable('customs_path'))
WHERE starts_with(entry_date, getvariable('month') || '-');

-- step: resolve_measures
-- per distinct key: MFN rates and, per layer slot, the winning measure's component, rate,
-- shape and headings
CREATE OR REPLACE TEMP TABLE key_rates AS
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
),
applied AS (
    SELECT w.*, ls.slot
    FROM winners AS w
    JOIN layer_slot AS ls USING (layer)
    WHERE NOT EXISTS (
        SELECT 1 FROM winners AS x
        WHERE x.hts_code = w.hts_code
          AND x.country_of_origin = w.country_of_origin
          AND x.entry_date = w.entry_date
          AND list_contains(w.excluded_by, x.measure_id)
    )
),
pivoted AS (
    SELECT
        hts_code, country_of_origin, entry_date,
        any_value(component) FILTER (WHERE slot = 1) AS c1, any_value(rate) FILTER (WHERE slot = 1) AS r1,
        any_value(inclusive) FILTER (WHERE slot = 1) AS i1, any_value(heading) FILTER (WHERE slot = 1) AS h1,
        any_value(cap_heading) FILTER (WHERE slot = 1) AS x1,
        any_value(component) FILTER (WHERE slot = 2) AS c2, any_value(rate) FILTER (WHERE slot = 2) AS r2,
        any_value(inclusive) FILTER (WHERE slot = 2) AS i2, any_value(heading) FILTER (WHERE slot = 2) AS h2,
        any_value(cap_heading) FILTER (WHERE slot = 2) AS x2,
        any_value(component) FILTER (WHERE slot = 3) AS c3, any_value(rate) FILTER (WHERE slot = 3) AS r3,
        any_value(inclusive) FILTER (WHERE slot = 3) AS i3, any_value(heading) FILTER (WHERE slot = 3) AS h3,
        any_value(cap_heading) FILTER (WHERE slot = 3) AS x3,
        any_value(component) FILTER (WHERE slot = 4) AS c4, any_value(rate) FILTER (WHERE slot = 4) AS r4,
        any_value(inclusive) FILTER (WHERE slot = 4) AS i4, any_value(heading) FILTER (WHERE slot = 4) AS h4,
        any_value(cap_heading) FILTER (WHERE slot = 4) AS x4
    FROM applied
    GROUP BY ALL
)
SELECT
    k.hts_code, k.country_of_origin, k.entry_date,
    r.mfn_text_rate, COALESCE(r.ad_val_rate, 0) AS ad_val_rate, COALESCE(r.specific_rate, 0) AS specific_rate,
    p.* EXCLUDE (hts_code, country_of_origin, entry_date)
FROM keys AS k
LEFT JOIN mfn AS r ON r.hts8 = substr(k.hts_code, 1, 8)
LEFT JOIN pivoted AS p USING (hts_code, country_of_origin, entry_date);

-- step: entry_fees
-- MPF and HMF per (fee, entry) from one hash aggregate, then each covered line's share: the
-- floor of its exact share in cents, plus one cent for the lines with the largest remainders
-- (ties: lower line number) until the entry fee is reached
CREATE OR REPLACE TEMP TABLE line_fees AS
WITH cells AS (
    -- the fee rows in force for each (entry date, transport mode) of the month
    SELECT c.entry_date, c.transport_mode, f.fee_id, f.rate, f.min_usd, f.max_usd
    FROM (SELECT DISTINCT entry_date, transport_mode FROM lines) AS c
    JOIN fees AS f
      ON f.valid_from <= c.entry_date
     AND (f.valid_to IS NULL OR c.entry_date < f.valid_to)
     AND (f.transport_modes = ['*'] OR list_contains(f.transport_modes, c.transport_mode))
),
covered AS (
    SELECT
        l.rowid AS line_id, l.entry_number, l.line_number, c.fee_id, c.rate, c.min_usd, c.max_usd,
        CAST(l.customs_value_usd * 100 AS BIGINT) AS value_cents
    FROM lines AS l
    JOIN cells AS c USING (entry_date, transport_mode)
),
entry_fee AS (
    -- per (fee, entry): the fee in cents and the entry's covered lines
    SELECT
        fee_id,
        any_value(rate) * sum(value_cents) * 0.01 AS exact_fee,
        CAST(round(CASE WHEN exact_fee < any_value(min_usd) THEN any_value(min_usd)
                        WHEN exact_fee > any_value(max_usd) THEN any_value(max_usd)
                        ELSE exact_fee END, 2) * 100 AS HUGEINT) AS fee_cents,
        sum(value_cents) AS base_cents,
        count(*) AS n_lines,
        list({v: value_cents, n: line_number, id: line_id}) AS items
    FROM covered
    GROUP BY fee_id, entry_number
),
shares AS (
    -- each line's floor and remainder (an entry worth 0 is shared equally), the lines in
    -- allocation order: largest remainder first, then lower line number
    SELECT
        fee_id, fee_cents,
        CASE WHEN base_cents > 0 THEN base_cents ELSE n_lines END AS weight_total,
        list_sort(list_transform(items, lambda x: {
            r: -((fee_cents * CASE WHEN base_cents > 0 THEN x.v ELSE 1 END) % weight_total),
            n: x.n,
            id: x.id,
            f: CAST((fee_cents * CASE WHEN base_cents > 0 THEN x.v ELSE 1 END) // weight_total AS BIGINT)
        })) AS shares
    FROM entry_fee
),
allocated AS (
    -- the cents left over after the floors go one each to the first lines in that order
    SELECT fee_id, share.id AS line_id, share.f + CAST(position <= left_over AS BIGINT) AS cents
    FROM (
        SELECT
            fee_id,
            fee_cents - list_sum(list_transform(shares, lambda x: x.f)) AS left_over,
            unnest(shares) AS share,
            unnest(range(1, len(shares) + 1)) AS position
        FROM shares
    )
)
SELECT
    line_id,
    sum(cents) FILTER (WHERE fee_id = 'mpf') AS mpf_cents,
    sum(cents) FILTER (WHERE fee_id = 'hmf') AS hmf_cents
FROM allocated
GROUP BY line_id;

-- step: write_fct_duty_lines
CREATE OR REPLACE TABLE fct_duty_lines AS
WITH priced AS (
    SELECT
        l.*,
        k.mfn_text_rate AS mfn_rate_text,
        k.ad_val_rate * l.customs_value_usd + k.specific_rate * COALESCE(l.quantity, 0) AS mfn_exact,
        layer_duty(k.r1, k.i1, l.customs_value_usd, mfn_exact) AS d1,
        layer_duty(k.r2, k.i2, l.customs_value_usd, mfn_exact) AS d2,
        layer_duty(k.r3, k.i3, l.customs_value_usd, mfn_exact) AS d3,
        layer_duty(k.r4, k.i4, l.customs_value_usd, mfn_exact) AS d4,
        CAST(round(mfn_exact, 2) AS DECIMAL(18, 2)) AS mfn_duty_usd,
        CAST(COALESCE(CASE WHEN k.c1 = 'section_232' THEN d1 END, 0) + COALESCE(CASE WHEN k.c2 = 'section_232' THEN d2 END, 0)
           + COALESCE(CASE WHEN k.c3 = 'section_232' THEN d3 END, 0) + COALESCE(CASE WHEN k.c4 = 'section_232' THEN d4 END, 0)
           AS DECIMAL(18, 2)) AS section_232_duty_usd,
        CAST(COALESCE(CASE WHEN k.c1 = 'ieepa' THEN d1 END, 0) + COALESCE(CASE WHEN k.c2 = 'ieepa' THEN d2 END, 0)
           + COALESCE(CASE WHEN k.c3 = 'ieepa' THEN d3 END, 0) + COALESCE(CASE WHEN k.c4 = 'ieepa' THEN d4 END, 0)
           AS DECIMAL(18, 2)) AS ieepa_duty_usd,
        CAST(COALESCE(CASE WHEN k.c1 = 'other' THEN d1 END, 0) + COALESCE(CASE WHEN k.c2 = 'other' THEN d2 END, 0)
           + COALESCE(CASE WHEN k.c3 = 'other' THEN d3 END, 0) + COALESCE(CASE WHEN k.c4 = 'other' THEN d4 END, 0)
           AS DECIMAL(18, 2)) AS other_duty_usd,
        CAST(mfn_duty_usd + section_232_duty_usd + ieepa_duty_usd + other_duty_usd AS DECIMAL(18, 2)) AS total_duty_usd,
        concat_ws(', ',
            layer_heading(k.r1, k.i1, k.h1, k.x1, l.customs_value_usd, mfn_exact),
            layer_heading(k.r2, k.i2, k.h2, k.x2, l.customs_value_usd, mfn_exact),
            layer_heading(k.r3, k.i3, k.h3, k.x3, l.customs_value_usd, mfn_exact),
            layer_heading(k.r4, k.i4, k.h4, k.x4, l.customs_value_usd, mfn_exact)) AS ch99_headings,
        CAST(COALESCE(f.mpf_cents, 0) * 0.01 AS DECIMAL(18, 2)) AS mpf_usd,
        CAST(COALESCE(f.hmf_cents, 0) * 0.01 AS DECIMAL(18, 2)) AS hmf_usd
    FROM lines AS l
    JOIN key_rates AS k USING (hts_code, country_of_origin, entry_date)
    LEFT JOIN line_fees AS f ON f.line_id = l.rowid
)
SELECT
    entry_number, line_number, entry_date, getvariable('month') AS month, hts_code, country_of_origin,
    customs_value_usd, mfn_duty_usd, section_232_duty_usd, ieepa_duty_usd, other_duty_usd,
    total_duty_usd, mpf_usd, hmf_usd,
    CAST(total_duty_usd + mpf_usd + hmf_usd AS DECIMAL(18, 2)) AS total_cost_usd,
    effective_rate(total_duty_usd, customs_value_usd) AS effective_duty_rate,
    ch99_headings,
    importer_id, transport_mode, port_code, quantity, quantity_unit, mfn_rate_text,
    declared_duty_usd
FROM priced;

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
