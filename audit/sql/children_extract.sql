-- Child-level needs profiles for one LA (only ever offered to that LA's own viewers).
SELECT c.child_id, l.la_name AS la, c.age, c.sex, c.home_sector, c.placement_type, c.placement_urn,
       c.placement_sector, round(c.distance_km, 1) AS distance_km, c.weekly_cost, c.dol_order,
       c.n_needs,
       (SELECT string_agg(code, ';' ORDER BY code) FROM child_needs n
         WHERE n.round_id = c.round_id AND n.la_code = c.la_code AND n.child_id = c.child_id AND n.present) AS needs
FROM children_enriched c JOIN las l USING (la_code)
WHERE c.round_id = $round_id AND c.la_code = $la AND ($age_band IS NULL OR c.age_band = $age_band)
ORDER BY c.child_id;
