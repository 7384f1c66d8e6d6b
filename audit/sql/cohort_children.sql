-- Each child's cohort and its name, as `audit cohorts` writes them (data-contract.md section 4).
SELECT k.child_id, l.la_name AS la, k.cohort, coalesce(n.name, 'Cohort ' || k.cohort) AS cohort_name
FROM child_cohorts k
JOIN las l USING (la_code)
LEFT JOIN cohort_names n ON n.round_id = k.round_id AND n.cohort = k.cohort
WHERE k.round_id = $round_id
ORDER BY l.la_name, k.child_id;
