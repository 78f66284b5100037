-- fct_declared_duty_by_heading: one row per customs line x duty heading (grain: entry_number,
-- line_number, heading); heading is a chapter 99/98 heading or 'MFN'. Published per month
-- (delete-then-insert on `month`). declared_duty_usd: what the line declared under the heading
-- (an ACE ES-003 export's row of that HTS number; NULL when declared without an amount or not
-- declared); computed_duty_usd: the schedule's duty under it; difference_usd = computed -
-- declared. cause: match | amount_differs | amount_not_declared | no_duty_heading (0.00 under a
-- claim/exemption heading, e.g. 9903.94.06) | heading_not_computed |
-- heading_not_declared. Per line, declared sums to the line's declared duty, computed to its
-- total_duty_usd in fct_duty_lines.
CREATE TABLE IF NOT EXISTS fct_declared_duty_by_heading (
    entry_number          VARCHAR       NOT NULL,
    line_number           BIGINT        NOT NULL,
    entry_date            DATE          NOT NULL,
    month                 VARCHAR       NOT NULL,  -- YYYY-MM of entry_date
    importer_id           VARCHAR,
    hts_code              VARCHAR       NOT NULL,  -- the line's own HTS number
    country_of_origin     VARCHAR       NOT NULL,
    heading               VARCHAR       NOT NULL,  -- 9903.94.05, 9903.01.25, ... or MFN
    program               VARCHAR,                 -- mfn, section_232, ieepa, ...; NULL for a heading the schedule does not know
    declared_duty_usd     DECIMAL(18,2),
    computed_duty_usd     DECIMAL(18,2) NOT NULL,
    difference_usd        DECIMAL(18,2) NOT NULL,  -- computed - declared
    cause                 VARCHAR       NOT NULL
);
