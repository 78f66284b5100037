-- The benchmark's baseline: the monthly run's core arithmetic as the leanest plain DuckDB SQL
-- script we could write by hand (profiled step by step with EXPLAIN ANALYZE). Same input (the
-- all-text customs Parquet), same schedule files, same rules as the pipeline's engine
-- (docs/architecture.md, "The schedule"; transforms/duty.py):
--   MFN by HTS8 (ad valorem + specific x quantity);
--   chapter 99 measures resolved on distinct keys (hts_code, origin, entry_date and the two
--   line facts the rules read: the date of exportation where an in-transit rule could use it,
--   and the declared headings): candidates are the measures in force for the origin whose
--   scope prefix starts the code, a `claim` measure only where the line declares its heading
--   or cap heading, a measure on declared metal content only for products of the
--   metal_derivatives list for its metal from the product's effective date, reporting the
--   product's ch99_code; the measures a met exemption exempts (condition `hts`, `claim`: the
--   heading declared, `in_transit`: exported by vessel before exported_before) leave the
--   candidates; per layer the longest scope prefix, then a specific origin over '*', then
--   priority, then measure_id; a winner is dropped when its excluded_by names another
--   layer's winner; the headings of the exemptions that removed a measure the line would
--   otherwise pay follow the layer headings;
--   each measure's base: the customs value, the declared steel / aluminum content (none
--   declared: nothing charged), or the non-metal value (the value less the content an applied
--   metal measure charged); additive (rate x base) and inclusive_total
--   (max(rate x base - MFN x base / value, 0), the MFN share in the engine's Decimal(38, 10)
--   arithmetic) shapes; each measure's amount rounded once to the cent, half away from zero;
--   MPF and HMF per entry (fee row in force on the entry date, transport modes, min/max),
--   rounded to the cent and allocated to lines by largest remainder in integer cents;
--   the effective duty rate rounded as the engine rounds it.
-- tests/bench/test_plain_duckdb.py checks that it agrees with the pipeline line by line.
-- Writes fct_duty_lines and fct_duty_by_hs_month into the connected DuckDB file and the
-- aggregate to a Parquet file. It does not check rows (no rejects; it takes the text as clean:
-- no surrounding blanks, codes in upper case, headings `;`-separated without blanks or
-- repeats, as bench/generate_lines.py writes it), flag unconfirmed measures, undeclared metal
-- content, in-transit rules that may apply or refused claims, journal runs, sort the line
-- table, or export the lines to Parquet.
--
-- What makes it lean: the lines are parsed once into a narrow typed table; the date of
-- exportation is reduced to what the month's in-transit rules can tell of it (by vessel, inside
-- their entry window: the earliest of their exported_before dates it precedes; else NULL), so
-- that lines differing in nothing a rule reads share their key; everything that depends only
-- on the key is worked out once per distinct key: measures and exemptions are matched to the
-- month's entry dates first (equi-joins from then on), each measure is a number and a set of
-- measures a bit mask (exemptions, exclusions), the selection is one integer arg_min per key
-- and layer, and each key gets one row with a column per layer, so each line's duty is plain
-- column arithmetic (no line x measure join, no group-by per line, no string_agg; the exact
-- proportional MFN share is computed only on lines that declare metal content); the fees are
-- matched per (entry date, transport mode) cell, then carry only (line id, line number, cents)
-- into one hash aggregate per (fee, entry) whose short list of lines is sorted in place for the
-- left-over cents (no window over the month);
-- the line table is written once, unsorted, by one join pass.
--
-- Inputs are DuckDB variables set by bench/plain_duckdb.py (SET VARIABLE name = ?):
--   customs_path, month ('YYYY-MM'), mfn_csv, measures_csv, scopes_csv, fees_csv,
--   metal_derivatives_csv, exemptions_csv, agg_parquet.
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

-- (the file's optional columns `base` and `condition`, absent: every measure on the value,
-- none on a claim)
CREATE OR REPLACE TEMP TABLE measure_rows AS
SELECT
    measure_id, component, layer, scope_id, origin,
    CAST(valid_from AS DATE) AS valid_from,
    CAST(NULLIF(valid_to, '') AS DATE) AS valid_to,
    shape = 'inclusive_total' AS inclusive,
    CAST(rate AS DECIMAL(9, 6)) AS rate,
    heading,
    NULLIF(heading_at_or_above_cap, '') AS cap_heading,
    string_split(COALESCE(excluded_by, ''), ' ') AS excluded_by,
    CAST(priority AS BIGINT) AS priority,
    -- what the rate multiplies: 0 the customs value, 1 the non-metal value, 2 / 3 the declared
    -- steel / aluminum content
    CASE base WHEN 'non_metal_value' THEN 1 WHEN 'steel_content' THEN 2 WHEN 'aluminum_content' THEN 3 ELSE 0 END AS base,
    CASE base WHEN 'steel_content' THEN 'steel' WHEN 'aluminum_content' THEN 'aluminum' END AS metal,
    COALESCE(condition = 'claim', false) AS on_claim
FROM (
    FROM read_csv(getvariable('measures_csv'), all_varchar = true)
    UNION ALL BY NAME (SELECT NULL::VARCHAR AS base, NULL::VARCHAR AS condition LIMIT 0)
);

-- layers stack in the order they first appear in the measures file; each gets a slot 1..8 of
-- the per-key table below (a ninth layer stops the script rather than being dropped)
CREATE OR REPLACE TEMP TABLE layer_slot AS
SELECT layer, row_number() OVER (ORDER BY min(rowid)) AS slot
FROM measure_rows GROUP BY layer;
SELECT CASE WHEN max(slot) > 8 THEN error('plain_duckdb.sql has at most 8 measure layers') END
FROM layer_slot;

-- each measure numbered (`no`, file order) so that a set of measures is a bit mask (`bit`):
-- the measures that exclude it (`excluded_by_mask`); `tie`: its place in the last tie-breaks of
-- the selection rule (higher priority, then measure_id)
SELECT CASE WHEN count(*) > 127 THEN error('plain_duckdb.sql has at most 127 measures') END
FROM measure_rows;
CREATE OR REPLACE TEMP TABLE measures AS
WITH numbered AS (
    SELECT rowid AS no, * FROM measure_rows
)
SELECT
    m.*, ls.slot, CAST(1 AS HUGEINT) << m.no AS bit,
    (SELECT COALESCE(bit_or(CAST(1 AS HUGEINT) << x.no), 0) FROM numbered AS x
     WHERE list_contains(m.excluded_by, x.measure_id)) AS excluded_by_mask,
    row_number() OVER (ORDER BY m.priority DESC, m.measure_id) AS tie
FROM numbered AS m
JOIN layer_slot AS ls USING (layer);

CREATE OR REPLACE TEMP TABLE scopes AS
SELECT scope_id, hts_prefix FROM read_csv(getvariable('scopes_csv'), all_varchar = true);

CREATE OR REPLACE TEMP TABLE derivatives AS
SELECT hts_prefix, ch99_code, metal, CAST(NULLIF(effective_date, '') AS DATE) AS listed_from
FROM read_csv(getvariable('metal_derivatives_csv'), all_varchar = true, header = true);

-- (`exempts_mask`: the measures an exemption exempts)
CREATE OR REPLACE TEMP TABLE exemptions AS
SELECT
    e.exemption_id,
    NULLIF(e.heading, '') AS heading,
    (SELECT COALESCE(bit_or(m.bit), 0) FROM measures AS m
     WHERE list_contains(string_split(e.exempts, ' '), m.measure_id)) AS exempts_mask,
    e.scope_id, e.origin,
    CAST(e.valid_from AS DATE) AS valid_from,
    CAST(NULLIF(e.valid_to, '') AS DATE) AS valid_to,
    CAST(NULLIF(e.exported_before, '') AS DATE) AS exported_before,
    e.condition
FROM read_csv(getvariable('exemptions_csv'), all_varchar = true, header = true) AS e;

-- The in-transit rules whose entry-date window meets the month: a line can meet one only if
-- it came by vessel, entered inside [transit_from, transit_to) and was exported before one of
-- their exported_before dates (`transit_cutoffs`, ascending); ISO text, compared with the
-- input's text; NULL when the month has none.
CREATE OR REPLACE TEMP TABLE transit_rules AS
SELECT valid_from, COALESCE(valid_to, DATE '9999-12-31') AS valid_to, exported_before
FROM exemptions
WHERE condition = 'in_transit'
  AND valid_from < CAST(getvariable('month') || '-01' AS DATE) + INTERVAL 1 MONTH
  AND COALESCE(valid_to > CAST(getvariable('month') || '-01' AS DATE), true);
SET VARIABLE transit_from = (SELECT CAST(min(valid_from) AS VARCHAR) FROM transit_rules);
SET VARIABLE transit_to = (SELECT CAST(max(valid_to) AS VARCHAR) FROM transit_rules);
SET VARIABLE transit_cutoffs = (
    SELECT list(DISTINCT CAST(exported_before AS VARCHAR) ORDER BY CAST(exported_before AS VARCHAR))
    FROM transit_rules
);

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

-- non-negative n / positive d rounded half to even, as Polars rounds Decimal arithmetic
CREATE OR REPLACE TEMP MACRO half_even_div(n, d) AS
    n // d + CAST(2 * (n % d) > d OR (2 * (n % d) = d AND (n // d) % 2 = 1) AS INTEGER);

-- duty / value as the engine computes it: the quotient in Decimal(38, 10) (rounded half to
-- even to 10 decimals), then rounded half away from zero to 6; in one integer division (both
-- amounts are whole cents, neither negative; DuckDB's decimal division returns DOUBLE): the
-- two roundings of q come to floor(q x 10^6 + 0.50005)
CREATE OR REPLACE TEMP MACRO effective_rate(duty_usd, value_usd) AS
    CASE WHEN value_usd > 0 THEN CAST(CAST(
        (20000000000 * CAST(duty_usd * 100 AS HUGEINT) + 10001 * CAST(value_usd * 100 AS HUGEINT))
        // (20000 * CAST(value_usd * 100 AS HUGEINT)) AS DECIMAL(18, 0)) * 0.000001 AS DECIMAL(18, 6))
    END;

-- the line's `;`-separated declared headings hold `heading` (NULL: no)
CREATE OR REPLACE TEMP MACRO declares(declared, heading) AS
    contains(';' || declared || ';', ';' || heading || ';');

-- a product of the derivatives list ({heading, listed_from}, NULL: not on it) is listed on `day`
CREATE OR REPLACE TEMP MACRO listed(product, day) AS
    product IS NOT NULL AND (product.listed_from IS NULL OR product.listed_from <= day);

-- what a line's arithmetic reads of an applied measure (a row of `measures`; NULL: none), a
-- measure on metal content reporting the product's heading (`product`: a row of `products`)
CREATE OR REPLACE TEMP MACRO measure_terms(measure, product) AS
    CASE WHEN measure.no IS NOT NULL THEN {
        component: measure.component, rate: measure.rate, inclusive: measure.inclusive,
        heading: CASE measure.metal WHEN 'steel' THEN product.steel.heading
                                    WHEN 'aluminum' THEN product.aluminum.heading
                                    ELSE measure.heading END,
        cap_heading: measure.cap_heading, base: measure.base
    } END;

-- what an inclusive measure on `base_usd` counts of the MFN duty: all of it on the customs
-- value, else MFN x base / value as the engine computes it in Decimal(38, 10): the product,
-- then the quotient, each rounded half to even to 10 decimals (`mfn_units`: the MFN duty in
-- units of 10^-10, NULL on lines without declared content, so that what DuckDB hoists out of
-- this branch costs nothing there); of mfn_exact's type, so that the common branch is not cast
CREATE OR REPLACE TEMP MACRO mfn_share(mfn_exact, mfn_units, base_usd, value_usd) AS
    CASE WHEN base_usd = value_usd THEN mfn_exact
         ELSE CAST(CAST(half_even_div(
                  half_even_div(mfn_units * CAST(base_usd * 100 AS HUGEINT), 100) * 100,
                  CAST(value_usd * 100 AS HUGEINT)) AS DECIMAL(27, 0)) * 0.0000000001 AS DECIMAL(38, 16)) END;

-- a layer's base on a line: the applied measure's `base` code picks the amount (NULL: no
-- measure, or no declared content)
CREATE OR REPLACE TEMP MACRO layer_base(measure, value_usd, non_metal_usd, steel_usd, aluminum_usd) AS
    CASE measure.base WHEN 0 THEN value_usd WHEN 1 THEN non_metal_usd WHEN 2 THEN steel_usd WHEN 3 THEN aluminum_usd END;

-- one layer's amount on a line: rounded once to the cent; NULL when nothing is charged
CREATE OR REPLACE TEMP MACRO layer_duty(measure, cap, share) AS
    CASE WHEN measure.inclusive THEN round(greatest(cap - share, 0), 2) ELSE round(cap, 2) END;
CREATE OR REPLACE TEMP MACRO layer_heading(measure, cap, share) AS
    CASE WHEN cap IS NULL THEN NULL
         WHEN NOT measure.inclusive OR cap > share THEN measure.heading
         ELSE measure.cap_heading END;

-- step: read_lines
-- (the optional columns an input may lack are NULL)
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
    CAST(NULLIF(declared_duty_usd, '') AS DECIMAL(18, 2)) AS declared_duty_usd,
    CAST(steel_content_value_usd AS DECIMAL(18, 2)) AS steel_usd,
    CAST(aluminum_content_value_usd AS DECIMAL(18, 2)) AS aluminum_usd,
    -- where an in-transit rule of the month could apply, the earliest exported_before the
    -- date of exportation is before (all the rules can tell of it); else NULL
    CASE WHEN transport_mode = 'vessel'
              AND entry_date >= getvariable('transit_from') AND entry_date < getvariable('transit_to')
              AND export_date < list_last(getvariable('transit_cutoffs'))
         THEN list_filter(getvariable('transit_cutoffs'), lambda cutoff: export_date < cutoff)[1] END AS transit_cutoff,
    declared_headings
FROM (
    FROM read_parquet(getvariable('customs_path'))
    UNION ALL BY NAME (
        SELECT NULL::VARCHAR AS steel_content_value_usd, NULL::VARCHAR AS aluminum_content_value_usd,
               NULL::VARCHAR AS export_date, NULL::VARCHAR AS declared_headings
        LIMIT 0
    )
)
WHERE starts_with(entry_date, getvariable('month') || '-');

-- step: resolve_measures
-- per distinct key: MFN rates and, per layer slot, the applied measure (a struct: component,
-- rate, shape, headings, base; NULL where none applies), whether an applied measure charges
-- steel / aluminum content, and the headings of the exemptions used
CREATE OR REPLACE TEMP TABLE key_rates AS
WITH keys AS (
    SELECT row_number() OVER () AS key_id, *
    FROM (SELECT DISTINCT hts_code, country_of_origin, entry_date, transit_cutoff, declared_headings FROM lines)
),
codes AS (
    SELECT DISTINCT hts_code FROM keys
),
scoped AS (
    SELECT c.hts_code, s.scope_id, length(s.hts_prefix) AS prefix_len
    FROM codes AS c
    JOIN scopes AS s ON starts_with(c.hts_code, s.hts_prefix)
    UNION ALL
    SELECT hts_code, '*' AS scope_id, 0 AS prefix_len FROM codes
),
products AS (
    -- per code on the derivatives list, per metal: the longest matching prefix's heading and
    -- listing date
    SELECT
        hts_code,
        arg_max(product, prefix_len) FILTER (WHERE metal = 'steel') AS steel,
        arg_max(product, prefix_len) FILTER (WHERE metal = 'aluminum') AS aluminum
    FROM (
        SELECT c.hts_code, d.metal, length(d.hts_prefix) AS prefix_len,
               {heading: d.ch99_code, listed_from: d.listed_from} AS product
        FROM codes AS c
        JOIN derivatives AS d ON starts_with(c.hts_code, d.hts_prefix)
    )
    GROUP BY hts_code
),
days AS (
    SELECT DISTINCT entry_date FROM keys
),
measures_on AS (
    SELECT d.entry_date, m.*
    FROM days AS d
    JOIN measures AS m ON m.valid_from <= d.entry_date AND (m.valid_to IS NULL OR d.entry_date < m.valid_to)
),
exemptions_on AS (
    SELECT d.entry_date, e.*
    FROM days AS d
    JOIN exemptions AS e ON e.valid_from <= d.entry_date AND (e.valid_to IS NULL OR d.entry_date < e.valid_to)
),
met AS (
    -- per key meeting some exemption: the measures they exempt, and those with a heading
    SELECT
        k.key_id,
        bit_or(e.exempts_mask) AS exempted_mask,
        list({heading: e.heading, exempts_mask: e.exempts_mask} ORDER BY e.exemption_id)
            FILTER (WHERE e.heading IS NOT NULL) AS exemptions
    FROM keys AS k
    JOIN scoped AS sc USING (hts_code)
    JOIN exemptions_on AS e ON e.scope_id = sc.scope_id AND e.entry_date = k.entry_date
    WHERE e.origin IN (k.country_of_origin, '*')
      AND CASE e.condition WHEN 'hts' THEN true
                           WHEN 'claim' THEN declares(k.declared_headings, e.heading)
                           WHEN 'in_transit' THEN CAST(k.transit_cutoff AS DATE) <= e.exported_before END
    GROUP BY k.key_id
),
candidates AS (
    SELECT
        k.key_id, m.slot, m.no, m.bit,
        -- the selection rule as one number, smallest first: longest prefix, a specific origin,
        -- then `tie`
        ((10 - sc.prefix_len) * 2 + CAST(m.origin = '*' AS INTEGER)) * 128 + m.tie AS rank
    FROM keys AS k
    JOIN scoped AS sc USING (hts_code)
    JOIN measures_on AS m ON m.scope_id = sc.scope_id AND m.entry_date = k.entry_date
    LEFT JOIN products AS p USING (hts_code)
    WHERE m.origin IN (k.country_of_origin, '*')
      AND (NOT m.on_claim OR declares(k.declared_headings, m.heading) OR declares(k.declared_headings, m.cap_heading))
      AND (m.metal IS NULL OR listed(CASE m.metal WHEN 'steel' THEN p.steel WHEN 'aluminum' THEN p.aluminum END, k.entry_date))
),
winners AS (
    -- per key and layer: the first candidate no met exemption removed (`applied_no`), and
    -- the first of all (`untouched_no`, for keys meeting an exemption)
    SELECT
        c.key_id, c.slot,
        arg_min(c.no, c.rank) FILTER (WHERE x.key_id IS NULL OR x.exempted_mask & c.bit = 0) AS applied_no,
        arg_min(c.no, c.rank) FILTER (WHERE x.key_id IS NOT NULL) AS untouched_no
    FROM candidates AS c
    LEFT JOIN met AS x USING (key_id)
    GROUP BY c.key_id, c.slot
),
winner_masks AS (
    SELECT
        key_id,
        bit_or(CAST(1 AS HUGEINT) << applied_no) AS applied_mask,
        bit_or(CAST(1 AS HUGEINT) << untouched_no) AS untouched_mask
    FROM winners
    GROUP BY key_id
),
applied AS (
    -- per key: each layer's winner unless another layer's winner excludes it; the measures it
    -- would pay but for its exemptions (`paid_mask`)
    SELECT
        w.key_id,
        any_value(w.applied_no) FILTER (WHERE w.slot = 1 AND a.excluded_by_mask & x.applied_mask = 0) AS a1,
        any_value(w.applied_no) FILTER (WHERE w.slot = 2 AND a.excluded_by_mask & x.applied_mask = 0) AS a2,
        any_value(w.applied_no) FILTER (WHERE w.slot = 3 AND a.excluded_by_mask & x.applied_mask = 0) AS a3,
        any_value(w.applied_no) FILTER (WHERE w.slot = 4 AND a.excluded_by_mask & x.applied_mask = 0) AS a4,
        any_value(w.applied_no) FILTER (WHERE w.slot = 5 AND a.excluded_by_mask & x.applied_mask = 0) AS a5,
        any_value(w.applied_no) FILTER (WHERE w.slot = 6 AND a.excluded_by_mask & x.applied_mask = 0) AS a6,
        any_value(w.applied_no) FILTER (WHERE w.slot = 7 AND a.excluded_by_mask & x.applied_mask = 0) AS a7,
        any_value(w.applied_no) FILTER (WHERE w.slot = 8 AND a.excluded_by_mask & x.applied_mask = 0) AS a8,
        bit_or(u.bit) FILTER (WHERE u.excluded_by_mask & x.untouched_mask = 0) AS paid_mask
    FROM winners AS w
    JOIN winner_masks AS x USING (key_id)
    LEFT JOIN measures AS a ON a.no = w.applied_no
    LEFT JOIN measures AS u ON u.no = w.untouched_no
    GROUP BY w.key_id
),
used AS (
    -- the headings of the exemptions that removed a measure the key would otherwise pay, in
    -- exemption_id order, each once
    SELECT
        x.key_id,
        list_transform(list_filter(x.exemptions, lambda e: e.exempts_mask & a.paid_mask <> 0), lambda e: e.heading) AS headings
    FROM met AS x
    JOIN applied AS a USING (key_id)
)
SELECT
    k.hts_code, k.country_of_origin, k.entry_date, k.transit_cutoff, k.declared_headings,
    r.mfn_text_rate, COALESCE(r.ad_val_rate, 0) AS ad_val_rate, COALESCE(r.specific_rate, 0) AS specific_rate,
    measure_terms(m1, p) AS m1, measure_terms(m2, p) AS m2, measure_terms(m3, p) AS m3, measure_terms(m4, p) AS m4,
    measure_terms(m5, p) AS m5, measure_terms(m6, p) AS m6, measure_terms(m7, p) AS m7, measure_terms(m8, p) AS m8,
    COALESCE('steel' IN (m1.metal, m2.metal, m3.metal, m4.metal, m5.metal, m6.metal, m7.metal, m8.metal), false)
        AS charges_steel,
    COALESCE('aluminum' IN (m1.metal, m2.metal, m3.metal, m4.metal, m5.metal, m6.metal, m7.metal, m8.metal), false)
        AS charges_aluminum,
    NULLIF(array_to_string(list_filter(u.headings, lambda h, i: list_position(u.headings, h) = i), ', '), '')
        AS exemption_headings
FROM keys AS k
LEFT JOIN mfn AS r ON r.hts8 = substr(k.hts_code, 1, 8)
LEFT JOIN products AS p USING (hts_code)
LEFT JOIN applied AS a USING (key_id)
LEFT JOIN used AS u USING (key_id)
LEFT JOIN measures AS m1 ON m1.no = a.a1
LEFT JOIN measures AS m2 ON m2.no = a.a2
LEFT JOIN measures AS m3 ON m3.no = a.a3
LEFT JOIN measures AS m4 ON m4.no = a.a4
LEFT JOIN measures AS m5 ON m5.no = a.a5
LEFT JOIN measures AS m6 ON m6.no = a.a6
LEFT JOIN measures AS m7 ON m7.no = a.a7
LEFT JOIN measures AS m8 ON m8.no = a.a8;

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
WITH matched AS (
    SELECT
        l.*, k.* EXCLUDE (hts_code, country_of_origin, entry_date, transit_cutoff, declared_headings),
        k.ad_val_rate * l.customs_value_usd + k.specific_rate * COALESCE(l.quantity, 0) AS mfn_exact,
        -- the customs value less the content an applied metal measure charges
        CASE WHEN k.charges_steel OR k.charges_aluminum
             THEN CAST(greatest(l.customs_value_usd
                                - CASE WHEN k.charges_steel THEN COALESCE(l.steel_usd, 0) ELSE 0 END
                                - CASE WHEN k.charges_aluminum THEN COALESCE(l.aluminum_usd, 0) ELSE 0 END, 0)
                       AS DECIMAL(18, 2))
             ELSE l.customs_value_usd END AS non_metal_usd,
        CAST(COALESCE(f.mpf_cents, 0) * 0.01 AS DECIMAL(18, 2)) AS mpf_usd,
        CAST(COALESCE(f.hmf_cents, 0) * 0.01 AS DECIMAL(18, 2)) AS hmf_usd
    FROM lines AS l
    JOIN key_rates AS k
      ON k.hts_code = l.hts_code AND k.country_of_origin = l.country_of_origin AND k.entry_date = l.entry_date
     AND k.transit_cutoff IS NOT DISTINCT FROM l.transit_cutoff
     AND k.declared_headings IS NOT DISTINCT FROM l.declared_headings
    LEFT JOIN line_fees AS f ON f.line_id = l.rowid
),
based AS (
    SELECT
        *,
        layer_base(m1, customs_value_usd, non_metal_usd, steel_usd, aluminum_usd) AS b1,
        layer_base(m2, customs_value_usd, non_metal_usd, steel_usd, aluminum_usd) AS b2,
        layer_base(m3, customs_value_usd, non_metal_usd, steel_usd, aluminum_usd) AS b3,
        layer_base(m4, customs_value_usd, non_metal_usd, steel_usd, aluminum_usd) AS b4,
        layer_base(m5, customs_value_usd, non_metal_usd, steel_usd, aluminum_usd) AS b5,
        layer_base(m6, customs_value_usd, non_metal_usd, steel_usd, aluminum_usd) AS b6,
        layer_base(m7, customs_value_usd, non_metal_usd, steel_usd, aluminum_usd) AS b7,
        layer_base(m8, customs_value_usd, non_metal_usd, steel_usd, aluminum_usd) AS b8,
        CASE WHEN steel_usd IS NOT NULL OR aluminum_usd IS NOT NULL
             THEN CAST(CAST(mfn_exact AS DECIMAL(38, 10)) * 10000000000 AS HUGEINT) END AS mfn_units
    FROM matched
),
capped AS (
    -- per layer: rate x base, and what an inclusive measure counts of the MFN duty
    SELECT
        *,
        m1.rate * b1 AS t1, CASE WHEN m1.inclusive THEN mfn_share(mfn_exact, mfn_units, b1, customs_value_usd) END AS s1,
        m2.rate * b2 AS t2, CASE WHEN m2.inclusive THEN mfn_share(mfn_exact, mfn_units, b2, customs_value_usd) END AS s2,
        m3.rate * b3 AS t3, CASE WHEN m3.inclusive THEN mfn_share(mfn_exact, mfn_units, b3, customs_value_usd) END AS s3,
        m4.rate * b4 AS t4, CASE WHEN m4.inclusive THEN mfn_share(mfn_exact, mfn_units, b4, customs_value_usd) END AS s4,
        m5.rate * b5 AS t5, CASE WHEN m5.inclusive THEN mfn_share(mfn_exact, mfn_units, b5, customs_value_usd) END AS s5,
        m6.rate * b6 AS t6, CASE WHEN m6.inclusive THEN mfn_share(mfn_exact, mfn_units, b6, customs_value_usd) END AS s6,
        m7.rate * b7 AS t7, CASE WHEN m7.inclusive THEN mfn_share(mfn_exact, mfn_units, b7, customs_value_usd) END AS s7,
        m8.rate * b8 AS t8, CASE WHEN m8.inclusive THEN mfn_share(mfn_exact, mfn_units, b8, customs_value_usd) END AS s8
    FROM based
),
priced AS (
    SELECT
        *,
        layer_duty(m1, t1, s1) AS d1, layer_duty(m2, t2, s2) AS d2, layer_duty(m3, t3, s3) AS d3,
        layer_duty(m4, t4, s4) AS d4, layer_duty(m5, t5, s5) AS d5, layer_duty(m6, t6, s6) AS d6,
        layer_duty(m7, t7, s7) AS d7, layer_duty(m8, t8, s8) AS d8,
        CAST(round(mfn_exact, 2) AS DECIMAL(18, 2)) AS mfn_duty_usd,
        CAST(COALESCE(CASE WHEN m1.component = 'section_232' THEN d1 END, 0) + COALESCE(CASE WHEN m2.component = 'section_232' THEN d2 END, 0)
           + COALESCE(CASE WHEN m3.component = 'section_232' THEN d3 END, 0) + COALESCE(CASE WHEN m4.component = 'section_232' THEN d4 END, 0)
           + COALESCE(CASE WHEN m5.component = 'section_232' THEN d5 END, 0) + COALESCE(CASE WHEN m6.component = 'section_232' THEN d6 END, 0)
           + COALESCE(CASE WHEN m7.component = 'section_232' THEN d7 END, 0) + COALESCE(CASE WHEN m8.component = 'section_232' THEN d8 END, 0)
           AS DECIMAL(18, 2)) AS section_232_duty_usd,
        CAST(COALESCE(CASE WHEN m1.component = 'ieepa' THEN d1 END, 0) + COALESCE(CASE WHEN m2.component = 'ieepa' THEN d2 END, 0)
           + COALESCE(CASE WHEN m3.component = 'ieepa' THEN d3 END, 0) + COALESCE(CASE WHEN m4.component = 'ieepa' THEN d4 END, 0)
           + COALESCE(CASE WHEN m5.component = 'ieepa' THEN d5 END, 0) + COALESCE(CASE WHEN m6.component = 'ieepa' THEN d6 END, 0)
           + COALESCE(CASE WHEN m7.component = 'ieepa' THEN d7 END, 0) + COALESCE(CASE WHEN m8.component = 'ieepa' THEN d8 END, 0)
           AS DECIMAL(18, 2)) AS ieepa_duty_usd,
        CAST(COALESCE(CASE WHEN m1.component = 'other' THEN d1 END, 0) + COALESCE(CASE WHEN m2.component = 'other' THEN d2 END, 0)
           + COALESCE(CASE WHEN m3.component = 'other' THEN d3 END, 0) + COALESCE(CASE WHEN m4.component = 'other' THEN d4 END, 0)
           + COALESCE(CASE WHEN m5.component = 'other' THEN d5 END, 0) + COALESCE(CASE WHEN m6.component = 'other' THEN d6 END, 0)
           + COALESCE(CASE WHEN m7.component = 'other' THEN d7 END, 0) + COALESCE(CASE WHEN m8.component = 'other' THEN d8 END, 0)
           AS DECIMAL(18, 2)) AS other_duty_usd,
        CAST(mfn_duty_usd + section_232_duty_usd + ieepa_duty_usd + other_duty_usd AS DECIMAL(18, 2)) AS total_duty_usd,
        concat_ws(', ',
            layer_heading(m1, t1, s1), layer_heading(m2, t2, s2), layer_heading(m3, t3, s3),
            layer_heading(m4, t4, s4), layer_heading(m5, t5, s5), layer_heading(m6, t6, s6),
            layer_heading(m7, t7, s7), layer_heading(m8, t8, s8), exemption_headings) AS ch99_headings
    FROM capped
)
SELECT
    entry_number, line_number, entry_date, getvariable('month') AS month, hts_code, country_of_origin,
    customs_value_usd, mfn_duty_usd, section_232_duty_usd, ieepa_duty_usd, other_duty_usd,
    total_duty_usd, mpf_usd, hmf_usd,
    CAST(total_duty_usd + mpf_usd + hmf_usd AS DECIMAL(18, 2)) AS total_cost_usd,
    effective_rate(total_duty_usd, customs_value_usd) AS effective_duty_rate,
    ch99_headings,
    importer_id, transport_mode, port_code, quantity, quantity_unit, mfn_text_rate AS mfn_rate_text,
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
