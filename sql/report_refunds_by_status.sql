-- Report: the IEEPA refund ledger of every entry month up to $month, by estimated refund
-- status: IEEPA duty paid, the part declared, CAPE eligibility and the span of estimated
-- liquidation dates (estimates as of each month's run, fct_ieepa_refunds.as_of_date).
SELECT refund_status,
       cape_eligible,
       COUNT(DISTINCT entry_number)    AS entry_count,
       COUNT(*)                        AS line_count,
       SUM(ieepa_duty_usd)             AS ieepa_duty_usd,
       SUM(declared_ieepa_duty_usd)    AS declared_ieepa_duty_usd,
       MIN(estimated_liquidation_date) AS first_liquidation_date,
       MAX(estimated_liquidation_date) AS last_liquidation_date,
       SUM(ieepa_duty_usd) FILTER (WHERE month = $month) AS month_ieepa_duty_usd
FROM fct_ieepa_refunds
WHERE month <= $month
GROUP BY refund_status, cape_eligible
ORDER BY cape_eligible DESC, first_liquidation_date, refund_status;
