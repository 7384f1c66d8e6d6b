-- Audit rounds for the Data page, newest first: where each came from, how big it is, its checksum and when.
SELECT round_id, label, coalesce(source_kind, 'needs') AS source_kind,
       coalesce(CAST(audit_date AS VARCHAR), '') AS audit_date, source_file, n_rows, checksum,
       strftime(imported_at, '%Y-%m-%d %H:%M:%S') AS imported_at, is_sample
FROM rounds ORDER BY imported_at DESC, round_id DESC;
