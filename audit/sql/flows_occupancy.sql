-- Which LAs' children occupy each home's places (LAs outside the region pooled as 'OUTSIDE'), with the home's own LA.
SELECT o.urn, h.la_code AS home_la_code, o.la_code AS occupying_la_code, o.places_used
FROM home_occupancy o
JOIN homes h USING (urn)
ORDER BY o.urn, o.la_code;
