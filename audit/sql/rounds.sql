-- Audit rounds, newest first, with what they were loaded from.
SELECT round_id, label, audit_date, source_file, n_rows, checksum, imported_at, is_sample
FROM rounds ORDER BY imported_at DESC, round_id DESC;
