"""The synthetic sample: every input file drawn at random, calibrated to published figures, and built into a database.

`generate` writes the needs, homes, occupancy, short-break and SSDA903 files in the data
contract's formats; `calibration` measures them against `facts.md`; `build` loads them
through the same importers real files use. Nothing here describes a real child.

May import: everything below it (`audit.intake`, `audit.geography`, `audit.db`, `audit.taxonomy`,
`audit.placements`, `audit.paths`) and `audit.analysis.forecast` (the sample's 903 history is
checked to be forecastable). Nothing outside `audit.cli` and the tests imports it.
"""
