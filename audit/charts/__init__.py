"""Charts and maps: Vega-Lite (Altair) figures and offline folium maps of what `audit.analysis` computes.

House style (`style`: large type in meeting mode), colour-blind-safe colours (`colours`),
one figure module per page (`overview`, `needs`, `needs_page`, `flows`, `forecast`), and maps
(`maps`: Leaflet inlined from PyPI packages; `provision_map`; `planner_map`). Hidden counts are
drawn as grey marks, never dropped.

May import: `audit.analysis`, `audit.geography`, `audit.suppress`, `audit.db`, `audit.taxonomy`.
"""
