-- Share of a cohort's children with each need category, so homes can be matched to what the cohort needs.
SELECT cc.category, avg(CASE WHEN cc.present THEN 1.0 ELSE 0.0 END) AS share
FROM child_cohorts k
JOIN child_categories cc USING (round_id, la_code, child_id)
WHERE k.round_id = $round_id AND k.cohort = $cohort
GROUP BY cc.category
ORDER BY share DESC, cc.category;
