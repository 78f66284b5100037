-- Report: IEEPA duty per entry month and estimated refund status (months up to $month).
SELECT month, refund_status, cape_eligible, SUM(ieepa_duty_usd) AS ieepa_duty_usd,
       MIN(estimated_liquidation_date) AS first_liquidation_date,
       MAX(estimated_liquidation_date) AS last_liquidation_date
FROM fct_ieepa_refunds
WHERE month <= $month
GROUP BY month, refund_status, cape_eligible
ORDER BY month, refund_status;
