-- Children per LA, age band, sex and placement type in a round: every view the filters can pick is a margin of this table.
SELECT la_code, age_band, coalesce(sex, '') AS sex, coalesce(placement_type, '') AS placement, count(*) AS n
FROM children_enriched
WHERE round_id = $round_id
GROUP BY ALL
ORDER BY ALL;
