"""What the report is built from: one :class:`CheckpointResult` per evaluation trial, the training curves, the
selection/report split, and best-checkpoint selection (:func:`choose_best`), all bundled in
:class:`SweepReportInput`."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, replace
from typing import Any, Collection, Iterable, Mapping, Optional, Sequence

from ..contamination import ContaminationSummary
from ..stats import Interval, wilson_interval
from ..types import BASE_CHECKPOINT_NAME, Problem
from .timeline import TimelineBar


class EvalStatus(str, enum.Enum):
    OK = "ok"
    FAILED = "failed"


# ------------------------------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class CheckpointResult:
    """One evaluation trial: a variant's checkpoint (or the base model) on the benchmark.

    ``pass_at``: k → pass@k over all evaluated problems. ``per_problem``: question_id → that problem's pass@1
    (1.0/0.0 solved or not when n=1; c/n with n samples). ``solved``: problems with at least one accepted sample.
    ``selection_pass1`` / ``report_pass1``: Pass@1 on the selection / report problems (see :func:`apply_split`).
    """

    variant: str
    checkpoint: str  # checkpoint directory name, or "base"
    step: int
    epoch: int
    val_loss: Optional[float] = None
    train_loss: Optional[float] = None
    pass_at: Mapping[int, float] = field(default_factory=dict)
    solved: int = 0
    total: int = 0
    per_problem: Mapping[str, float] = field(default_factory=dict)
    status: EvalStatus = EvalStatus.OK
    failure: Optional[str] = None
    backend: str = ""
    isolation: str = ""
    selection_pass1: Optional[float] = None
    report_pass1: Optional[float] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", EvalStatus(self.status))
        if self.status is EvalStatus.FAILED:
            if not self.failure:
                raise ValueError(f"{self.key}: a failed result needs a failure reason")
            return
        if 1 not in self.pass_at:
            raise ValueError(f"{self.key}: an ok result needs pass_at[1]")
        if not 0 <= self.solved <= self.total:
            raise ValueError(f"{self.key}: solved={self.solved} is not within 0..total={self.total}")
        for k, v in self.pass_at.items():
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{self.key}: pass@{k}={v} is not a fraction")

    @property
    def is_base(self) -> bool:
        return self.checkpoint == BASE_CHECKPOINT_NAME

    @property
    def ok(self) -> bool:
        return self.status is EvalStatus.OK

    @property
    def key(self) -> str:
        """Unique across the sweep (matches ``CheckpointRef.key``)."""
        return BASE_CHECKPOINT_NAME if self.is_base else f"{self.variant}/{self.checkpoint}"

    @property
    def pass1(self) -> Optional[float]:
        return self.pass_at.get(1) if self.ok else None

    @property
    def headline_pass1(self) -> Optional[float]:
        """The Pass@1 to quote: on the report problems when a selection/report split was applied (they played no
        part in choosing the best checkpoint), on all problems otherwise; None for a failed evaluation."""
        if not self.ok:
            return None
        return self.report_pass1 if self.report_pass1 is not None else self.pass1

    @property
    def selection_score(self) -> Optional[float]:
        """What best-checkpoint selection ranks by: Pass@1 on the selection problems when set, else Pass@1."""
        if not self.ok:
            return None
        return self.selection_pass1 if self.selection_pass1 is not None else self.pass1

    def pass1_on(self, question_ids: Collection[str]) -> float:
        """Mean per-problem pass@1 over ``question_ids`` (all must have been evaluated)."""
        missing = [q for q in question_ids if q not in self.per_problem]
        if missing:
            raise ValueError(f"{self.key}: no per-problem result for {missing[0]!r} ({len(missing)} missing)")
        return sum(self.per_problem[q] for q in question_ids) / len(question_ids) if question_ids else 0.0

    def wilson(self, alpha: float, question_ids: Optional[Collection[str]] = None) -> Optional[Interval]:
        """Wilson interval of Pass@1 (on ``question_ids`` if given); pass@1 × problems as the success count."""
        if not self.ok:
            return None
        if question_ids is None:
            return wilson_interval(self.pass_at[1] * self.total, self.total, alpha)
        return wilson_interval(self.pass1_on(question_ids) * len(question_ids), len(question_ids), alpha)


@dataclass(frozen=True)
class TrainingCurve:
    """One variant's losses: train loss at ``steps``, validation loss at ``val_steps``."""

    variant: str
    steps: Sequence[int]
    train_loss: Sequence[float]
    val_steps: Sequence[int] = ()
    val_loss: Sequence[float] = ()

    def __post_init__(self) -> None:
        if len(self.steps) != len(self.train_loss) or len(self.val_steps) != len(self.val_loss):
            raise ValueError(f"{self.variant}: steps and losses differ in length")


@dataclass(frozen=True)
class SelectionSplit:
    """Disjoint problem sets: ``selection_ids`` choose the best checkpoint, ``report_ids`` report it."""

    selection_ids: frozenset[str]
    report_ids: frozenset[str]
    description: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "selection_ids", frozenset(self.selection_ids))
        object.__setattr__(self, "report_ids", frozenset(self.report_ids))
        overlap = self.selection_ids & self.report_ids
        if overlap:
            raise ValueError(f"selection and report problems overlap, e.g. {sorted(overlap)[0]!r}")
        if not self.selection_ids or not self.report_ids:
            raise ValueError(
                f"selection/report split leaves an empty side ({len(self.selection_ids)} selection, "
                f"{len(self.report_ids)} report problems): {self.description}"
            )


def split_by_date(problems: Iterable[Problem], selection_end_date: str) -> SelectionSplit:
    """Problems dated on or before ``selection_end_date`` (YYYY-MM-DD) select; later ones report."""
    sel, rep = set(), set()
    for p in problems:
        (sel if p.contest_date[:10] <= selection_end_date else rep).add(p.question_id)
    return SelectionSplit(
        frozenset(sel),
        frozenset(rep),
        f"problems dated on or before {selection_end_date} select the best checkpoint ({len(sel)} problems); "
        f"later problems report it ({len(rep)} problems)",
    )


def apply_split(results: Iterable[CheckpointResult], split: SelectionSplit) -> list[CheckpointResult]:
    """The results with ``selection_pass1`` / ``report_pass1`` computed from ``per_problem`` over the split."""
    out = []
    for r in results:
        if r.ok:
            r = replace(r, selection_pass1=r.pass1_on(split.selection_ids), report_pass1=r.pass1_on(split.report_ids))
        out.append(r)
    return out


@dataclass(frozen=True)
class SweepReportInput:
    """Everything the report needs. ``results`` holds every evaluation trial, the base model's included
    (checkpoint ``"base"``). ``num_samples`` is the generation ``n``: 1 → exact McNemar, >1 → paired bootstrap.
    ``run_info`` holds deterministic facts (model, benchmark, backends, git commit); ``volatile`` holds timestamps
    and durations, written apart so that two identical runs give identical summaries when it is excluded.
    ``best_by_variant``: pass the sweep's own choice (e.g. from Tune's ResultGrid); ``None`` → :func:`choose_best`.
    ``timeline``: when each training and evaluation ran (the timeline plot; its times are volatile too).
    """

    results: Sequence[CheckpointResult]
    curves: Sequence[TrainingCurve]
    config_hash: str
    num_samples: int
    alpha: float
    bootstrap_samples: int
    bootstrap_seed: int
    split: Optional[SelectionSplit] = None
    contamination: Optional[ContaminationSummary] = None
    best_by_variant: Optional[Mapping[str, CheckpointResult]] = None
    run_info: Mapping[str, Any] = field(default_factory=dict)
    volatile: Mapping[str, Any] = field(default_factory=dict)
    benchmark: str = "LiveCodeBench"  # the benchmark's title: the report's heading names it
    timeline: Sequence[TimelineBar] = ()

    @property
    def base_result(self) -> Optional[CheckpointResult]:
        bases = [r for r in self.results if r.is_base]
        if len(bases) > 1:
            raise ValueError(f"{len(bases)} base-model results; expected at most one")
        return bases[0] if bases else None

    @property
    def variant_results(self) -> list[CheckpointResult]:
        """Non-base results, ordered by variant name then step."""
        return sorted((r for r in self.results if not r.is_base), key=lambda r: (r.variant, r.step, r.checkpoint))

    @property
    def variants(self) -> list[str]:
        return sorted({r.variant for r in self.results if not r.is_base} | {c.variant for c in self.curves})


# ------------------------------------------------------------------------------------------------------ selection
def _rank_key(r: CheckpointResult) -> tuple:
    score = r.selection_score
    assert score is not None
    val = r.val_loss if r.val_loss is not None and math.isfinite(r.val_loss) else math.inf
    return (-score, r.step, val, r.checkpoint, r.variant)


def choose_best(results: Iterable[CheckpointResult]) -> dict[str, CheckpointResult]:
    """Best checkpoint per variant (variant → result), variants in name order.

    Rule: highest Pass@1 on the selection problem set when a split is configured (``selection_pass1``), otherwise
    highest Pass@1 on all problems; ties are broken by the earlier step, then the lower validation loss (a missing
    one counts as worst), then the checkpoint name. The base model and failed evaluations are never chosen; a
    variant whose evaluations all failed has no best checkpoint.
    """
    candidates = [r for r in results if r.ok and not r.is_base]
    with_sel = {r.selection_pass1 is not None for r in candidates}
    if len(with_sel) > 1:
        raise ValueError("some results have selection_pass1 and some do not; apply the split to all of them")
    best: dict[str, CheckpointResult] = {}
    for r in sorted(candidates, key=_rank_key):
        best.setdefault(r.variant, r)
    return dict(sorted(best.items()))


def choose_best_overall(best_by_variant: Mapping[str, CheckpointResult]) -> Optional[CheckpointResult]:
    """The best of the variants' best checkpoints, by the same rule as :func:`choose_best`."""
    ranked = sorted(best_by_variant.values(), key=_rank_key)
    return ranked[0] if ranked else None
