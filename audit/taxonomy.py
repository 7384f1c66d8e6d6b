"""The needs taxonomy: 22 need codes grouped into the 11 Nuffield FJO categories."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from audit.paths import TAXONOMY_CSV


@lru_cache(maxsize=1)
def load() -> pd.DataFrame:
    """The taxonomy table in file order (code, category, category_label, label, placements_standard_field)."""
    df = pd.read_csv(TAXONOMY_CSV, dtype=str, keep_default_na=False)
    df["ord"] = range(len(df))
    return df


def codes() -> list[str]:
    """The 22 need codes in taxonomy order."""
    return load()["code"].tolist()


def categories() -> list[str]:
    """The 11 categories in taxonomy order."""
    return list(dict.fromkeys(load()["category"]))


def category_labels() -> dict[str, str]:
    """Category -> plain-English label."""
    t = load()
    return dict(zip(t["category"], t["category_label"]))


def code_labels() -> dict[str, str]:
    """Need code -> plain-English label."""
    t = load()
    return dict(zip(t["code"], t["label"]))


def resolve_need(token: str) -> list[str]:
    """Need codes meant by a code, category or category label (case-insensitive); [] if none."""
    t = load()
    key = token.strip().lower().replace("-", "_").replace(" ", "_")
    if key in set(t["code"]):
        return [key]
    by_cat = t[(t["category"] == key) | (t["category_label"].str.lower().str.replace(" ", "_") == key)]
    return by_cat["code"].tolist()
