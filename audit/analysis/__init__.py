"""Analysis: every number the app shows is computed here, from the database, already suppressed for its viewer.

Co-occurrence of needs (`cooccur`), cohorts by latent class analysis (`cohorts`, stored per
round by `cohort_store`), the overview and needs tables, access and gaps (`provision`,
`gaps`), distance and flows, matching children to homes, the planner, and the forecast.

May import: `audit.db`, `audit.sql`, `audit.filters`, `audit.suppress`, `audit.taxonomy`,
`audit.placements`, `audit.geography`. Never imports `audit.charts`, `audit.intake` or `audit.sample`.
"""
