-- Homes with their location, size and the need categories they meet, for maps and tooltips.
SELECT h.urn, h.name, h.provider, h.sector, h.la_code, h.district_code, h.lat, h.lon, h.places,
       h.ofsted_grade, h.weekly_fee,
       coalesce(string_agg(DISTINCT nc.category_label, '; ' ORDER BY nc.category_label), '') AS needs_met
FROM homes h
LEFT JOIN home_needs hn USING (urn)
LEFT JOIN need_codes nc USING (code)
WHERE ($la IS NULL OR h.la_code = $la)
GROUP BY ALL
ORDER BY h.urn;
