-- Report: the month's landed cost (customs value + duty + MPF + HMF) per product category,
-- every origin. Categories by HTS heading as in report_effective_rate.sql.
WITH categorised AS (
    SELECT CASE
               WHEN hts_code LIKE '8703%' THEN 'cars'
               WHEN hts_code LIKE '8711%' THEN 'motorcycles'
               WHEN substr(hts_code, 1, 4) IN ('8701', '8702', '8704', '8705') THEN 'trucks and buses'
               ELSE 'parts'
           END AS category,
           line_count, customs_value_usd, total_duty_usd, mpf_usd, hmf_usd
    FROM fct_duty_by_hs_month
    WHERE month = $month
)
SELECT category,
       SUM(line_count)                                                         AS line_count,
       SUM(customs_value_usd)                                                  AS customs_value_usd,
       SUM(total_duty_usd)                                                     AS total_duty_usd,
       SUM(mpf_usd)                                                            AS mpf_usd,
       SUM(hmf_usd)                                                            AS hmf_usd,
       SUM(customs_value_usd) + SUM(total_duty_usd) + SUM(mpf_usd) + SUM(hmf_usd) AS landed_cost_usd
FROM categorised
GROUP BY category
ORDER BY landed_cost_usd DESC, category;
