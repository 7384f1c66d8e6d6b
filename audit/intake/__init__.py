"""Intake: reading files as LAs send them, checking them, and loading them atomically.

Readers (CSV/XLSX in any encoding Excel writes), column validation, the problem report
(file, row, column, value, what is wrong), one importer per input (needs rounds,
SSDA903 returns, children's homes and occupancy, the Ofsted providers list, short
breaks), the needs-profile template and vectorised postcode geocoding.

May import: `audit.db`, `audit.taxonomy`, `audit.placements`, `audit.paths`, `audit.geography`.
Never imports `audit.analysis`, `audit.charts` or `audit.sample`.
"""
