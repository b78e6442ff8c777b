"""Scores for one trial, and summaries per block and per session (vectorised numpy).

Hold trials: time in band %, RMSE from the target, CV, time to band, overshoots above the
band (count, largest), drift. Ramp trials: the ramp rate, its error from the target rate,
its steadiness (CV of the rate over 0.25 s steps) and the time the rate stayed within the
tolerance. Each sample's value holds until the next sample.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

STEP_S = 0.25
"""Ramp steadiness: the rate is measured over steps of this length."""


def _nan_none(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), 4)


def _weights(t: np.ndarray) -> np.ndarray:
    """Each sample's duration: until the next sample (the last: the median step)."""
    if t.size == 0:
        return t
    dt = np.diff(t)
    last = float(np.median(dt)) if dt.size else 0.0
    return np.append(dt, last)


MERGE_S = 0.5
"""Overshoots less than this apart are one (tremor chattering on the band's edge)."""


def _excursions(t: np.ndarray, above: np.ndarray) -> int:
    """Runs of `above`, merging runs separated by gaps shorter than MERGE_S."""
    if not above.any():
        return 0
    edges = np.diff(above.astype(np.int8), prepend=0, append=0)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    t_end = np.append(t, t[-1])
    gaps = t[starts[1:]] - t_end[ends[:-1]]
    return int(1 + np.count_nonzero(gaps >= MERGE_S))


def score_hold(t: np.ndarray, f: np.ndarray, go_s: float, window: tuple[float, float],
               target_n: float, band: tuple[float, float]) -> dict[str, Any]:
    """Scores of a hold trial; `window` is the scored hold, after the lead-in from `go_s`."""
    lo, hi = band
    t = np.asarray(t, dtype=np.float64)
    f = np.asarray(f, dtype=np.float64)
    w = (t >= window[0]) & (t < window[1]) & np.isfinite(f)
    tw, fw = t[w], f[w]
    dt = _weights(tw)
    total = float(dt.sum())
    in_band = (fw >= lo) & (fw <= hi)
    pct = 100.0 * float(dt[in_band].sum()) / total if total > 0 else math.nan
    rmse = float(np.sqrt(np.mean((fw - target_n) ** 2))) if fw.size else math.nan
    mean = float(fw.mean()) if fw.size else math.nan
    cv = float(fw.std() / mean) if fw.size and mean > 0 else math.nan
    drift = float(np.polyfit(tw, fw, 1)[0]) if fw.size > 2 else math.nan
    after_go = (t >= go_s) & (t < window[1]) & np.isfinite(f)
    ta, fa = t[after_go], f[after_go]
    inside = (fa >= lo) & (fa <= hi)
    first = int(np.argmax(inside)) if inside.any() else -1
    to_band = float(ta[first] - go_s) if first >= 0 else math.nan
    count, largest = 0, 0.0
    if first >= 0:
        above = fa[first:] > hi
        count = _excursions(ta[first:], above)
        largest = float((fa[first:][above] - hi).max()) if above.any() else 0.0
    return {"time_in_band_pct": _nan_none(pct), "rmse_n": _nan_none(rmse),
            "cv_pct": _nan_none(100 * cv), "time_to_band_s": _nan_none(to_band),
            "overshoots": count, "largest_overshoot_n": _nan_none(largest),
            "drift_n_per_s": _nan_none(drift), "mean_n": _nan_none(mean),
            "samples": int(fw.size)}


def score_ramp(t: np.ndarray, f: np.ndarray, go_s: float, end_s: float, rate_n_per_s: float,
               tolerance_pct: float) -> dict[str, Any]:
    """Scores of an algometry ramp: rate (slope over 20-80 % of the peak), steadiness."""
    t = np.asarray(t, dtype=np.float64)
    f = np.asarray(f, dtype=np.float64)
    m = (t >= go_s) & (t < end_s) & np.isfinite(f)
    tm, fm = t[m], f[m]
    empty = {"ramp_rate_n_per_s": None, "rate_error_pct": None, "steadiness_cv_pct": None,
             "time_in_band_pct": None, "peak_n": None, "samples": int(fm.size)}
    if fm.size < 8:
        return empty
    k_peak = int(np.argmax(fm))
    peak = float(fm[k_peak])
    rise_f, rise_t = fm[:k_peak + 1], tm[:k_peak + 1]
    lo_i = int(np.argmax(rise_f >= 0.2 * peak))
    hi_i = int(np.argmax(rise_f >= 0.8 * peak))
    if hi_i - lo_i < 4:
        return {**empty, "peak_n": _nan_none(peak)}
    seg_t, seg_f = rise_t[lo_i:hi_i + 1], rise_f[lo_i:hi_i + 1]
    rate = float(np.polyfit(seg_t, seg_f, 1)[0])
    edges = np.arange(seg_t[0], seg_t[-1] + 1e-9, STEP_S)
    steps = np.interp(edges, seg_t, seg_f)
    inst = np.diff(steps) / STEP_S
    steady = float(inst.std() / inst.mean()) if inst.size > 1 and inst.mean() > 0 else math.nan
    tol = rate_n_per_s * tolerance_pct / 100.0
    within = float(np.mean(np.abs(inst - rate_n_per_s) <= tol)) if inst.size else math.nan
    return {"ramp_rate_n_per_s": _nan_none(rate),
            "rate_error_pct": _nan_none(100 * (rate - rate_n_per_s) / rate_n_per_s),
            "steadiness_cv_pct": _nan_none(100 * steady),
            "time_in_band_pct": _nan_none(100 * within), "peak_n": _nan_none(peak),
            "samples": int(fm.size)}


SUMMARY_KEYS = ("time_in_band_pct", "rmse_n", "cv_pct", "time_to_band_s", "overshoots",
                "largest_overshoot_n", "drift_n_per_s", "ramp_rate_n_per_s", "rate_error_pct",
                "steadiness_cv_pct")


def summarise(trials: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean of each score over the trials that have it; ramps add the consistency of the
    rate across trials (CV %) and its mean absolute error."""
    out: dict[str, Any] = {"trials": len(trials)}
    for key in SUMMARY_KEYS:
        vals = np.array([s[key] for s in trials if s.get(key) is not None], dtype=np.float64)
        if vals.size:
            out[key] = round(float(vals.mean()), 4)
    rates = np.array([s["ramp_rate_n_per_s"] for s in trials
                      if s.get("ramp_rate_n_per_s") is not None], dtype=np.float64)
    if rates.size > 1:
        out["rate_consistency_cv_pct"] = round(float(100 * rates.std() / rates.mean()), 4)
    errs = np.array([abs(s["rate_error_pct"]) for s in trials
                     if s.get("rate_error_pct") is not None], dtype=np.float64)
    if errs.size:
        out["rate_abs_error_pct"] = round(float(errs.mean()), 4)
    return out
