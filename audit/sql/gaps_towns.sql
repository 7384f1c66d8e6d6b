-- Every town in the region with its district and LA names, the places the gap analysis scores.
SELECT t.town_id, t.name, t.lat, t.lon, t.district_code, d.district_name, t.la_code, l.la_name
FROM towns t
LEFT JOIN districts d USING (district_code)
LEFT JOIN las l ON l.la_code = t.la_code
ORDER BY t.town_id;
