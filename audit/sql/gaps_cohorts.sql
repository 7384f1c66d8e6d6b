-- Cohorts fitted for a round, with their names and sizes (empty until cohorts have been fitted).
SELECT k.cohort, coalesce(n.name, 'Cohort ' || k.cohort) AS name, count(*) AS children
FROM child_cohorts k
LEFT JOIN cohort_names n ON n.round_id = k.round_id AND n.cohort = k.cohort
WHERE k.round_id = $round_id
GROUP BY ALL
ORDER BY k.cohort;
