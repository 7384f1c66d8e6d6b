-- The need codes recorded as present for the children of one view (blank and N are both absent).
SELECT cn.la_code, cn.child_id, cn.code
FROM child_needs cn
JOIN children_enriched c USING (round_id, la_code, child_id)
WHERE cn.round_id = $round_id AND cn.present
  AND ($la IS NULL OR c.la_code = $la)
  AND ($age_band IS NULL OR c.age_band = $age_band)
  AND ($sex IS NULL OR c.sex = $sex)
  AND ($placement IS NULL OR c.placement_type = $placement);
