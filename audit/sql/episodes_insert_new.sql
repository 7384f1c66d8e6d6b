-- The import's episodes (_eps, columns in the table's order) not already stored from a later year's return.
SELECT n.*
FROM _eps n
WHERE NOT EXISTS (SELECT 1 FROM episodes e
                  WHERE e.la_code = n.la_code AND e.child_id = n.child_id AND e.decom = n.decom);
