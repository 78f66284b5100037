-- Report: the month's lines by the optional line facts the duty rules read (export date,
-- metal content, declared chapter 99 headings) and what those rules decided.
WITH lines AS (SELECT * FROM fct_duty_lines WHERE month = $month)
SELECT fact, line_count, customs_value_usd, total_duty_usd FROM (
    SELECT 1 AS sort_order, 'export date declared' AS fact, COUNT(*) AS line_count,
           SUM(customs_value_usd) AS customs_value_usd, SUM(total_duty_usd) AS total_duty_usd
    FROM lines WHERE export_date IS NOT NULL
    UNION ALL
    SELECT 2, 'in-transit exemption applied (9903.01.28, 9903.03.02, or the earlier 10% rate)', COUNT(*),
           SUM(customs_value_usd), SUM(total_duty_usd)
    FROM lines
    WHERE export_date IS NOT NULL AND transport_mode = 'vessel'
      AND (regexp_matches(ch99_headings, '9903\.01\.28|9903\.03\.02')
           OR (export_date < DATE '2025-08-07' AND entry_date >= DATE '2025-08-07' AND entry_date < DATE '2025-10-05'
               AND ch99_headings LIKE '%9903.01.25%'))
    UNION ALL
    SELECT 3, 'in-transit rule may apply: export date not declared (flagged)', COUNT(*),
           SUM(customs_value_usd), SUM(total_duty_usd)
    FROM lines WHERE flags LIKE '%in-transit rule%may apply%'
    UNION ALL
    SELECT 4, 'metal content declared', COUNT(*), SUM(customs_value_usd), SUM(total_duty_usd)
    FROM lines WHERE steel_content_value_usd IS NOT NULL OR aluminum_content_value_usd IS NOT NULL
    UNION ALL
    SELECT 5, 'metal derivative without declared content (flagged)', COUNT(*), SUM(customs_value_usd), SUM(total_duty_usd)
    FROM lines WHERE flags LIKE '%metal content not declared%'
    UNION ALL
    SELECT 6, 'Section 122 exempt by list (9903.03.03)', COUNT(*), SUM(customs_value_usd), SUM(total_duty_usd)
    FROM lines WHERE ch99_headings LIKE '%9903.03.03%'
    UNION ALL
    SELECT 7, 'chapter 99 headings declared', COUNT(*), SUM(customs_value_usd), SUM(total_duty_usd)
    FROM lines WHERE declared_headings IS NOT NULL
    UNION ALL
    SELECT 8, 'claim refused (priced without it, flagged)', COUNT(*), SUM(customs_value_usd), SUM(total_duty_usd)
    FROM lines WHERE flags LIKE '%claim % refused%'
)
WHERE line_count > 0
ORDER BY sort_order;
