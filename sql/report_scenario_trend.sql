-- Report: total duty per month under each scenario (months up to $month).
SELECT month, scenario, SUM(total_duty_usd) AS total_duty_usd
FROM fct_scenario_duty_by_hs_month
WHERE month <= $month
GROUP BY month, scenario
ORDER BY month, scenario;
