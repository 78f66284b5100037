-- Report: the month's reconciliation of declared against computed duty, by status and likely
-- cause (likely_cause NULL: the difference matches no known misreading of a measure).
SELECT status,
       likely_cause,
       COUNT(*)               AS line_count,
       SUM(declared_duty_usd) AS declared_duty_usd,
       SUM(total_duty_usd)    AS computed_duty_usd,
       SUM(difference_usd)    AS difference_usd
FROM fct_reconciliation
WHERE month = $month
GROUP BY status, likely_cause
ORDER BY status = 'match', line_count DESC, status, likely_cause NULLS LAST;
