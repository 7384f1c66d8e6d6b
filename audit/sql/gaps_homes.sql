-- Children's homes registered for the chosen need: every category in $categories (a cohort's defining
-- needs), and the need code or category when one is chosen. A home that states no needs matches only "all needs".
SELECT h.urn AS id, h.name, h.provider, h.sector, h.la_code, h.district_code, h.lat, h.lon,
       h.places AS capacity, h.places, h.ofsted_grade,
       coalesce((SELECT string_agg(DISTINCT nc.category_label, '; ' ORDER BY nc.category_label)
                 FROM home_needs hn JOIN need_codes nc USING (code) WHERE hn.urn = h.urn), '') AS needs_met
FROM homes h
WHERE ($need_code IS NULL AND $need_category IS NULL OR EXISTS (
        SELECT 1 FROM home_needs hn JOIN need_codes nc USING (code)
        WHERE hn.urn = h.urn AND (nc.code = $need_code OR nc.category = $need_category)))
  AND len($categories) = (
        SELECT count(DISTINCT nc.category) FROM home_needs hn JOIN need_codes nc USING (code)
        WHERE hn.urn = h.urn AND list_contains($categories, nc.category))
ORDER BY h.urn;
