-- Report: effective duty rate per month and product category for one origin ($origin),
-- months up to $month. Categories by HTS heading: 8703 cars, 8711 motorcycles,
-- 8701/8702/8704/8705 trucks and buses, everything else parts.
WITH categorised AS (
    SELECT month, customs_value_usd, total_duty_usd,
           CASE
               WHEN hts_code LIKE '8703%' THEN 'cars'
               WHEN hts_code LIKE '8711%' THEN 'motorcycles'
               WHEN substr(hts_code, 1, 4) IN ('8701', '8702', '8704', '8705') THEN 'trucks and buses'
               ELSE 'parts'
           END AS category
    FROM fct_duty_by_hs_month
    WHERE month <= $month AND country_of_origin = $origin
)
SELECT month, category,
       SUM(customs_value_usd) AS customs_value_usd,
       SUM(total_duty_usd)    AS total_duty_usd,
       CASE WHEN SUM(customs_value_usd) > 0
            THEN CAST(SUM(total_duty_usd) / SUM(customs_value_usd) AS DOUBLE) END AS effective_duty_rate
FROM categorised
GROUP BY month, category
ORDER BY month, category;
