"""Fits shared by every experiment that checks a scaling law."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def fit_loglog(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Least-squares slope and intercept of log y against log x."""
    lx, ly = np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float))
    slope, intercept = np.polyfit(lx, ly, 1)
    return float(slope), float(intercept)


def loglog_slope_interval(
    x: Sequence[float], y: Sequence[float], tail: float = 0.01
) -> tuple[float, float, float]:
    """Least-squares slope of log y against log x, its standard error from the fit's residuals, and
    the half-width of its two-sided (1 − tail) confidence interval (Student's t with len(x) − 2
    degrees of freedom): (slope, standard error, half-width). Needs ≥ 3 points."""
    from scipy.stats import t as student  # on first use: scipy's import is slow

    lx, ly = np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float))
    k = len(lx)
    if k < 3:
        raise ValueError(f"{k} points: a slope's standard error needs at least 3")
    (slope, _), residual = np.polyfit(lx, ly, 1, full=True)[:2]
    dx = lx - lx.mean()
    sse = float(residual[0]) if len(residual) else 0.0
    se = float(np.sqrt(sse / (k - 2) / float(dx @ dx)))
    return float(slope), se, float(student.ppf(1 - tail / 2, k - 2)) * se
