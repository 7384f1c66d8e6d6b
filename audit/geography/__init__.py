"""Geography: the region's LAs, the committed boundaries, towns and postcode sectors, and how they are rebuilt.

`region` (LA codes, names and name matching), `geo` (the committed geodata and distances),
`postcodes` (the ONS Postcode Directory package), `build` (rebuilds `geodata/` reproducibly).

May import: `audit.paths` only (and each other), so every layer can reach it.
"""
