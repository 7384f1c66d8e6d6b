"""Children's needs for the synthetic sample: a three-cohort latent class model calibrated to Nuffield FJO.

Nuffield FJO (Roe & Ryan 2023) describe three broadly distinct groups among
children subject to deprivation-of-liberty applications. The sample draws each
child's cohort, then each need code independently given the cohort (the local
independence a latent class analysis assumes), so that an LCA on the sample can
recover the cohorts and the overall figures land near the published ones:
mean 4.2 categories per child, 65.7% with four or more, risk to others 69.2%,
mental health 59.1%, placement breakdown 55.3%, self-harm 52.4%, going missing
46.6%, disability 33.7%, sexual or criminal exploitation 33.2%.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit import taxonomy

COHORTS = ("disability-led", "trauma-led", "extra-familial exploitation")
COHORT_SHARES = np.array([0.30, 0.43, 0.27])

# P(category present | cohort). Unpublished categories (neurodevelopmental,
# substance misuse, out of education, the split of exploitation) are set so the
# mean number of categories reaches 4.2. The cohorts differ in how many needs
# they carry (about 2.7, 4.5 and 5.4), which gives the spread Nuffield found
# (95% with more than one, 66% with four or more) under local independence.
CATEGORY_PROFILE: dict[str, tuple[float, float, float]] = {
    "risk_to_others": (0.50, 0.95, 0.49),
    "going_missing": (0.05, 0.45, 0.95),
    "self_harm": (0.14, 0.80, 0.50),
    "mental_health": (0.17, 0.97, 0.44),
    "neurodevelopmental": (0.45, 0.18, 0.10),
    "disability": (0.95, 0.09, 0.04),
    "sexual_exploitation": (0.02, 0.12, 0.62),
    "criminal_exploitation": (0.01, 0.06, 0.68),
    "substance_misuse": (0.01, 0.10, 0.58),
    "placement_breakdown": (0.30, 0.72, 0.55),
    "out_of_education": (0.10, 0.10, 0.45),
}

# How a present category splits over its codes (relative weights per cohort).
# Physical aggression dominates risk to others (57.5% of children against 69.2%
# for the category); offending leans to the exploitation cohort.
CODE_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "rto_physical": (0.86, 0.80, 0.60),
    "rto_sexual": (0.05, 0.06, 0.05),
    "rto_fire": (0.02, 0.04, 0.02),
    "rto_animals": (0.03, 0.02, 0.01),
    "rto_offending": (0.04, 0.08, 0.32),
    "missing": (1.0, 1.0, 1.0),
    "self_harm": (0.75, 0.65, 0.75),
    "suicidal": (0.25, 0.35, 0.25),
    "mh_diagnosed": (0.30, 0.25, 0.25),
    "mh_emotional": (0.55, 0.35, 0.50),
    "mh_trauma": (0.10, 0.35, 0.20),
    "mh_eating": (0.05, 0.05, 0.05),
    "nd_autism": (0.70, 0.45, 0.35),
    "nd_adhd": (0.30, 0.55, 0.65),
    "dis_learning": (0.55, 0.50, 0.50),
    "dis_physical": (0.20, 0.25, 0.25),
    "dis_communication": (0.25, 0.25, 0.25),
    "cse": (1.0, 1.0, 1.0),
    "cce": (1.0, 1.0, 1.0),
    "substance": (1.0, 1.0, 1.0),
    "placement_breakdown": (1.0, 1.0, 1.0),
    "out_of_education": (1.0, 1.0, 1.0),
}

BLANK_SHARE = 0.01  # cells left blank ("not recorded"), as real returns have


def code_probabilities() -> pd.DataFrame:
    """P(code present | cohort), chosen so P(any code of a category | cohort) equals the category profile exactly."""
    tax = taxonomy.load()
    rows = {}
    for cat, codes in tax.groupby("category", sort=False)["code"]:
        p = np.array(CATEGORY_PROFILE[cat])
        w = np.array([CODE_WEIGHTS[c] for c in codes])
        w = w / w.sum(axis=0)
        # Independent codes with q = 1 - (1-p)^w leave the category absent with probability prod (1-p)^w = 1-p.
        q = 1 - (1 - p)[None, :] ** w
        for code, qc in zip(codes, q):
            rows[code] = qc
    return pd.DataFrame(rows, index=list(COHORTS)).T.loc[tax["code"]]


def draw_cohorts(rng: np.random.Generator, n: int) -> np.ndarray:
    """Latent cohort index (0, 1, 2) for n children."""
    return rng.choice(len(COHORTS), size=n, p=COHORT_SHARES)


def draw_codes(rng: np.random.Generator, cohort: np.ndarray) -> pd.DataFrame:
    """A boolean child x code frame drawn given cohort; every child gets at least one need, as in Nuffield (range 1-8)."""
    q = code_probabilities()
    probs = q.to_numpy()[:, cohort].T
    present = rng.random(probs.shape) < probs
    # A child is in the audit because of some need: give a needless child the most typical code of their cohort.
    empty = ~present.any(axis=1)
    present[empty, np.argmax(probs[empty], axis=1)] = True
    return pd.DataFrame(present, columns=q.index)


def as_yn(rng: np.random.Generator, present: pd.DataFrame) -> pd.DataFrame:
    """Y/N text with about 1% of the N cells left blank ("not recorded" counts as not present, so prevalences hold)."""
    arr = np.where(present.to_numpy(), "Y", "N").astype(object)
    # About three cells in four are N, so blanking N cells at BLANK_SHARE / 0.75 blanks BLANK_SHARE overall.
    blank = (rng.random(arr.shape) < BLANK_SHARE / 0.75) & (arr == "N")
    arr[blank] = ""
    return pd.DataFrame(arr, columns=present.columns)


def draw_ages(rng: np.random.Generator, cohort: np.ndarray) -> np.ndarray:
    """Ages 6-17, mostly 13-17; disability-led children are placed a little younger."""
    ages = np.arange(6, 18)
    teen = np.array([0.2, 0.3, 0.6, 1.0, 1.4, 2.0, 3.0, 5.5, 7.5, 9.0, 9.5, 7.0])
    young = np.array([0.6, 0.9, 1.2, 1.8, 2.4, 3.0, 4.0, 5.5, 6.5, 7.0, 7.0, 5.0])
    out = np.empty(len(cohort), dtype=np.int64)
    for c, prof in ((0, young), (1, teen), (2, teen)):
        idx = np.flatnonzero(cohort == c)
        out[idx] = rng.choice(ages, size=idx.size, p=prof / prof.sum())
    return out


def draw_sex(rng: np.random.Generator, cohort: np.ndarray) -> np.ndarray:
    """M/F/X/U with more boys in the disability-led cohort, as in residential care generally."""
    p_male = np.array([0.66, 0.52, 0.50])[cohort]
    u = rng.random(len(cohort))
    sex = np.where(u < p_male, "M", "F").astype(object)
    other = rng.random(len(cohort))
    sex[other < 0.01] = "X"
    sex[(other >= 0.01) & (other < 0.02)] = "U"
    return sex


def _categorical(rng: np.random.Generator, options: list[str], probs_by_row: np.ndarray) -> np.ndarray:
    """One option per row from a row-wise probability matrix."""
    cum = np.cumsum(probs_by_row, axis=1)
    u = rng.random(len(probs_by_row)) * cum[:, -1]
    return np.asarray(options, dtype=object)[np.minimum((cum < u[:, None]).sum(axis=1), len(options) - 1)]


SUITABILITY = ["Preferred", "Suitable but not preferred", "Unsuitable", "Not specified"]
ALONGSIDE = ["Solo placement recommended", "With other children recommended",
             "Only with other older children", "Only with other younger children", "No preference"]


def draw_standard_fields(rng: np.random.Generator, cohort: np.ndarray, age: np.ndarray,
                         residential: np.ndarray) -> pd.DataFrame:
    """Placements Data Standard v2 suitability and 'cared alongside' fields, shaped by cohort and age."""
    foster = np.array([[0.05, 0.35, 0.45, 0.15], [0.03, 0.25, 0.60, 0.12], [0.05, 0.30, 0.50, 0.15]])[cohort]
    resid = np.where(residential[:, None], [[0.76, 0.14, 0.0, 0.10]], [[0.30, 0.40, 0.15, 0.15]])
    older = age >= 16
    supp = np.where(older[:, None], [[0.10, 0.30, 0.45, 0.15]], [[0.0, 0.02, 0.83, 0.15]])
    supp[(cohort == 0) & older] = [0.02, 0.08, 0.75, 0.15]
    along = np.array([[0.12, 0.30, 0.08, 0.15, 0.35], [0.25, 0.20, 0.10, 0.25, 0.20],
                      [0.20, 0.25, 0.05, 0.30, 0.20]])[cohort]
    return pd.DataFrame({
        "foster_suitability": _categorical(rng, SUITABILITY, foster),
        "residential_suitability": _categorical(rng, SUITABILITY, resid),
        "supported_suitability": _categorical(rng, SUITABILITY, supp),
        "cared_alongside": _categorical(rng, ALONGSIDE, along),
    })


def draw_dol(rng: np.random.Generator, cohort: np.ndarray) -> np.ndarray:
    """Deprivation-of-liberty order flag, most common in the trauma-led cohort."""
    return np.where(rng.random(len(cohort)) < np.array([0.12, 0.26, 0.16])[cohort], "Y", "N")


def draw_costs(rng: np.random.Generator, cohort: np.ndarray, place: np.ndarray, home_fee: np.ndarray) -> np.ndarray:
    """Weekly cost (GBP): the home's fee where known, else a national-average draw; exploitation and trauma cost more."""
    factor = np.array([0.93, 1.04, 1.07])[cohort]
    type_factor = pd.Series(place).map({"K1": 1.35, "K2": 1.0, "R1": 0.95, "S1": 0.85}).to_numpy(float)
    open_market = 5600 * type_factor * rng.lognormal(0.0, 0.40, len(cohort))
    known = np.isfinite(home_fee)
    base = np.where(known, np.nan_to_num(home_fee) * rng.lognormal(0.0, 0.12, len(cohort)), open_market)
    return (np.round(base * factor / 10) * 10).astype(np.int64)
