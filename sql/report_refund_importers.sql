-- Report: the importers with the most IEEPA duty over every entry month up to $month (top $top),
-- from fct_ieepa_refunds_by_importer_month.
SELECT importer_id,
       SUM(entry_count)                  AS entry_count,
       SUM(ieepa_duty_usd)               AS ieepa_duty_usd,
       SUM(cape_eligible_ieepa_duty_usd) AS cape_eligible_ieepa_duty_usd,
       SUM(declared_ieepa_duty_usd)      AS declared_ieepa_duty_usd,
       MIN(month)                        AS first_month,
       MAX(month)                        AS last_month
FROM fct_ieepa_refunds_by_importer_month
WHERE month <= $month
GROUP BY importer_id
ORDER BY ieepa_duty_usd DESC, importer_id
LIMIT $top;
