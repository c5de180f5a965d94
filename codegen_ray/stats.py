"""Statistics for comparing checkpoints over the same benchmark problems.

Everything here is computed by maintained libraries (statsmodels, scipy); this module only shapes inputs and
results into typed records. No global random state: the bootstrap takes an explicit seed and builds its own
``numpy.random.Generator``.

* :func:`wilson_interval` — Wilson score interval of a proportion (statsmodels ``proportion_confint``).
* :func:`mcnemar_exact` — exact McNemar test on paired solved/unsolved outcomes (statsmodels ``mcnemar``,
  i.e. a two-sided binomial test on the discordant pairs). Use it when every problem has one sample (n=1).
* :func:`paired_bootstrap` — paired percentile bootstrap over problems of the difference in mean per-problem
  score (scipy ``bootstrap`` with ``paired=True``). Use it for pass@k / per-problem pass@1 with n>1 samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

MCNEMAR_TEST_NAME = "exact McNemar"
BOOTSTRAP_TEST_NAME = "paired bootstrap"


@dataclass(frozen=True)
class Interval:
    """A confidence interval ``[low, high]`` for a proportion."""

    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class PairedTest:
    """A paired two-sided test of "A and B score the same" over the same problems.

    ``b01``: problems where A scored lower than B (for solved/unsolved: A failed, B solved);
    ``b10``: problems where A scored higher than B (A solved, B failed). ``difference`` is mean(A) - mean(B).
    ``ci`` is the bootstrap interval of the difference (None for McNemar).
    """

    b01: int
    b10: int
    p_value: float
    significant: bool
    test: str = MCNEMAR_TEST_NAME
    n: int = 0  # problems compared
    mean_a: float = 0.0
    mean_b: float = 0.0
    alpha: float = 0.05
    ci: Optional[Interval] = None
    n_boot: Optional[int] = None

    @property
    def difference(self) -> float:
        return self.mean_a - self.mean_b


def wilson_interval(successes: float, total: int, alpha: float = 0.05) -> Interval:
    """Wilson score interval for ``successes / total`` at confidence ``1 - alpha``.

    ``successes`` may be fractional (e.g. pass@1 * problems when n>1 samples per problem); the interval then treats
    problems as the unit, which is an approximation. ``total == 0`` gives the uninformative interval [0, 1].
    """
    from statsmodels.stats.proportion import proportion_confint

    _check_alpha(alpha)
    if total < 0 or successes < 0 or successes > total:
        raise ValueError(f"need 0 <= successes <= total, got {successes}/{total}")
    if total == 0:
        return Interval(0.0, 1.0)
    low, high = proportion_confint(successes, total, alpha=alpha, method="wilson")
    # statsmodels leaves float noise (e.g. 1e-17) at the boundaries; 12 decimals are far below any reported digit.
    return Interval(round(float(max(0.0, low)), 12), round(float(min(1.0, high)), 12))


def mcnemar_exact(a_solved: Sequence[bool], b_solved: Sequence[bool], alpha: float = 0.05) -> PairedTest:
    """Exact (binomial) McNemar test on paired solved/unsolved outcomes, position i = problem i in both.

    The p-value is ``min(1, 2 * P(X <= min(b01, b10)))`` with ``X ~ Binomial(b01 + b10, 1/2)``; with no discordant
    problem it is 1.
    """
    from statsmodels.stats.contingency_tables import mcnemar

    _check_alpha(alpha)
    if len(a_solved) != len(b_solved):
        raise ValueError(f"paired outcomes need equal lengths, got {len(a_solved)} and {len(b_solved)}")
    a = [bool(x) for x in a_solved]
    b = [bool(x) for x in b_solved]
    b11 = sum(x and y for x, y in zip(a, b))
    b10 = sum(x and not y for x, y in zip(a, b))
    b01 = sum(y and not x for x, y in zip(a, b))
    b00 = len(a) - b11 - b10 - b01
    if b01 + b10 == 0:
        p = 1.0
    else:
        p = float(mcnemar([[b11, b10], [b01, b00]], exact=True).pvalue)
    n = len(a)
    return PairedTest(
        b01=b01,
        b10=b10,
        p_value=p,
        significant=p < alpha,
        test=MCNEMAR_TEST_NAME,
        n=n,
        mean_a=(sum(a) / n) if n else 0.0,
        mean_b=(sum(b) / n) if n else 0.0,
        alpha=alpha,
    )


def paired_bootstrap(
    a_scores: Sequence[float], b_scores: Sequence[float], n_boot: int, seed: int, alpha: float = 0.05
) -> PairedTest:
    """Paired percentile bootstrap over problems of ``mean(a) - mean(b)`` (scipy ``bootstrap``, ``paired=True``).

    Problems are resampled with replacement, keeping each problem's (a, b) pair together. The two-sided p-value is
    ``min(1, 2 * min(#(d* <= 0) + 1, #(d* >= 0) + 1) / (n_boot + 1))`` over the bootstrap differences d*, i.e.
    the percentile-interval inversion (``p < alpha`` about when the ``1 - alpha`` interval excludes 0), never
    exactly 0 with finitely many resamples. Deterministic for a given seed.
    """
    import numpy as np
    from scipy.stats import bootstrap

    _check_alpha(alpha)
    if len(a_scores) != len(b_scores):
        raise ValueError(f"paired scores need equal lengths, got {len(a_scores)} and {len(b_scores)}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    a = np.asarray(a_scores, dtype=float)
    b = np.asarray(b_scores, dtype=float)
    n = int(a.size)
    b01 = int(np.sum(a < b))
    b10 = int(np.sum(a > b))
    if n == 0:
        return PairedTest(b01, b10, 1.0, False, BOOTSTRAP_TEST_NAME, 0, 0.0, 0.0, alpha, Interval(0.0, 0.0), n_boot)
    mean_a, mean_b = float(a.mean()), float(b.mean())
    if b01 + b10 == 0:  # identical on every problem: the bootstrap distribution is the single point 0
        return PairedTest(0, 0, 1.0, False, BOOTSTRAP_TEST_NAME, n, mean_a, mean_b, alpha, Interval(0.0, 0.0), n_boot)

    def mean_difference(x, y, axis=-1):
        return np.mean(x, axis=axis) - np.mean(y, axis=axis)

    res = bootstrap(
        (a, b),
        mean_difference,
        n_resamples=n_boot,
        batch=min(n_boot, 1000),  # bounded memory: 1000 resamples x problems at a time
        paired=True,
        vectorized=True,
        confidence_level=1 - alpha,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    dist = np.asarray(res.bootstrap_distribution)
    tail = min(int(np.sum(dist <= 0)), int(np.sum(dist >= 0)))
    p = float(min(1.0, 2.0 * (tail + 1) / (dist.size + 1)))
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if math.isnan(low) or math.isnan(high):  # degenerate distribution
        low = high = float(np.median(dist))
    return PairedTest(
        b01=b01,
        b10=b10,
        p_value=p,
        significant=p < alpha,
        test=BOOTSTRAP_TEST_NAME,
        n=n,
        mean_a=mean_a,
        mean_b=mean_b,
        alpha=alpha,
        ci=Interval(low, high),
        n_boot=n_boot,
    )


def holm_adjust(p_values: Sequence[float], alpha: float = 0.05) -> list[float]:
    """Holm-Bonferroni adjusted p-values (statsmodels ``multipletests``), same order as the input."""
    if not p_values:
        return []
    from statsmodels.stats.multitest import multipletests

    _check_alpha(alpha)
    _, adjusted, _, _ = multipletests(list(p_values), alpha=alpha, method="holm")
    return [float(x) for x in adjusted]


def format_p(p: float) -> str:
    """A p-value for prose: ``p=0.125`` (three significant digits), ``p<0.001`` below that."""
    if p < 0.001:
        return "p<0.001"
    return f"p={p:.3g}"


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
