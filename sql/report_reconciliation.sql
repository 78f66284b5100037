-- Report: the month's reconciliation of declared against computed duty, by status.
SELECT status,
       COUNT(*)               AS line_count,
       SUM(declared_duty_usd) AS declared_duty_usd,
       SUM(total_duty_usd)    AS computed_duty_usd,
       SUM(difference_usd)    AS difference_usd
FROM fct_reconciliation
WHERE month = $month
GROUP BY status
ORDER BY line_count DESC, status;
