-- Children per LA and age band in a round: the hierarchy (region > LA > age band) every filter's figures come from.
SELECT la_code, age_band, count(*) AS n
FROM children_enriched
WHERE round_id = $round_id
GROUP BY la_code, age_band
ORDER BY la_code, age_band;
