-- Every successful import, newest first: what kind, which file, how many rows, its checksum and when.
SELECT i.import_id, i.kind, r.label AS round, i.source_file, i.n_rows, i.n_warnings, i.detail, i.checksum, i.imported_at
FROM imports i LEFT JOIN rounds r USING (round_id)
ORDER BY i.imported_at DESC, i.import_id DESC;
