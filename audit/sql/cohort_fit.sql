-- How a round's cohorts were fitted (method, number of cohorts, when); no row until they have been.
SELECT method, k, fitted_at FROM cohort_fits WHERE round_id = $round_id;
