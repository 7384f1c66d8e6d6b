-- Each child's stored cohort for a round.
SELECT la_code, child_id, cohort FROM child_cohorts WHERE round_id = $round_id ORDER BY la_code, child_id;
