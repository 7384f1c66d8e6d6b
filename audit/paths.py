"""Where the project's committed files live, relative to this package (installed editable)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GEODATA = ROOT / "geodata"
SAMPLE_DATA = ROOT / "sample_data"
TAXONOMY_CSV = Path(__file__).resolve().parent / "data" / "needs_taxonomy.csv"
