-- Report: the month's HS codes with the most duty (every origin), top $top.
SELECT hts_code,
       SUM(line_count)        AS line_count,
       SUM(customs_value_usd) AS customs_value_usd,
       SUM(total_duty_usd)    AS total_duty_usd,
       CASE WHEN SUM(customs_value_usd) > 0
            THEN CAST(SUM(total_duty_usd) / SUM(customs_value_usd) AS DOUBLE) END AS effective_duty_rate
FROM fct_duty_by_hs_month
WHERE month = $month
GROUP BY hts_code
ORDER BY total_duty_usd DESC, hts_code
LIMIT $top;
