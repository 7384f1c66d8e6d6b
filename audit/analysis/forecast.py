"""Forecast demand for placements by LA and placement category from SSDA903 episode history.

History: the number of children looked after at each month end, per LA and
placement category, over the years the loaded returns cover. A return lists the
children looked after during its year, so a child who left care before the
first loaded year is in no return: stock counts are only complete inside the
covered years, and the history starts on 1 April of the first of them (a run of
consecutive years ending at the LA's latest; earlier years after a gap are left
out for the same reason).

Candidates, for each LA and category and for the regional total (a series of its
own): naive (last month), seasonal naive, damped-trend ETS on log(1 + stock)
(ETS(A,Ad,N); `project`), a stock-and-flow model (children enter care, leave, and
move between placement categories and age bands each month at the rates of the
last 24 months, from their own episodes; `flow_project`) and naive and
stock-flow averaged. Each is backtested on rolling origins (every third month
after the first two years, 1-12 months ahead; `rolling`). Each category (of LAs,
and of totals) uses the candidate with the lowest backtest MAPE, but naive is
kept unless another beats it by SWITCH_MARGIN (`choose`).

Intervals: empirical 10th-90th percentiles of the chosen method's backtest
errors at each horizon, on the log scale in units of each series' month-to-month
volatility (`error_quantiles`), widened by sqrt(h) beyond 12 months. The
regional total's band comes from the total's own errors, so it keeps the LAs'
shared movement.

Evaluation (`evaluate`, `backtest`): at each origin from the fifth, the method
and band are chosen from the errors already known then and scored on the months
that follow, so the chosen forecast's MAPE and the band's coverage are out of
sample, like every candidate's. Scenarios (entries up or down, more step-downs
from residential to fostering) shift each forecast by what they change in the
stock-and-flow model; age bands split it as that model does.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.stats import norm

from audit.geography import region
from audit.db import Database
from audit.placements import RESIDENTIAL
from audit.suppress import Suppressed

# Placement categories of the audit (shared/reference/ssda903.md); every other PLACE code is 'other'.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "residential": RESIDENTIAL,
    "supported": ("H5", "K3", "P2"),
    "fostering": ("U1", "U2", "U3", "U4", "U5", "U6"),
}
CATEGORY_ORDER = ("residential", "supported", "fostering", "other")
CATEGORY_LABELS = {"residential": "Residential (K1, K2, R1, S1, P3)", "supported": "Supported (H5, K3, P2)",
                   "fostering": "Fostering (U1-U6)", "other": "Other placements"}
LEVEL = 0.8
MAX_YEARS = 10
DEFAULT_YEARS = 5
MIN_MONTHS = 24  # two years of returns: less is too short to tell a trend from noise
MAPE_MIN_CHILDREN = 5  # percentage errors on fewer children are noise, so such series are left out of MAPE
AGE_BANDS = ("under 10", "10-15", "16+", "unknown")
CANDIDATES = ("naive", "seasonal", "ets", "flow", "combined")
CANDIDATE_LABELS = {"naive": "naive (last month)", "seasonal": "seasonal naive (same month a year before)",
                    "ets": "damped-trend ETS", "flow": "stock and flow", "combined": "naive and stock-flow averaged",
                    "chosen": "chosen per series"}
FIRST_ORIGIN = 24   # months of history before the first backtest origin
ORIGIN_STEP = 3     # months between rolling origins
BT_HORIZON = 12     # months ahead scored at each origin
EVAL_FROM = 4       # the chosen forecast is scored from the fifth origin: before it too few errors are known
ETS_REFIT_EVERY = 4  # origins between re-estimates of the damped trend's parameters in the backtest (a year; 3 years made ETS far worse)
FLOW_WINDOW = 24    # months of moves the stock-and-flow rates are estimated from (12 was noisier in backtests)
MIN_ERRORS = 30     # scaled errors needed at a horizon to take its quantiles
SWITCH_MARGIN = 0.10  # a model replaces naive only with a backtest MAPE at least 10% (relative) lower
SCALE_FLOOR = 0.02  # a flat series still has some uncertainty (2% a month on the log scale)
TOTAL = "TOTAL"
TOTAL_NAME = "All LAs loaded (total)"


class NoHistory(ValueError):
    """There is not enough SSDA903 history to forecast from (the message says what to load)."""


def category_of(places: pd.Series | np.ndarray) -> np.ndarray:
    """Placement category of each PLACE code, so the sample, SQL and charts group codes the same way."""
    codes = pd.Series(places, dtype=object).fillna("").astype(str).str.upper().to_numpy(object)
    out = np.full(len(codes), "other", dtype=object)
    for name, members in CATEGORIES.items():
        out[np.isin(codes, members)] = name
    return out


def coverage(db: Database) -> pd.DataFrame:
    """Per LA: the consecutive run of return years ending at its latest, and the dates that run covers."""
    years = db.q("forecast_years")
    rows = []
    for la, g in years.groupby("la_code", sort=True):
        ys = sorted(set(int(y) for y in g["year"]))
        first = ys[-1]
        while first - 1 in ys:
            first -= 1
        rows.append({"la_code": la, "la_name": region.la_name(la) or la, "first_year": first, "last_year": ys[-1],
                     "years_loaded": len(ys), "start": dt.date(first - 1, 4, 1), "end": dt.date(ys[-1], 3, 31)})
    return pd.DataFrame(rows, columns=["la_code", "la_name", "first_year", "last_year", "years_loaded", "start", "end"])


def history(db: Database, la: str | None = None) -> pd.DataFrame:
    """Month-end stock of children per LA and category inside each LA's covered years (zeros included)."""
    cov = coverage(db)
    if la is not None:
        cov = cov[cov["la_code"] == la]
    cols = ["month_end", "la_code", "la_name", "category", "children"]
    if cov.empty:
        return pd.DataFrame(columns=cols)
    raw = db.q("forecast_stock", first=min(cov["start"]), last=max(cov["end"]), la=la,
               residential=list(CATEGORIES["residential"]), supported=list(CATEGORIES["supported"]),
               fostering=list(CATEGORIES["fostering"]))
    raw["month_end"] = pd.to_datetime(raw["month_end"])
    frames = []
    for r in cov.itertuples():
        ends = pd.date_range(pd.Timestamp(r.start), pd.Timestamp(r.end), freq="ME")
        grid = pd.MultiIndex.from_product([ends, CATEGORY_ORDER], names=["month_end", "category"])
        got = raw[raw["la_code"] == r.la_code].set_index(["month_end", "category"])["children"]
        s = got.reindex(grid, fill_value=0).rename("children").reset_index()
        s.insert(1, "la_code", r.la_code)
        s.insert(2, "la_name", r.la_name)
        frames.append(s)
    out = pd.concat(frames, ignore_index=True)[cols]
    out["children"] = out["children"].astype(int)
    return out


@dataclass(frozen=True)
class Projection:
    """One series' forecast on the count scale: central (median), interval bounds and variance for each step ahead."""

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    loc: np.ndarray    # the forecast distribution: normal(loc, scale) on the log(1 + y) scale for 'ets',
    scale: np.ndarray  # on the count scale (cut at zero) for 'flat'
    method: str

    def draw(self, step: int, rng: np.random.Generator, n: int) -> np.ndarray:
        """Random draws of the count `step` months ahead, for simulating totals over LAs."""
        z = rng.standard_normal(n) * self.scale[step - 1] + self.loc[step - 1]
        return np.expm1(z).clip(0) if self.method == "ets" else z.clip(0)


def _fallback(y: np.ndarray, steps: int, level: float) -> Projection:
    """Flat forecast at the last year's mean with a Poisson interval, for series ETS cannot fit (e.g. all zero)."""
    m = float(np.mean(y[-12:]))
    lo, hi = norm.ppf([(1 - level) / 2, (1 + level) / 2])
    sd = np.sqrt(m) * np.ones(steps)
    return Projection(np.full(steps, m), np.clip(m + lo * sd, 0, None), m + hi * sd, np.full(steps, m), sd, "flat")


def project(y: np.ndarray, steps: int, level: float = LEVEL) -> Projection:
    """Damped-trend ETS on log(1 + y), projected `steps` months ahead, back on the count scale."""
    y = np.asarray(y, dtype=float)
    if len(y) < MIN_MONTHS // 2 or np.ptp(y) == 0:
        return _fallback(y, steps, level)
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short, flat series; the fit is still used
        try:
            fit = ETSModel(pd.Series(np.log1p(y)), error="add", trend="add", damped_trend=True).fit(disp=False)
            pred = fit.get_prediction(start=len(y), end=len(y) + steps - 1)
        except (ValueError, np.linalg.LinAlgError):
            return _fallback(y, steps, level)
    mu = np.asarray(pred.predicted_mean, dtype=float)
    var = np.asarray(pred.forecast_variance, dtype=float)
    if not (np.isfinite(mu).all() and np.isfinite(var).all()):
        return _fallback(y, steps, level)
    z = norm.ppf((1 + level) / 2)
    sd = np.sqrt(var)
    # The median, not the lognormal mean: on a few children the log-scale variance would inflate the mean.
    return Projection(np.clip(np.expm1(mu), 0, None), np.clip(np.expm1(mu - z * sd), 0, None), np.expm1(mu + z * sd),
                      mu, sd, "ets")


def _months_between(a: pd.Timestamp, b: pd.Timestamp) -> int:
    """Whole months from month end a to month end b."""
    return (b.year - a.year) * 12 + (b.month - a.month)


# ---- Stock and flow: children move between states (placement category x age band) month to month -------------

@dataclass
class Flows:
    """One LA's month-end stock by state (category x age band) and the monthly moves between states."""

    months: pd.DatetimeIndex
    stock: np.ndarray    # [month, state]
    moves: np.ndarray    # [month m, state at m, state at m+1], for m = 0 .. M-2
    entries: np.ndarray  # [month m, state at m+1] children looked after at m+1 but not at m


N_STATES = len(CATEGORY_ORDER) * len(AGE_BANDS)


def state_of(category: str, band: str) -> int:
    """Index of a (category, age band) state in Flows arrays."""
    return CATEGORY_ORDER.index(category) * len(AGE_BANDS) + AGE_BANDS.index(band)


def age_band(age: pd.Series) -> np.ndarray:
    """Age band index of whole years of age (unknown when no date of birth)."""
    a = pd.to_numeric(age, errors="coerce").to_numpy(float)
    return np.select([np.isnan(a), a < 10, a < 16], [3, 0, 1], 2).astype(int)


def flows(db: Database, la: str | None = None) -> dict[str, Flows]:
    """Per LA, the month-end states of its children and their moves, inside the LA's covered years."""
    return _flows_once(db, db.version, la)


@lru_cache(maxsize=4)
def _flows_once(db: Database, version: str, la: str | None) -> dict[str, Flows]:
    """One read of the child-level states per data version."""
    cov = coverage(db)
    if la is not None:
        cov = cov[cov["la_code"] == la]
    if cov.empty:
        return {}
    st = db.q("forecast_states", first=min(cov["start"]), last=max(cov["end"]), la=la)
    st["month_end"] = pd.to_datetime(st["month_end"])
    born = pd.to_datetime(st["birth_month"])
    age = (st["month_end"].dt.year - born.dt.year) * 12 + (st["month_end"].dt.month - born.dt.month)
    cat = pd.Series(category_of(st["place"])).map({c: i for i, c in enumerate(CATEGORY_ORDER)}).to_numpy()
    st["state"] = cat * len(AGE_BANDS) + age_band(age // 12)
    out = {}
    for r in cov.itertuples():
        months = pd.date_range(pd.Timestamp(r.start), pd.Timestamp(r.end), freq="ME")
        g = st[(st["la_code"] == r.la_code) & st["month_end"].isin(months)]
        m = months.get_indexer(g["month_end"])
        g = pd.DataFrame({"child": g["child_id"].to_numpy(), "m": m, "s": g["state"].to_numpy()})
        M = len(months)
        stock = np.zeros((M, N_STATES))
        np.add.at(stock, (g["m"].to_numpy(), g["s"].to_numpy()), 1)
        nxt = g.assign(m=g["m"] - 1).rename(columns={"s": "s1"})
        pair = g.merge(nxt, on=["child", "m"], how="outer")
        moves = np.zeros((max(M - 1, 0), N_STATES, N_STATES))
        both = pair["s"].notna() & pair["s1"].notna() & pair["m"].between(0, M - 2)
        np.add.at(moves, (pair.loc[both, "m"].astype(int).to_numpy(), pair.loc[both, "s"].astype(int).to_numpy(),
                          pair.loc[both, "s1"].astype(int).to_numpy()), 1)
        new = pair["s"].isna() & pair["m"].between(0, M - 2)
        entries = np.zeros((max(M - 1, 0), N_STATES))
        np.add.at(entries, (pair.loc[new, "m"].astype(int).to_numpy(), pair.loc[new, "s1"].astype(int).to_numpy()), 1)
        out[r.la_code] = Flows(months, stock, moves, entries)
    return out


@dataclass(frozen=True)
class Scenario:
    """What a user changes against the baseline: entries up or down, and extra monthly step-downs to fostering."""

    entries_pct: float = 0.0    # +10 = 10% more children entering care each month
    step_down_pct: float = 0.0  # % of children in residential care moving to fostering each month, on top of today's

    @property
    def is_baseline(self) -> bool:
        """True when nothing is changed."""
        return not self.entries_pct and not self.step_down_pct


BASELINE = Scenario()


def flow_project(f: Flows, origin: int, steps: int, scenario: Scenario = BASELINE) -> np.ndarray:
    """Stock by state for `steps` months after month `origin`, moving at the rates of the 12 months before it.

    Each month a child stays, moves category or age band, or leaves care with the share observed among children in
    the same state over the window; entries arrive at the window's monthly mean. Ageing is one of the moves.
    """
    lo = max(0, origin - FLOW_WINDOW)
    base = f.stock[lo:origin].sum(0)
    moved = f.moves[lo:origin].sum(0)
    P = np.where(base[:, None] > 0, moved / np.where(base > 0, base, 1)[:, None], np.eye(N_STATES))
    e = f.entries[lo:origin].mean(0) if origin > lo else np.zeros(N_STATES)
    e = e * (1 + scenario.entries_pct / 100)
    if scenario.step_down_pct:
        d = scenario.step_down_pct / 100
        for b in AGE_BANDS:
            r, fo = state_of("residential", b), state_of("fostering", b)
            shift = P[r, r] * min(d, 1.0)
            P[r, r] -= shift
            P[r, fo] += shift
    n = f.stock[origin].astype(float)
    out = np.empty((steps, N_STATES))
    for h in range(steps):
        n = n @ P + e
        out[h] = n
    return out


def _by_category(states: np.ndarray) -> np.ndarray:
    """[steps, state] -> [steps, category]."""
    return states.reshape(len(states), len(CATEGORY_ORDER), len(AGE_BANDS)).sum(2)


def _by_band(states: np.ndarray) -> np.ndarray:
    """[steps, state] -> [steps, category, band]."""
    return states.reshape(len(states), len(CATEGORY_ORDER), len(AGE_BANDS))


# ---- Candidates and rolling-origin backtests ----------------------------------------------------------------------

def _candidates(y: np.ndarray, origin: int, steps: int, flow: np.ndarray | None,
                ets: np.ndarray | None = None, only: str | None = None) -> dict[str, np.ndarray]:
    """Every candidate's forecast of y for the `steps` months after month `origin` (y[:origin+1] known).

    ets: the damped trend's forecast if already made; only: compute just this candidate (the ETS fit is the slow one).
    """
    h = np.arange(1, steps + 1)
    out = {"naive": np.full(steps, float(y[origin]))}
    if origin >= 11:
        out["seasonal"] = y[origin + h - 12 * np.ceil(h / 12).astype(int)].astype(float)
    if only in (None, "ets"):
        out["ets"] = ets if ets is not None else project(y[:origin + 1], steps).mean
    if flow is not None:
        out["flow"] = flow
        out["combined"] = (out["naive"] + flow) / 2
    return out


def _ets_refitted(y: np.ndarray, origins: list[int], steps: list[int]) -> list[np.ndarray]:
    """The damped trend's backtest forecasts: parameters estimated at every ETS_REFIT_EVERY-th origin and carried
    to the origins between, where the model is only re-run on the longer history (a full fit at every origin made
    the backtest several times slower). Only data up to each origin is ever used."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    out, params = [], None
    for k, (o, n) in enumerate(zip(origins, steps)):
        train = y[:o + 1]
        if k % ETS_REFIT_EVERY == 0 or params is None:
            params = None
            if len(train) >= MIN_MONTHS // 2 and np.ptp(train) > 0:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        fit = ETSModel(pd.Series(np.log1p(train)), error="add", trend="add",
                                       damped_trend=True).fit(disp=False)
                        mu = np.asarray(fit.forecast(n), dtype=float)
                        if np.isfinite(mu).all():
                            params = fit.params
                            out.append(np.clip(np.expm1(mu), 0, None))
                            continue
                    except (ValueError, np.linalg.LinAlgError):
                        pass
            out.append(project(train, n).mean)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = ETSModel(pd.Series(np.log1p(train)), error="add", trend="add", damped_trend=True).smooth(params)
                mu = np.asarray(res.forecast(n), dtype=float)
            except (ValueError, np.linalg.LinAlgError):
                mu = np.full(n, np.nan)
        out.append(np.clip(np.expm1(mu), 0, None) if np.isfinite(mu).all() else project(train, n).mean)
    return out


def _scale(y: np.ndarray) -> float:
    """A series' month-to-month volatility on the log scale: forecast errors are measured in units of it."""
    d = np.diff(np.log1p(np.asarray(y, float)))
    return float(max(np.std(d) if len(d) > 1 else 0.0, SCALE_FLOOR))


def _series(db: Database, la: str | None) -> tuple[pd.DataFrame, dict[str, Flows]]:
    """Month-end history per LA and category, plus the regional total as series of its own (la TOTAL)."""
    hist = history(db, la)
    fl = flows(db, la)
    if hist.empty:
        return hist, fl
    reg = regional_history(hist).assign(la_code=TOTAL, la_name=TOTAL_NAME)
    return pd.concat([hist, reg[hist.columns]], ignore_index=True), fl


def _flow_forecast(fl: dict[str, Flows], code: str, cat: str, end: pd.Timestamp, steps: int,
                   scenario: Scenario = BASELINE, las: list[str] | None = None) -> np.ndarray | None:
    """The stock-and-flow forecast of one category from month end `end`: one LA's, or (TOTAL) the sum over LAs."""
    codes = (las or list(fl)) if code == TOTAL else [code]
    total = np.zeros(steps)
    for c in codes:
        f = fl.get(c)
        if f is None or end not in f.months:
            return None
        o = f.months.get_loc(end)
        if o < 1:
            return None
        total += _by_category(flow_project(f, o, steps, scenario))[:, CATEGORY_ORDER.index(cat)]
    return total


_ROLLING: dict[tuple[str, str], pd.DataFrame] = {}


def rolling(db: Database) -> pd.DataFrame:
    """Every candidate's forecasts from rolling origins (every 3 months after the first two years), 1-12 months ahead."""
    # Keyed by file and data version, not by Database object: each CLI call opens its own.
    key = (str(db.path), db.version)
    if key not in _ROLLING:
        if len(_ROLLING) >= 4:
            _ROLLING.pop(next(iter(_ROLLING)))
        _ROLLING[key] = _rolling_once(db)
    return _ROLLING[key].copy()


def _rolling_once(db: Database) -> pd.DataFrame:
    """One run of the rolling-origin backtest (about 600 model fits on the regional sample)."""
    hist, fl = _series(db, None)
    rows = []
    for (code, cat), g in hist.groupby(["la_code", "category"], sort=False):
        g = g.sort_values("month_end")
        y, ends = g["children"].to_numpy(float), pd.DatetimeIndex(g["month_end"])
        las = sorted(hist.loc[hist["la_code"] != TOTAL, "la_code"].unique())
        origins = list(range(FIRST_ORIGIN - 1, len(y) - 1, ORIGIN_STEP))
        all_steps = [min(BT_HORIZON, len(y) - 1 - o) for o in origins]
        ets = _ets_refitted(y, origins, all_steps)
        for o, steps, e in zip(origins, all_steps, ets):
            flow = _flow_forecast(fl, code, cat, ends[o], steps, las=las)
            scale = _scale(y[:o + 1])
            for method, f in _candidates(y, o, steps, flow, ets=e).items():
                for h in range(1, steps + 1):
                    rows.append((code, cat, ends[o], h, ends[o + h], method, float(f[h - 1]), float(y[o + h]), scale))
    cols = ["la_code", "category", "origin", "h", "target", "method", "forecast", "actual", "scale"]
    return pd.DataFrame(rows, columns=cols)


def choose(bt: pd.DataFrame) -> dict[tuple[str, str], str]:
    """The method for each category (of LA series, and of the regional totals): lowest backtest MAPE in the rows given.

    Chosen per category over all LAs rather than per series: one series' dozen origins are too few to tell
    candidates apart, and picking on them did worse than naive out of sample.
    """
    if bt.empty:
        return {}
    d = bt.assign(group=bt["la_code"].map(_group))
    use = d[d["actual"] >= MAPE_MIN_CHILDREN]
    err = ((use["forecast"] - use["actual"]).abs() / use["actual"]).groupby(
        [use["group"], use["category"], use["method"]]).mean()
    mae = (d["forecast"] - d["actual"]).abs().groupby([d["group"], d["category"], d["method"]]).mean()
    score = err.combine_first(mae / 1e6)  # MAE only where no month had enough children for a percentage
    out = {}
    for (g, c), sc in score.groupby(level=[0, 1]):
        sc = sc.droplevel([0, 1])
        best = sc.idxmin()
        # Naive unless a model beats it clearly: a small edge in past errors does not survive out of sample.
        naive = sc.get("naive", np.inf)
        out[(g, c)] = best if sc[best] < naive * (1 - SWITCH_MARGIN) else "naive"
    return out


def method_for(pick: dict[tuple[str, str], str], code: str, category: str, default: str = "naive") -> str:
    """The chosen method of one series."""
    return pick.get((_group(code), category), default)


def _chosen_rows(bt: pd.DataFrame, pick: dict[tuple[str, str], str]) -> pd.DataFrame:
    """The backtest rows of each series' chosen method."""
    return bt[[method_for(pick, a, c) == m for a, c, m in zip(bt["la_code"], bt["category"], bt["method"])]]


def _z(bt: pd.DataFrame) -> pd.Series:
    """Forecast errors on the log scale in units of each series' volatility (comparable across LAs and categories)."""
    return (np.log1p(bt["actual"]) - np.log1p(bt["forecast"].clip(lower=0))) / bt["scale"]


def error_quantiles(bt: pd.DataFrame, level: float, horizon: int) -> np.ndarray:
    """[h, 2] lower and upper quantiles of scaled errors 1..horizon months ahead (empirical; sqrt(h) beyond 12).

    Errors are pooled over series by horizon; a horizon with fewer than MIN_ERRORS errors borrows the nearest
    shorter one's, widened by sqrt(h / h'). The band never narrows with the horizon and always holds the central figure.
    """
    z = _z(bt)
    q = np.full((horizon, 2), np.nan)
    have = z.groupby(bt["h"]).agg(["size", lambda s: s.quantile((1 - level) / 2), lambda s: s.quantile((1 + level) / 2)])
    have.columns = ["n", "lo", "hi"]
    have = have[have["n"] >= MIN_ERRORS]
    if have.empty:
        return q
    last = None
    for h in range(1, horizon + 1):
        if h in have.index:
            q[h - 1] = have.loc[h, ["lo", "hi"]].to_numpy(float)
            last = h
        elif last is not None:
            q[h - 1] = have.loc[last, ["lo", "hi"]].to_numpy(float) * np.sqrt(h / last)
        else:
            first = int(have.index.min())
            q[h - 1] = have.loc[first, ["lo", "hi"]].to_numpy(float) * np.sqrt(h / first)
    q[:, 0] = np.minimum.accumulate(np.minimum(q[:, 0], 0))
    q[:, 1] = np.maximum.accumulate(np.maximum(q[:, 1], 0))
    return q


def _band_of(forecast_: np.ndarray, scale: float, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Interval bounds on the count scale from scaled-error quantiles."""
    base = np.log1p(np.clip(forecast_, 0, None))
    return np.expm1(base + q[:, 0] * scale).clip(0), np.expm1(base + q[:, 1] * scale)


def _group(code: str) -> str:
    """LA series and the regional totals are calibrated apart: a total's errors are not an LA's."""
    return "total" if code == TOTAL else "la"


def evaluate(bt: pd.DataFrame, level: float = LEVEL) -> pd.DataFrame:
    """The chosen forecast and band as they would have been made at each origin, from what was known then.

    At each origin from the fifth, each series' method is picked and the band calibrated from the backtest errors
    whose target month had passed by then; that forecast is then scored on the months that followed. So the
    chosen forecast's error and the band's coverage are out of sample, like every candidate's.
    """
    if bt.empty:
        return pd.DataFrame()
    origins = sorted(bt["origin"].unique())
    frames = []
    for o in origins[EVAL_FROM:]:
        known = bt[bt["target"] <= o]
        pick = choose(known)
        sel = _chosen_rows(bt[bt["origin"] == o], pick)
        sel = sel.assign(group=sel["la_code"].map(_group))
        kn = _chosen_rows(known, pick)
        kn = kn.assign(group=kn["la_code"].map(_group))
        for grp, g in sel.groupby("group"):
            q = error_quantiles(kn[kn["group"] == grp], level, BT_HORIZON)
            if np.isnan(q).all():
                continue
            lo = np.expm1(np.log1p(g["forecast"].clip(lower=0)) + q[g["h"] - 1, 0] * g["scale"]).clip(lower=0)
            hi = np.expm1(np.log1p(g["forecast"].clip(lower=0)) + q[g["h"] - 1, 1] * g["scale"])
            frames.append(g.assign(lower=lo.to_numpy(), upper=hi.to_numpy(),
                                   covered=((g["actual"] >= lo) & (g["actual"] <= hi)).to_numpy()))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out


def backtest(db: Database, la: str | None = None, level: float = LEVEL) -> pd.DataFrame:
    """Rolling-origin backtest rows of every candidate, with the out-of-sample chosen forecast as method 'chosen'."""
    return _backtest_once(db, db.version, la, level).copy()


@lru_cache(maxsize=8)
def _backtest_once(db: Database, version: str, la: str | None, level: float) -> pd.DataFrame:
    """One backtest per data version and LA: the tiles, the method note and the CLI all report it."""
    bt = rolling(db)
    ev = evaluate(bt, level)
    if ev.empty:
        return bt.iloc[0:0].assign(lower=np.nan, upper=np.nan, covered=np.nan)
    ev_origins = set(ev["origin"])
    cand = bt[bt["origin"].isin(ev_origins)].assign(lower=np.nan, upper=np.nan, covered=np.nan)
    out = pd.concat([cand, ev.drop(columns="group").assign(method="chosen")], ignore_index=True)
    if la is not None:
        out = out[out["la_code"].isin([la])]
    return out.reset_index(drop=True)


def _ape(g: pd.DataFrame) -> pd.Series:
    """Absolute percentage errors, on months with at least MAPE_MIN_CHILDREN children (fewer would be noise)."""
    use = g[g["actual"] >= MAPE_MIN_CHILDREN]
    return (use["forecast"] - use["actual"]).abs() / use["actual"] * 100


def backtest_summary(bt: pd.DataFrame) -> pd.DataFrame:
    """Per category (LA series), for all LA series, and for the regional totals: each candidate's MAPE and coverage.

    Columns: category, series, mape (the chosen forecast's), one column per candidate, covered (share of months
    inside the chosen forecast's band).
    """
    cols = ["category", "series", "mape", *CANDIDATES, "covered"]
    if bt.empty or "chosen" not in set(bt["method"]):
        return pd.DataFrame(columns=cols)
    las, tot = bt[bt["la_code"] != TOTAL], bt[bt["la_code"] == TOTAL]
    rows = []
    parts = [(c, las[las["category"] == c]) for c in CATEGORY_ORDER] + [("all", las), ("region total", tot)]
    for name, g in parts:
        if g.empty:
            continue
        row = {"category": name, "series": g[["la_code", "category"]].drop_duplicates().shape[0]}
        for m in ("chosen", *CANDIDATES):
            a = _ape(g[g["method"] == m])
            row["mape" if m == "chosen" else m] = float(a.mean()) if len(a) else np.nan
        row["covered"] = float(g.loc[g["method"] == "chosen", "covered"].astype(float).mean())
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def coverage_by_horizon(bt: pd.DataFrame) -> pd.DataFrame:
    """Share of months inside the chosen forecast's band, by months ahead, for LA series and regional totals."""
    ch = bt[bt["method"] == "chosen"].assign(group=lambda d: d["la_code"].map(_group))
    return ch.groupby(["group", "h"])["covered"].agg(["mean", "size"]).reset_index()


# ---- The forecast -----------------------------------------------------------------------------------------------

@dataclass
class Forecast:
    """A forecast: one row per year, LA and category, plus the history it learnt from and how it was made."""

    table: pd.DataFrame      # year, la, la_name, category, observed, demand, lower, upper, method
    history: pd.DataFrame    # month_end, la_code, la_name, category, children
    coverage: pd.DataFrame
    last_date: dt.date
    level: float
    bands: pd.DataFrame | None = None  # year, la, category, age_band, demand (stock-and-flow split by age band)
    scenario: Scenario = BASELINE


def forecast(db: Database, years: int, la: str | None = None, level: float = LEVEL,
             scenario: Scenario = BASELINE) -> Forecast:
    """Demand for each of the next `years` years (31 March) by LA and category, with the region's totals."""
    if not 1 <= int(years) <= MAX_YEARS:
        raise ValueError(f"years must be 1-{MAX_YEARS}, not {years}")
    return _forecast_once(db, db.version, int(years), la, level, scenario)


@lru_cache(maxsize=8)
def _forecast_once(db: Database, version: str, years: int, la: str | None, level: float,
                   scenario: Scenario) -> Forecast:
    """One fit per data version and choice: the page's chart, table and tiles all start from the same forecast."""
    hist, fl = _series(db, la)
    if hist.empty:
        raise NoHistory("no SSDA903 episode history is loaded" + (f" for {region.la_name(la) or la}" if la else "")
                        + ": import at least two years of returns (Data page, or `audit import 903 FOLDER`)")
    cov = coverage(db)
    cov = cov[cov["la_code"].isin(hist["la_code"].unique())]
    short = cov[cov["last_year"] - cov["first_year"] + 1 < MIN_MONTHS // 12]
    if len(short) == len(cov):
        raise NoHistory("the SSDA903 history covers one year only: import at least two consecutive years of "
                        "returns to forecast (Data page, or `audit import 903 FOLDER`)")
    hist = hist[~hist["la_code"].isin(short["la_code"])]
    if la is not None:
        hist = hist[hist["la_code"] != TOTAL]
    last = pd.Timestamp(max(cov["end"]))
    targets = [pd.Timestamp(last.year + k, 3, 31) for k in range(1, int(years) + 1)]
    bt = rolling(db)
    pick = choose(bt)
    chosen = _chosen_rows(bt, pick)
    quant = {g: error_quantiles(chosen[chosen["la_code"].map(_group) == g], level, MAX_YEARS * 12 + 12)
             for g in ("la", "total")}
    las = sorted(hist.loc[hist["la_code"] != TOTAL, "la_code"].unique())
    rows, bands = [], []
    for (code, cat), g in hist.groupby(["la_code", "category"], sort=False):
        g = g.sort_values("month_end")
        y = g["children"].to_numpy(float)
        end = g["month_end"].iat[-1]
        steps = [_months_between(end, t) for t in targets]
        n = max(steps)
        flow = _flow_forecast(fl, code, cat, end, n, scenario, las=las)
        method = method_for(pick, code, cat, "ets")
        q = quant[_group(code)]
        if method in ("naive", "seasonal", "ets", "flow", "combined") and not np.isnan(q).all() and (
                method not in ("flow", "combined") or flow is not None):
            mean = _candidates(y, len(y) - 1, n, flow, only=method)[method]
            lower, upper = _band_of(mean, _scale(y), q[:n])
        else:  # too little history to backtest: the damped trend with its model-based interval
            p = project(y, n, level)
            mean, lower, upper, method = p.mean, p.lower, p.upper, "ets (not backtested)"
        if not scenario.is_baseline and flow is not None:
            # A scenario moves the forecast by what it changes in the stock-and-flow model, whatever the method.
            base = _flow_forecast(fl, code, cat, end, n, BASELINE, las=las)
            shift = flow - base
            mean, lower, upper = (mean + shift).clip(0), (lower + shift).clip(0), (upper + shift).clip(0)
        for t, h in zip(targets, steps):
            rows.append({"year": t.date(), "la": code, "la_name": g["la_name"].iat[0], "category": cat,
                         "observed": int(y[-1]), "observed_at": end.date(), "demand": mean[h - 1],
                         "lower": min(lower[h - 1], mean[h - 1]), "upper": max(upper[h - 1], mean[h - 1]),
                         "method": method})
    table = pd.DataFrame(rows)
    if la is not None:
        tot = table.groupby(["year", "category"], sort=False).agg(
            observed=("observed", "sum"), observed_at=("observed_at", "max"), demand=("demand", "sum"),
            lower=("lower", "sum"), upper=("upper", "sum"), method=("method", "first")).reset_index()
        table = pd.concat([table, tot.assign(la=TOTAL, la_name=TOTAL_NAME)], ignore_index=True)
    table["category"] = pd.Categorical(table["category"], CATEGORY_ORDER, ordered=True)
    table["_total"] = table["la"] == TOTAL
    table = table.sort_values(["year", "_total", "la_name", "category"]).drop(columns=["_total"])
    table["category"] = table["category"].astype(str)
    table.insert(len(table.columns), "interval", f"{level:.0%}")
    bands_t = _age_bands(fl, hist, targets, scenario, las)
    return Forecast(table.reset_index(drop=True), hist[hist["la_code"] != TOTAL], cov, last.date(), level, bands_t,
                    scenario)


def _age_bands(fl: dict[str, Flows], hist: pd.DataFrame, targets: list[pd.Timestamp], scenario: Scenario,
               las: list[str]) -> pd.DataFrame:
    """The stock-and-flow model's children by category and age band on each target date, per LA and in total."""
    rows = []
    for code in las:
        f = fl.get(code)
        end = hist.loc[hist["la_code"] == code, "month_end"].max()
        if f is None or end not in f.months or f.months.get_loc(end) < 1:
            continue
        o = f.months.get_loc(end)
        steps = [_months_between(end, t) for t in targets]
        proj = _by_band(flow_project(f, o, max(steps), scenario))
        now = f.stock[o].reshape(len(CATEGORY_ORDER), len(AGE_BANDS))
        for ci, cat in enumerate(CATEGORY_ORDER):
            for bi, band in enumerate(AGE_BANDS):
                rows.append({"year": end.date(), "la": code, "category": cat, "age_band": band,
                             "children": float(now[ci, bi])})
                for t, h in zip(targets, steps):
                    rows.append({"year": t.date(), "la": code, "category": cat, "age_band": band,
                                 "children": float(proj[h - 1, ci, bi])})
    out = pd.DataFrame(rows, columns=["year", "la", "category", "age_band", "children"])
    if out.empty:
        return out
    tot = out.groupby(["year", "category", "age_band"], sort=False)["children"].sum().reset_index().assign(la=TOTAL)
    return pd.concat([out, tot[out.columns]], ignore_index=True)


def regional_history(hist: pd.DataFrame) -> pd.DataFrame:
    """Month-end stock summed over LAs, per category (only months every LA's history covers)."""
    hist = hist[hist["la_code"] != TOTAL]
    n_la = hist["la_code"].nunique()
    g = hist.groupby(["month_end", "category"]).agg(children=("children", "sum"), las=("la_code", "nunique")).reset_index()
    return g[g["las"] == n_la].drop(columns="las")


def _hide_small(values: pd.DataFrame, las: pd.Series, viewer) -> pd.DataFrame:
    """Mask of counts (rounded) of 1-4 in LAs the viewer may not see child-level data for."""
    from audit.suppress import primary_mask

    exempt = las.map(viewer.may_see).astype(bool).to_numpy()
    return primary_mask(values.round()) & ~exempt[:, None]


def published(fc: Forecast, viewer=None) -> Suppressed:
    """The forecast table as shown and exported: whole children, counts and bounds of 1-4 as '<5'.

    The totals add up the LAs' observed and central figures, so where one LA's is hidden in a year and category
    the next smallest is hidden too ('c'), or subtraction would reveal it. Bounds do not add up, so need no more.
    """
    from audit.suppress import PRIMARY, PUBLIC, SECONDARY, secondary_mask

    viewer = viewer or PUBLIC
    t = fc.table.copy()
    for c in ("demand", "lower", "upper"):
        t[c] = t[c].round().astype(int)
    counts = ["observed", "demand", "lower", "upper"]
    hide = _hide_small(t[counts], t["la"], viewer)
    second = pd.DataFrame(False, index=t.index, columns=counts)
    las = t[t["la"] != TOTAL]
    for c in ("observed", "demand"):
        for _, g in las.groupby("year"):
            wide = g.pivot(index="la", columns="category", values=c)
            prim = hide.loc[g.index, c].set_axis(pd.MultiIndex.from_frame(g[["la", "category"]])).unstack()
            prim = prim.reindex(index=wide.index, columns=wide.columns).fillna(False).astype(bool)
            sec = secondary_mask(wide, prim, rows=False, cols=True) & ~prim
            for (la, cat), on in sec.stack().items():
                if on:
                    second.loc[g.index[(g["la"] == la).to_numpy() & (g["category"] == cat).to_numpy()], c] = True
    display = t.astype({c: object for c in counts})
    numeric = t.astype({c: float for c in counts})
    for c in counts:
        display.loc[second[c], c] = SECONDARY
        display.loc[hide[c], c] = PRIMARY
        numeric.loc[hide[c] | second[c], c] = np.nan
    for c in ("year", "observed_at"):
        display[c] = display[c].map(lambda d: d.isoformat())
    cols = ["year", "la", "la_name", "category", "observed", "observed_at", "demand", "lower", "upper", "interval"]
    mask = pd.DataFrame(False, index=t.index, columns=cols)
    mask[counts] = hide | second
    return Suppressed(display[cols], numeric[cols], mask)


def extract(fc: Forecast, viewer=None) -> pd.DataFrame:
    """The forecast as published in CSV extracts (see published)."""
    return published(fc, viewer).display


def published_table(db: Database, years: int, viewer=None) -> Suppressed:
    """published() for the page: from the database in one call, so the page can cache it by data version."""
    return published(forecast(db, years), viewer)


def tiles(db: Database, years: int, la: str | None = None, viewer=None) -> dict[str, str]:
    """Headline tiles for the page: residential children now and in the last forecast year, its range and error."""
    fc = forecast(db, years)
    table = published(fc, viewer)
    key = la or TOTAL
    rows = table.numeric["la"].eq(key) & table.numeric["category"].eq("residential")
    last = table.numeric.loc[rows, "year"].max()
    i = table.numeric.index[rows & table.numeric["year"].eq(last)][0]
    shown, value = table.display.loc[i], table.numeric.loc[i]

    def count(c: str) -> str:
        return shown[c] if isinstance(shown[c], str) else f"{value[c]:,.0f}"

    # A change is shown only when both ends are; it would otherwise give back a hidden one.
    both = not isinstance(shown["observed"], str) and not isinstance(shown["demand"], str) and value["observed"]
    summary = backtest_summary(backtest(db, la))
    overall = summary[summary["category"] == "all"]
    return {
        f"Residential now ({fc.last_date:%b %Y})": count("observed"),
        f"Residential by March {pd.Timestamp(last).year}": count("demand"),
        f"{fc.level:.0%} range": f"{count('lower')}–{count('upper')}",
        "Change": f"{(value['demand'] / value['observed'] - 1) * 100:+.0f}%" if both else "–",
        "Backtest error (MAPE)": f"{overall['mape'].iat[0]:.0f}%" if len(overall) else "–",
    }


def chart_data(fc: Forecast, la: str | None, viewer=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """History and forecast of one LA (or the total) for charts, values of 1-4 hidden (NaN)."""
    from audit.suppress import PUBLIC

    viewer = viewer or PUBLIC
    key = la or TOTAL
    hist = fc.history if la is None else fc.history[fc.history["la_code"] == la]
    hist = regional_history(hist).assign(la=key) if la is None else hist.rename(columns={"la_code": "la"})
    hist = hist[["month_end", "category", "children"]].astype({"children": float}).copy()
    hist.loc[_hide_small(hist[["children"]], pd.Series(key, index=hist.index), viewer)["children"], "children"] = np.nan
    t = fc.table[fc.table["la"] == key]
    start = t.drop_duplicates("category").assign(year=lambda d: d["observed_at"], demand=lambda d: d["observed"],
                                                 lower=lambda d: d["observed"], upper=lambda d: d["observed"])
    fut = pd.concat([start, t], ignore_index=True)[["year", "category", "demand", "lower", "upper"]]
    fut["year"] = pd.to_datetime(fut["year"])
    fut[["demand", "lower", "upper"]] = fut[["demand", "lower", "upper"]].astype(float).round()
    hide = _hide_small(fut[["demand", "lower", "upper"]], pd.Series(key, index=fut.index), viewer)
    fut = fut.mask(hide.reindex(columns=fut.columns, fill_value=False))
    return hist.reset_index(drop=True), fut.rename(columns={"year": "date"})


def by_cohort(db: Database, years: int, round_id: int, la: str | None = None, viewer=None) -> Suppressed | None:
    """Residential demand in each future year split by the audit round's cohorts: how many places each will need.

    The split assumes each cohort keeps the share of children in residential care it has in the audit round
    (the needs audit is one snapshot, so there is nothing to trend the mix from). None without stored cohorts.
    """
    from audit.analysis import cohort_store
    from audit.suppress import PRIMARY, PUBLIC, suppress

    viewer = viewer or PUBLIC
    fit = cohort_store.stored(db, round_id)
    shares = db.q("forecast_cohort_shares", round_id=round_id, la=la)
    if fit is None or shares.empty:
        return None
    res = forecast(db, years).table
    res = res[(res["la"] == (la or TOTAL)) & (res["category"] == "residential")]
    counted = suppress(shares[["children"]].astype(int).assign(la=la), ["children"], col_totals=True, la_col="la",
                       viewer=viewer)
    share = shares["children"] / shares["children"].sum()
    rows = []
    for i, c in enumerate(shares["cohort"].astype(int)):
        for r in res.itertuples():
            rows.append({"year": r.year, "cohort": f"{c}. {fit.names.get(c, f'Cohort {c}')}",
                         "children_in_audit": counted.display["children"].iat[i], "share_pct": round(100 * share.iat[i]),
                         "demand": round(r.demand * share.iat[i]), "lower": round(r.lower * share.iat[i]),
                         "upper": round(r.upper * share.iat[i]), "_hidden": bool(counted.mask["children"].iat[i])})
    out = pd.DataFrame(rows)
    values = ["share_pct", "demand", "lower", "upper"]
    mask = pd.DataFrame(False, index=out.index, columns=values)
    if not viewer.may_see(la):
        for c in ("demand", "lower", "upper"):
            mask[c] = out[c].between(1, 4)
    display = out[["year", "cohort", "children_in_audit", *values]].astype({c: object for c in values})
    display[values] = display[values].mask(mask, PRIMARY)
    # A hidden cohort count hides its share and forecasts too (with the same mark), or they would give it back.
    hidden = out["_hidden"]
    for c in values:
        display.loc[hidden, c] = display.loc[hidden, "children_in_audit"]
        mask.loc[hidden, c] = True
    numeric = out[["year", "cohort", *values]].astype({c: float for c in values})
    numeric[values] = numeric[values].mask(mask)
    return Suppressed(display, numeric, mask.reindex(columns=display.columns, fill_value=False))


def candidate_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Every candidate's rolling-origin MAPE by category, and the chosen forecast's, with its band's coverage."""
    if summary.empty:
        return summary
    out = summary.rename(columns={"mape": "chosen", **{c: CANDIDATE_LABELS[c] for c in CANDIDATES}})
    out = out.rename(columns={"chosen": CANDIDATE_LABELS["chosen"], "covered": "inside 80% band"})
    return out


def method_note(fc: Forecast, summary: pd.DataFrame) -> str:
    """How the forecast was made, in plain English, with every candidate's measured backtest error."""
    cov = fc.coverage
    first, last = int(cov["first_year"].min()), int(cov["last_year"].max())
    methods = fc.table.drop_duplicates(["la", "category"])
    used = methods.groupby("category")["method"].agg(lambda m: ", ".join(sorted(set(m))))
    chosen = "; ".join(f"{c}: {used[c]}" for c in CATEGORY_ORDER if c in used)
    if summary.empty or "all" not in set(summary["category"]):
        bt = ("There is not yet enough history (three years) to compare the methods on rolling origins, so each "
              "series uses the damped trend with its model-based interval.")
    else:
        def line(r) -> str:
            cands = ", ".join(f"{CANDIDATE_LABELS[c]} {getattr(r, c):.1f}%" for c in CANDIDATES if pd.notna(getattr(r, c)))
            return (f"- **{r.category}** ({r.series} series): chosen {r.mape:.1f}% — {cands}; "
                    f"{r.covered:.0%} of months inside the {fc.level:.0%} band")
        bt = ("Every method was tested on rolling origins: from every third month after the first two years, each "
              "forecast the next 1-12 months from the history up to then. The chosen forecast was picked, and its band "
              "calibrated, at each origin only from errors already known then, so its error below is out of sample "
              "like the others' (mean absolute percentage error, months with 5 or more children):\n\n"
              + "\n".join(line(r) for r in summary.itertuples()))
    return (f"**Data.** Children looked after at each month end, by LA and placement category, from the SSDA903 "
            f"returns loaded (years ending 31 March {first}–{last}). A return lists the children looked after during "
            f"its year, so children who left care before the first loaded year are in none of them: counts before "
            f"1 April {first - 1} would be too low and are not used.  \n"
            f"**Methods.** Five candidates for each series: naive (the last month's count carried forward); seasonal "
            f"naive (the same month a year before); exponential smoothing with a damped trend on the log of the count; "
            f"a stock-and-flow model (each month children enter care, leave it, move between placement categories and "
            f"age bands — under 10, 10-15, 16+ — at the rates seen over the last {FLOW_WINDOW} months); and naive and "
            f"stock-and-flow averaged. For each category (of the LAs, and of the regional total) the method with the "
            f"lowest backtest error is used, but naive is kept unless another method beats it by at least "
            f"{SWITCH_MARGIN:.0%}: a small edge in past errors did not last. In use: {chosen}.  \n"
            f"**Range.** The {fc.level:.0%} band comes from the backtest's own errors at each horizon (the 10th and "
            f"90th percentiles, in units of each series' month-to-month variability), widened with the square root "
            f"of the time beyond 12 months. The regional total is forecast and calibrated as a series of its own, "
            f"so its band reflects how LAs move together; it need not equal the sum of the LAs' figures.  \n"
            f"**Check.** {bt}")


def age_band_table(fc: Forecast, la: str | None = None) -> pd.DataFrame:
    """Demand by age band: each year's forecast of a category split as the stock-and-flow model splits it by age.

    The first year is the children looked after now, by age band, as counted. Where the model has no split (no
    stock-and-flow history) the whole figure is 'unknown'.
    """
    cols = ["year", "la", "category", "age_band", "demand"]
    if fc.bands is None or fc.bands.empty:
        return pd.DataFrame(columns=cols)
    b = fc.bands if la is None else fc.bands[fc.bands["la"] == la]
    share = b["children"] / b.groupby(["year", "la", "category"])["children"].transform("sum")
    b = b.assign(share=share.fillna(0))
    t = fc.table if la is None else fc.table[fc.table["la"] == la]
    future = t[["year", "la", "category", "demand"]].merge(b, on=["year", "la", "category"], how="left")
    future["demand"] = future["demand"] * future["share"].fillna(1.0)
    future["age_band"] = future["age_band"].fillna("unknown")
    now = b[b["year"] == fc.last_date].rename(columns={"children": "demand"})
    out = pd.concat([now[cols], future[cols]], ignore_index=True)
    out["age_band"] = pd.Categorical(out["age_band"], AGE_BANDS, ordered=True)
    return out.sort_values(["year", "la", "category", "age_band"]).reset_index(drop=True)


def published_age_bands(fc: Forecast, la: str | None = None, viewer=None) -> pd.DataFrame:
    """Age bands as shown: whole children in columns per band; 1-4 as '<5' (and the next smallest band with it)."""
    from audit.suppress import PRIMARY, PUBLIC, SECONDARY

    viewer = viewer or PUBLIC
    key = la or TOTAL
    t = age_band_table(fc, key)
    t = t[t["age_band"] != "unknown"] if not (t.loc[t["age_band"] == "unknown", "demand"] > 0.5).any() else t
    wide = t.pivot_table(index=["year", "category"], columns="age_band", values="demand", observed=True,
                         aggfunc="sum").round()
    shown = wide.astype(int).astype(object)
    if not viewer.may_see(la):
        small = wide.isin([1, 2, 3, 4])
        for idx in wide.index[small.any(axis=1)]:
            row = wide.loc[idx].where(~small.loc[idx])
            for c in wide.columns[small.loc[idx].to_numpy()]:
                shown.loc[idx, c] = PRIMARY
            if small.loc[idx].sum() == 1 and row.notna().any():
                shown.loc[idx, row.idxmin()] = SECONDARY
    shown = shown.reset_index()
    shown["year"] = shown["year"].map(lambda d: d.isoformat())
    shown.columns = [str(c) for c in shown.columns]
    return shown


def weekly_costs(fc: Forecast, unit_costs: dict[str, float], la: str | None = None) -> pd.DataFrame:
    """The weekly cost of the forecast placements: demand (and its range) times the weekly cost a user gives per category.

    No costs are assumed: categories without a cost given are left out.
    """
    key = la or TOTAL
    t = fc.table[(fc.table["la"] == key) & fc.table["category"].isin(list(unit_costs))].copy()
    unit = t["category"].map(unit_costs).astype(float)
    out = pd.DataFrame({"year": t["year"], "category": t["category"], "weekly_cost": (t["demand"] * unit).round(-2),
                        "lower": (t["lower"] * unit).round(-2), "upper": (t["upper"] * unit).round(-2)})
    tot = out.groupby("year", sort=True)[["weekly_cost", "lower", "upper"]].sum().reset_index().assign(category="all given")
    # A sum of lower bounds is not a lower bound of the sum at the same level: it is shown as a rough range only.
    return pd.concat([out, tot[out.columns]], ignore_index=True)


def age_bands_for(db: Database, years: int, la: str | None = None, viewer=None) -> pd.DataFrame:
    """published_age_bands from the database in one call, for the page's cache."""
    return published_age_bands(forecast(db, years), la, viewer)


def scenario_table(db: Database, years: int, la: str | None, entries_pct: float, step_down_pct: float,
                   viewer=None) -> pd.DataFrame:
    """Baseline against a scenario, per year and category, as published (hidden figures stay hidden in both)."""
    key = la or TOTAL
    base = published(forecast(db, years, la), viewer)
    alt_ = published(forecast(db, years, la, scenario=Scenario(entries_pct, step_down_pct)), viewer)
    b = base.display[base.display["la"] == key].set_index(["year", "category"])
    s = alt_.display[alt_.display["la"] == key].set_index(["year", "category"])
    out = pd.DataFrame({"baseline": b["demand"], "scenario": s["demand"], "scenario_range":
                        s["lower"].astype(str) + "–" + s["upper"].astype(str)})
    num = lambda v: None if isinstance(v, str) else float(v)  # noqa: E731
    out["change"] = [f"{num(y) - num(x):+,.0f}" if num(x) is not None and num(y) is not None else "–"
                     for x, y in zip(out["baseline"], out["scenario"])]
    return out.reset_index()


def costs_for(db: Database, years: int, la: str | None, unit_costs: tuple[tuple[str, float], ...],
              viewer=None) -> pd.DataFrame:
    """weekly_costs from the database (costs as a tuple of pairs, so the page can cache it); LA figures of 1-4
    children hidden (a cost divided by the unit cost would give them back)."""
    from audit.suppress import PUBLIC

    viewer = viewer or PUBLIC
    fc = forecast(db, years, la)
    costs = dict(c for c in unit_costs if c[1] > 0)
    if not costs:
        return pd.DataFrame(columns=["year", "category", "weekly_cost", "lower", "upper"])
    out = weekly_costs(fc, costs, la)
    if not viewer.may_see(la):
        t = fc.table[fc.table["la"] == (la or TOTAL)].set_index(["year", "category"])["demand"].round()
        small = [t.get((y, c), 99) in (1, 2, 3, 4) for y, c in zip(out["year"], out["category"])]
        hide = pd.Series(small, index=out.index)
        # A hidden category's cost would also follow from the year's total: hide the total then too.
        years_hidden = set(out.loc[hide, "year"])
        hide |= (out["category"] == "all given") & out["year"].isin(years_hidden)
        out.loc[hide, ["weekly_cost", "lower", "upper"]] = np.nan
    return out
