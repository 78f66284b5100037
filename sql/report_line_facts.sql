-- Report: the month's lines by the optional line facts the duty rules read (export date,
-- metal content, declared chapter 99 headings) and what those rules decided. One scan of the
-- month's lines, grouped by the eight facts (true, false or unknown each); each fact's row sums
-- the groups where it holds.
WITH lines AS (
    SELECT customs_value_usd, total_duty_usd,
        export_date IS NOT NULL AS f1,
        export_date IS NOT NULL AND transport_mode = 'vessel'
            AND (ch99_headings LIKE '%9903.01.28%' OR ch99_headings LIKE '%9903.03.02%'
                 OR (export_date < DATE '2025-08-07' AND entry_date >= DATE '2025-08-07'
                     AND entry_date < DATE '2025-10-05' AND ch99_headings LIKE '%9903.01.25%')) AS f2,
        flags LIKE '%in-transit rule%may apply%' AS f3,
        steel_content_value_usd IS NOT NULL OR aluminum_content_value_usd IS NOT NULL AS f4,
        flags LIKE '%metal content not declared%' AS f5,
        ch99_headings LIKE '%9903.03.03%' AS f6,
        declared_headings IS NOT NULL AS f7,
        flags LIKE '%claim % refused%' AS f8
    FROM fct_duty_lines WHERE month = $month
),
totals AS MATERIALIZED (
    SELECT CAST(SUM(n) FILTER (WHERE f1) AS BIGINT) AS n1, SUM(v) FILTER (WHERE f1) AS v1, SUM(d) FILTER (WHERE f1) AS d1,
           CAST(SUM(n) FILTER (WHERE f2) AS BIGINT) AS n2, SUM(v) FILTER (WHERE f2) AS v2, SUM(d) FILTER (WHERE f2) AS d2,
           CAST(SUM(n) FILTER (WHERE f3) AS BIGINT) AS n3, SUM(v) FILTER (WHERE f3) AS v3, SUM(d) FILTER (WHERE f3) AS d3,
           CAST(SUM(n) FILTER (WHERE f4) AS BIGINT) AS n4, SUM(v) FILTER (WHERE f4) AS v4, SUM(d) FILTER (WHERE f4) AS d4,
           CAST(SUM(n) FILTER (WHERE f5) AS BIGINT) AS n5, SUM(v) FILTER (WHERE f5) AS v5, SUM(d) FILTER (WHERE f5) AS d5,
           CAST(SUM(n) FILTER (WHERE f6) AS BIGINT) AS n6, SUM(v) FILTER (WHERE f6) AS v6, SUM(d) FILTER (WHERE f6) AS d6,
           CAST(SUM(n) FILTER (WHERE f7) AS BIGINT) AS n7, SUM(v) FILTER (WHERE f7) AS v7, SUM(d) FILTER (WHERE f7) AS d7,
           CAST(SUM(n) FILTER (WHERE f8) AS BIGINT) AS n8, SUM(v) FILTER (WHERE f8) AS v8, SUM(d) FILTER (WHERE f8) AS d8
    FROM (
        SELECT f1, f2, f3, f4, f5, f6, f7, f8, COUNT(*) AS n, SUM(customs_value_usd) AS v, SUM(total_duty_usd) AS d
        FROM lines GROUP BY ALL
    )
)
SELECT fact, line_count, customs_value_usd, total_duty_usd FROM (
    SELECT 1 AS sort_order, 'export date declared' AS fact, n1 AS line_count, v1 AS customs_value_usd, d1 AS total_duty_usd FROM totals
    UNION ALL SELECT 2, 'in-transit exemption applied (9903.01.28, 9903.03.02, or the earlier 10% rate)', n2, v2, d2 FROM totals
    UNION ALL SELECT 3, 'in-transit rule may apply: export date not declared (flagged)', n3, v3, d3 FROM totals
    UNION ALL SELECT 4, 'metal content declared', n4, v4, d4 FROM totals
    UNION ALL SELECT 5, 'metal derivative without declared content (flagged)', n5, v5, d5 FROM totals
    UNION ALL SELECT 6, 'Section 122 exempt by list (9903.03.03)', n6, v6, d6 FROM totals
    UNION ALL SELECT 7, 'chapter 99 headings declared', n7, v7, d7 FROM totals
    UNION ALL SELECT 8, 'claim refused (priced without it, flagged)', n8, v8, d8 FROM totals
)
WHERE line_count > 0
ORDER BY sort_order;
