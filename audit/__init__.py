"""Eastern Region Needs Audit: the library behind the dashboard and the `audit` command.

Everything the app shows is computed here; `pages/` only bind widgets to these
functions. Nothing in this package imports streamlit.

Where things live (each folder's docstring says what it may import):

- `intake/`    reading, checking and importing the files LAs send, and the template.
- `analysis/`  every number the app shows: needs, cohorts, gaps, distance, matching, planner, forecast.
- `charts/`    Vega-Lite figures and offline maps of those numbers.
- `geography/` LAs, boundaries, towns, postcode sectors and the geodata build.
- `sample/`    the synthetic sample and its calibration.
- Reached by every layer, at the top: `db` (one object owns the database), `sql/` (every
  query, one file each), `filters`, `suppress` (small-number protection), `taxonomy`,
  `placements`, `reference`, `export` and `extracts` (every download), `paths`, `cli`.
"""

__version__ = "0.1.0"
