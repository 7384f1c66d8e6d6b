"""Forecast demand for placements by LA and placement category from SSDA903 episode history.

History: the number of children looked after at each month end, per LA and
placement category, over the years the loaded returns cover. A return lists the
children looked after during its year, so a child who left care before the
first loaded year is in no return: stock counts are only complete inside the
covered years, and the history starts on 1 April of the first of them (a run of
consecutive years ending at the LA's latest; earlier years after a gap are left
out for the same reason).

Model: exponential smoothing with an additive damped trend (Holt's damped
trend, ETS(A,Ad,N); Gardner & McKenzie 1985) fitted by maximum likelihood to
log(1 + stock) of each LA and category, one month at a time. Stock moves like a
random walk with drift, which this model follows; the damped trend keeps recent
growth from being extrapolated for ever. Prediction intervals (80% by default)
come from the model's analytic forecast variance on the log scale and are
transformed back, so they are never negative and widen with the horizon. The
central figure is the median (the back-transformed log forecast). A region's
total comes from 2,000 simulated draws of each LA's forecast distribution,
summed: its central figure is the median of those sums and its interval their
10th-90th percentiles. That assumes LAs vary independently (if they move
together the true interval is wider), and because small LAs' forecasts are
skewed upwards the total's median can sit a little above the sum of the LAs'
medians. Series with no change at all (e.g. always zero) get a flat
forecast with a Poisson interval.

Backtest: refit with the last 12 months held out, forecast them, and report the
mean absolute percentage error (MAPE) and how often the interval held the
observed stock.
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
BACKTEST_MONTHS = 12
MAPE_MIN_CHILDREN = 5  # percentage errors on fewer children are noise, so such series are left out of MAPE
SIMULATIONS = 2000
SIMULATION_SEED = 903  # the same data always gives the same regional bounds
TOTAL = "TOTAL"
TOTAL_NAME = "All LAs loaded (sum)"


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


@dataclass
class Forecast:
    """A forecast: one row per year, LA and category, plus the history it learnt from and how it was made."""

    table: pd.DataFrame      # year, la, la_name, category, observed, demand, lower, upper
    history: pd.DataFrame    # month_end, la_code, la_name, category, children
    coverage: pd.DataFrame
    last_date: dt.date
    level: float


def forecast(db: Database, years: int, la: str | None = None, level: float = LEVEL) -> Forecast:
    """Demand for each of the next `years` years (31 March) by LA and category, with the region's totals."""
    if not 1 <= int(years) <= MAX_YEARS:
        raise ValueError(f"years must be 1-{MAX_YEARS}, not {years}")
    return _forecast_once(db, db.version, int(years), la, level)


@lru_cache(maxsize=8)
def _forecast_once(db: Database, version: str, years: int, la: str | None, level: float) -> Forecast:
    """One fit per data version and choice: the page's chart, table and tiles all start from the same forecast."""
    if not 1 <= int(years) <= MAX_YEARS:
        raise ValueError(f"years must be 1-{MAX_YEARS}, not {years}")
    hist = history(db, la)
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
    last = pd.Timestamp(max(cov["end"]))
    targets = [pd.Timestamp(last.year + k, 3, 31) for k in range(1, int(years) + 1)]
    rows = []
    draws: dict[tuple, np.ndarray] = {}
    rng = np.random.default_rng(SIMULATION_SEED)
    for (code, cat), g in hist.groupby(["la_code", "category"], sort=False):
        g = g.sort_values("month_end")
        y = g["children"].to_numpy()
        end = g["month_end"].iat[-1]
        steps = [_months_between(end, t) for t in targets]
        p = project(y, max(steps), level)
        for t, h in zip(targets, steps):
            rows.append({"year": t.date(), "la": code, "la_name": g["la_name"].iat[0], "category": cat,
                         "observed": int(y[-1]), "observed_at": end.date(), "demand": p.mean[h - 1],
                         "lower": p.lower[h - 1], "upper": p.upper[h - 1]})
            key = (t.date(), cat)
            draws[key] = draws.get(key, 0) + p.draw(h, rng, SIMULATIONS)
    table = pd.DataFrame(rows)
    table = pd.concat([table, _totals(table, draws, level)], ignore_index=True)
    table["category"] = pd.Categorical(table["category"], CATEGORY_ORDER, ordered=True)
    table["_total"] = table["la"] == TOTAL
    table = table.sort_values(["year", "_total", "la_name", "category"]).drop(columns=["_total"])
    table["category"] = table["category"].astype(str)
    table.insert(len(table.columns), "interval", f"{level:.0%}")
    return Forecast(table.reset_index(drop=True), hist, cov, last.date(), level)


def _totals(table: pd.DataFrame, draws: dict[tuple, np.ndarray], level: float) -> pd.DataFrame:
    """Totals over LAs per year and category: the median and interval of simulated sums (LAs independent)."""
    t = table.groupby(["year", "category"], sort=False).agg(
        observed=("observed", "sum"), observed_at=("observed_at", "max")).reset_index()
    q = np.array([np.quantile(draws[(y, c)], [0.5, (1 - level) / 2, (1 + level) / 2])
                  for y, c in zip(t["year"], t["category"])])
    t["demand"], t["lower"], t["upper"] = q[:, 0], q[:, 1], q[:, 2]
    t["la"], t["la_name"] = TOTAL, TOTAL_NAME
    return t


def regional_history(hist: pd.DataFrame) -> pd.DataFrame:
    """Month-end stock summed over LAs, per category (only months every LA's history covers)."""
    n_la = hist["la_code"].nunique()
    g = hist.groupby(["month_end", "category"]).agg(children=("children", "sum"), las=("la_code", "nunique")).reset_index()
    return g[g["las"] == n_la].drop(columns="las")


def backtest(db: Database, la: str | None = None, months: int = BACKTEST_MONTHS, level: float = LEVEL) -> pd.DataFrame:
    """Per LA and category: refit without the last `months` months, forecast them; APE and interval coverage."""
    return _backtest_once(db, db.version, la, months, level).copy()


@lru_cache(maxsize=8)
def _backtest_once(db: Database, version: str, la: str | None, months: int, level: float) -> pd.DataFrame:
    """One backtest per data version: the tiles and the method note both report it."""
    hist = history(db, la)
    rows = []
    for (code, cat), g in hist.groupby(["la_code", "category"], sort=False):
        y = g.sort_values("month_end")["children"].to_numpy()
        if len(y) < MIN_MONTHS + months:
            continue
        train, test = y[:-months], y[-months:]
        p = project(train, months, level)
        ok = test > 0
        ape = np.abs(p.mean[ok] - test[ok]) / test[ok]
        rows.append({"la_code": code, "category": cat, "mean_children": float(test.mean()),
                     "min_children": int(test.min()), "mape": float(ape.mean() * 100) if ok.any() else np.nan,
                     "error_at_end": float(p.mean[-1] - test[-1]),
                     "covered": float(((test >= np.floor(p.lower)) & (test <= np.ceil(p.upper))).mean())})
    return pd.DataFrame(rows, columns=["la_code", "category", "mean_children", "min_children", "mape", "error_at_end",
                                       "covered"])


def backtest_summary(bt: pd.DataFrame) -> pd.DataFrame:
    """MAPE and interval coverage per category, over series with at least 5 children in every held-out month."""
    use = bt[bt["min_children"] >= MAPE_MIN_CHILDREN]
    if use.empty:
        return pd.DataFrame(columns=["category", "series", "mape", "covered"])
    out = use.groupby("category").agg(series=("mape", "size"), mape=("mape", "mean"), covered=("covered", "mean"))
    out = out.reindex([c for c in CATEGORY_ORDER if c in out.index]).reset_index()
    total = pd.DataFrame([{"category": "all", "series": len(use), "mape": use["mape"].mean(), "covered": use["covered"].mean()}])
    return pd.concat([out, total], ignore_index=True)


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


def method_note(fc: Forecast, summary: pd.DataFrame) -> str:
    """How the forecast was made, in plain English, with its measured backtest error."""
    cov = fc.coverage
    first, last = int(cov["first_year"].min()), int(cov["last_year"].max())
    if summary.empty or "all" not in set(summary["category"]):
        bt = "There is not yet enough history (three years) to test the method on held-out months."
    else:
        a = summary[summary["category"] == "all"].iloc[0]
        per = "; ".join(f"{r.category} {r.mape:.0f}%" for r in summary.itertuples() if r.category != "all")
        bt = (f"Tested by refitting without the last 12 months and forecasting them: the average error was "
              f"{a['mape']:.0f}% ({per}; series with at least 5 children), and {a['covered']:.0%} of those months "
              f"fell inside the {fc.level:.0%} interval.")
    return (f"**Data.** Children looked after at each month end, by LA and placement category, from the SSDA903 "
            f"returns loaded (years ending 31 March {first}–{last}). A return lists the children looked after during "
            f"its year, so children who left care before the first loaded year are in none of them: counts before "
            f"1 April {first - 1} would be too low and are not used.  \n"
            f"**Model.** For each LA and category, exponential smoothing with a damped trend (Holt's damped trend) "
            f"fitted to the logarithm of the monthly count: it follows the level closely, carries the recent trend "
            f"forward but lets it fade, and never goes below zero. The central figure is the middle of the forecast "
            f"range; the band is an {fc.level:.0%} interval (4 years in 5 the number should fall inside it), widening "
            f"with each year ahead. Totals add up simulated forecasts of the LAs (so they can sit a little above the "
            f"sum of the LAs' central figures); their band assumes LAs vary independently, so it may be too narrow "
            f"if they move together.  \n"
            f"**Check.** {bt}")
