-- An episode open at 31 March is in that year's return and the next: keep it only from the latest return that
-- has it (which holds its end date), whichever order the years are imported in. Stored copies from the same or an
-- earlier year than the import's (_eps) go here; the import's copies of episodes stored from a later year are
-- not inserted (episodes_insert_new).
DELETE FROM episodes
WHERE (la_code, child_id, decom) IN (
    SELECT e.la_code, e.child_id, e.decom
    FROM episodes e JOIN _eps n USING (la_code, child_id, decom)
    WHERE coalesce(e.year, 0) <= coalesce(n.year, 0)
);
