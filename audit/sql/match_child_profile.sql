-- Each child's need categories (present when any code of the category is), current home and fitted cohort,
-- so matching can test every home against every category the child has. Located and aged by provision.demand().
SELECT c.la_code, c.child_id, c.placement_urn, k.cohort,
       coalesce(list_sort(list(cc.category) FILTER (WHERE cc.present)), []) AS categories
FROM children c
LEFT JOIN child_categories cc USING (round_id, la_code, child_id)
LEFT JOIN child_cohorts k USING (round_id, la_code, child_id)
WHERE c.round_id = $round_id
GROUP BY ALL
ORDER BY c.la_code, c.child_id;
