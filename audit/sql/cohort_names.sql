-- A round's cohort names, and whether a person has edited them (edited names survive a refit with the same k).
SELECT cohort, name, edited FROM cohort_names WHERE round_id = $round_id ORDER BY cohort;
