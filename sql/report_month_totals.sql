-- Report: the month's totals over every origin, from fct_duty_by_hs_month.
SELECT COALESCE(SUM(line_count), 0)        AS line_count,
       COALESCE(SUM(customs_value_usd), 0) AS customs_value_usd,
       COALESCE(SUM(mfn_duty_usd), 0)         AS mfn_duty_usd,
       COALESCE(SUM(section_232_duty_usd), 0) AS section_232_duty_usd,
       COALESCE(SUM(ieepa_duty_usd), 0)       AS ieepa_duty_usd,
       COALESCE(SUM(other_duty_usd), 0)       AS other_duty_usd,
       COALESCE(SUM(total_duty_usd), 0)    AS total_duty_usd,
       COALESCE(SUM(mpf_usd), 0)           AS mpf_usd,
       COALESCE(SUM(hmf_usd), 0)           AS hmf_usd,
       COALESCE(SUM(total_cost_usd), 0)    AS total_cost_usd
FROM fct_duty_by_hs_month
WHERE month = $month;
