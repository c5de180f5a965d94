"""Statistics on hand-made tables: known Wilson intervals and exact McNemar p-values, and the paired bootstrap."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from codegen_ray.stats import (
    BOOTSTRAP_TEST_NAME,
    MCNEMAR_TEST_NAME,
    Interval,
    format_p,
    holm_adjust,
    mcnemar_exact,
    paired_bootstrap,
    wilson_interval,
)

Z95 = 1.959963984540054  # standard normal 0.975 quantile


def wilson_by_hand(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


def mcnemar_by_hand(b01: int, b10: int) -> float:
    n = b01 + b10
    k = min(b01, b10)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


def paired(b11: int, b10: int, b01: int, b00: int) -> tuple[list[bool], list[bool]]:
    """Outcome lists for a 2x2 table: b10 = A solved & B not, b01 = A not & B solved."""
    a = [True] * b11 + [True] * b10 + [False] * b01 + [False] * b00
    b = [True] * b11 + [False] * b10 + [True] * b01 + [False] * b00
    return a, b


# ------------------------------------------------------------------------------------------------------- Wilson
def test_wilson_15_of_41_known_values():
    iv = wilson_interval(15, 41)
    # Hand computation: p=0.365854, z^2/n=0.093694, centre=0.377346, half-width=0.141447.
    assert iv.low == pytest.approx(0.235898, abs=1e-4)
    assert iv.high == pytest.approx(0.518793, abs=1e-4)
    lo, hi = wilson_by_hand(15, 41)
    assert (iv.low, iv.high) == pytest.approx((lo, hi), abs=1e-9)


@pytest.mark.parametrize("x,n", [(0, 10), (10, 10), (1, 3), (29, 100), (500, 1000)])
def test_wilson_matches_closed_form(x, n):
    iv = wilson_interval(x, n)
    lo, hi = wilson_by_hand(x, n)
    assert iv.low == pytest.approx(max(0.0, lo), abs=1e-9)
    assert iv.high == pytest.approx(min(1.0, hi), abs=1e-9)
    assert iv.contains(x / n)


def test_wilson_zero_successes_has_positive_upper_bound():
    iv = wilson_interval(0, 10)
    assert iv.low == pytest.approx(0.0, abs=1e-12)
    assert iv.high == pytest.approx(Z95**2 / (10 + Z95**2), abs=1e-9)  # 0.27753


def test_wilson_alpha_controls_width():
    wide = wilson_interval(15, 41, alpha=0.01)
    narrow = wilson_interval(15, 41, alpha=0.10)
    assert wide.high - wide.low > narrow.high - narrow.low


def test_wilson_edge_and_bad_input():
    assert wilson_interval(0, 0) == Interval(0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(5, 4)
    with pytest.raises(ValueError):
        wilson_interval(1, 4, alpha=1.5)


# ----------------------------------------------------------------------------------------------------- McNemar
def test_mcnemar_1_vs_6_is_0125():
    a, b = paired(b11=10, b10=6, b01=1, b00=24)
    t = mcnemar_exact(a, b)
    assert (t.b01, t.b10) == (1, 6)
    assert t.p_value == pytest.approx(0.125, abs=1e-12)  # 2 * P(X <= 1 | n=7, p=1/2) = 2 * 8/128
    assert not t.significant
    assert t.test == MCNEMAR_TEST_NAME
    assert t.n == 41
    assert t.mean_a == pytest.approx(16 / 41)
    assert t.mean_b == pytest.approx(11 / 41)


@pytest.mark.parametrize(
    "b01,b10,expected",
    [(0, 5, 0.0625), (0, 6, 0.03125), (3, 6, 260 / 512), (2, 11, 2 * (1 + 13 + 78) / 8192), (4, 4, 1.0)],
)
def test_mcnemar_known_p_values(b01, b10, expected):
    a, b = paired(b11=7, b10=b10, b01=b01, b00=9)
    t = mcnemar_exact(a, b)
    assert t.p_value == pytest.approx(expected, abs=1e-12)
    assert t.p_value == pytest.approx(mcnemar_by_hand(b01, b10), abs=1e-12)
    assert t.significant == (expected < 0.05)


def test_mcnemar_ignores_concordant_pairs_and_is_symmetric():
    a1, b1 = paired(b11=0, b10=6, b01=1, b00=0)
    a2, b2 = paired(b11=30, b10=6, b01=1, b00=50)
    assert mcnemar_exact(a1, b1).p_value == mcnemar_exact(a2, b2).p_value
    swapped = mcnemar_exact(b2, a2)
    assert (swapped.b01, swapped.b10) == (6, 1)
    assert swapped.p_value == mcnemar_exact(a2, b2).p_value


def test_mcnemar_no_discordant_pairs():
    a, b = paired(b11=5, b10=0, b01=0, b00=5)
    t = mcnemar_exact(a, b)
    assert t.p_value == 1.0 and not t.significant


def test_mcnemar_needs_equal_lengths():
    with pytest.raises(ValueError):
        mcnemar_exact([True, False], [True])


def test_mcnemar_alpha():
    a, b = paired(b11=0, b10=5, b01=0, b00=0)  # p = 0.0625
    assert not mcnemar_exact(a, b, alpha=0.05).significant
    assert mcnemar_exact(a, b, alpha=0.10).significant


# --------------------------------------------------------------------------------------------------- bootstrap
def _scores(seed: int, n: int = 60, shift: float = 0.0):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 11, size=n) / 10  # per-problem pass@1 with 10 samples
    b = np.clip(a - shift + rng.integers(-2, 3, size=n) / 10, 0, 1)
    return a.tolist(), b.tolist()


def test_bootstrap_is_deterministic_per_seed_and_leaves_global_state_alone():
    a, b = _scores(1, shift=0.05)
    np_state = np.random.get_state()[1].copy()
    py_state = random.getstate()
    t1 = paired_bootstrap(a, b, n_boot=2000, seed=7)
    t2 = paired_bootstrap(a, b, n_boot=2000, seed=7)
    t3 = paired_bootstrap(a, b, n_boot=2000, seed=8)
    assert t1 == t2
    assert t1.ci != t3.ci
    assert (np.random.get_state()[1] == np_state).all()
    assert random.getstate() == py_state


def test_bootstrap_detects_a_clear_difference():
    a, b = _scores(2, shift=0.3)
    t = paired_bootstrap(a, b, n_boot=4000, seed=0)
    assert t.test == BOOTSTRAP_TEST_NAME
    assert t.difference == pytest.approx(np.mean(a) - np.mean(b))
    assert t.difference > 0.2
    assert t.significant and t.p_value < 0.01
    assert t.p_value >= 1 / 4001 * 2 - 1e-12  # never exactly 0 with finite resamples
    assert t.ci.low > 0 and t.ci.contains(t.difference)
    assert t.b10 > t.b01


def test_bootstrap_no_difference_is_not_significant():
    a, b = _scores(3, shift=0.0)
    t = paired_bootstrap(a, b, n_boot=4000, seed=0)
    assert not t.significant
    assert t.ci.low < 0 < t.ci.high
    assert (t.p_value < 0.05) == (not t.ci.contains(0.0))


def test_bootstrap_identical_scores():
    a = [0.1, 0.5, 1.0, 0.0]
    t = paired_bootstrap(a, list(a), n_boot=100, seed=0)
    assert t.p_value == 1.0 and not t.significant and t.difference == 0.0
    assert (t.b01, t.b10) == (0, 0)


def test_bootstrap_bad_input():
    with pytest.raises(ValueError):
        paired_bootstrap([0.1], [0.2, 0.3], n_boot=10, seed=0)
    with pytest.raises(ValueError):
        paired_bootstrap([0.1], [0.2], n_boot=0, seed=0)


# ------------------------------------------------------------------------------------------------------- helpers
def test_holm_adjust_known_values():
    # sorted: 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> monotone 0.06
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjust([]) == []


def test_format_p():
    assert format_p(0.125) == "p=0.125"
    assert format_p(0.4531) == "p=0.453"
    assert format_p(1.0) == "p=1"
    assert format_p(0.0004) == "p<0.001"
