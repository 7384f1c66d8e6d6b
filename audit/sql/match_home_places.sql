-- Each home's need categories (a home meets a category when it is registered for any code of it) and the
-- places already occupied, by any LA, so matching knows what each home can meet and how many places it has left.
SELECT h.urn,
       coalesce((SELECT list_sort(list(DISTINCT nc.category)) FROM home_needs hn JOIN need_codes nc USING (code)
                 WHERE hn.urn = h.urn), []) AS categories,
       coalesce((SELECT sum(o.places_used) FROM home_occupancy o WHERE o.urn = h.urn), 0)::INTEGER AS occupied
FROM homes h
ORDER BY h.urn;
