-- SSDA903 episode history of one LA (child-level: only ever offered to that LA's own viewers).
SELECT child_id, decom, dec, rne, ls, cin, place, place_provider, rec, reason_place_change,
       home_sector, placement_sector, urn, round(distance_km, 1) AS distance_km, sex, birth_month, year
FROM episodes
WHERE la_code = $la
ORDER BY child_id, decom;
