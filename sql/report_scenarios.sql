-- Report: the month's duty under each scenario of fct_scenario_duty_by_hs_month
-- (as_enacted first), every origin.
SELECT scenario,
       SUM(customs_value_usd)    AS customs_value_usd,
       SUM(mfn_duty_usd)         AS mfn_duty_usd,
       SUM(section_232_duty_usd) AS section_232_duty_usd,
       SUM(ieepa_duty_usd)       AS ieepa_duty_usd,
       SUM(other_duty_usd)       AS other_duty_usd,
       SUM(total_duty_usd)       AS total_duty_usd,
       SUM(delta_vs_enacted_usd) AS delta_vs_enacted_usd,
       CASE WHEN SUM(customs_value_usd) > 0
            THEN CAST(SUM(total_duty_usd) / SUM(customs_value_usd) AS DOUBLE) END AS effective_duty_rate
FROM fct_scenario_duty_by_hs_month
WHERE month = $month
GROUP BY scenario
ORDER BY scenario <> 'as_enacted', scenario;
