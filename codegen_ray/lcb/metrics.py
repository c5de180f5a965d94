"""Unbiased pass@k (``lcb_runner/evaluation/pass_k_utils.py``): per problem ``1 - C(n-c, k) / C(n, k)``, averaged.

Computed exactly with integer binomials (upstream uses an equivalent floating-point product).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Iterable, Mapping, Sequence

from ..types import ProgramVerdict


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` samples drawn without replacement from ``n`` (``c`` correct) passes."""
    if not (0 <= c <= n) or k <= 0:
        raise ValueError(f"pass_at_k needs 0 <= c <= n and k > 0, got n={n} c={c} k={k}")
    if k > n:
        raise ValueError(f"pass@{k} is undefined with only n={n} samples")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


@dataclass(frozen=True)
class PassAtKTable:
    """``per_problem[k][question_id]`` and ``mean[k]`` for every k where every problem has n >= k (as upstream)."""

    ks: tuple[int, ...]
    per_problem: dict[int, dict[str, float]]
    mean: dict[int, float]
    num_samples: dict[str, int]
    num_correct: dict[str, int]

    def as_lcb_metrics(self) -> dict:
        """lcb_runner's metrics dict: ``{"pass@1": mean, ..., "detail": {"pass@1": {qid: value}}}``."""
        out: dict = {f"pass@{k}": self.mean[k] for k in self.ks}
        out["detail"] = {f"pass@{k}": dict(self.per_problem[k]) for k in self.ks}
        return out


def pass_at_k_table(counts: Mapping[str, tuple[int, int]], ks: Iterable[int] = (1, 5, 10)) -> PassAtKTable:
    """``counts[question_id] = (n, c)``. k values that some problem cannot support (n < k) are left out."""
    if not counts:
        raise ValueError("pass_at_k_table needs at least one problem")
    usable = tuple(sorted({k for k in ks if all(n >= k for n, _ in counts.values())}))
    per_problem = {k: {qid: pass_at_k(n, c, k) for qid, (n, c) in sorted(counts.items())} for k in usable}
    mean = {k: sum(v.values()) / len(v) for k, v in per_problem.items()}
    return PassAtKTable(
        ks=usable,
        per_problem=per_problem,
        mean=mean,
        num_samples={qid: n for qid, (n, _) in counts.items()},
        num_correct={qid: c for qid, (_, c) in counts.items()},
    )


def counts_from_verdicts(verdicts: Iterable[ProgramVerdict]) -> dict[str, tuple[int, int]]:
    """``question_id -> (n, c)`` from program verdicts (one per sample)."""
    n: dict[str, int] = {}
    c: dict[str, int] = {}
    for v in verdicts:
        n[v.question_id] = n.get(v.question_id, 0) + 1
        c[v.question_id] = c.get(v.question_id, 0) + int(v.passed)
    return {qid: (n[qid], c[qid]) for qid in n}


def pass_at_k_from_graded(graded: Mapping[str, Sequence[bool]], ks: Iterable[int] = (1, 5, 10)) -> PassAtKTable:
    """From ``question_id -> [passed per sample]``."""
    return pass_at_k_table({qid: (len(g), sum(bool(x) for x in g)) for qid, g in graded.items()}, ks)
