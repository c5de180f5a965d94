"""The end of a sweep: pick the best checkpoint per variant, compare them with paired tests, write ``summary.json``,
``report.md`` with PNG plots, and the terminal table.

Pure Python (statsmodels/scipy for statistics, matplotlib's object API for plots, imported lazily); no Ray, no torch.
The sweep turns its Tune results into :class:`CheckpointResult` records, bundles them into a
:class:`SweepReportInput` and calls :func:`write_report` (or the single writers).

Rules, in one place:

* The base model (checkpoint ``"base"``, step 0) is a baseline shared by all variants; it is never the best checkpoint
  of a variant.
* A failed evaluation (``status == "failed"``) is never the best checkpoint, never counts as Pass@1 = 0, and is left
  out of plots and comparisons; the report lists it with its failure reason.
* Best checkpoint per variant (:func:`choose_best`): highest Pass@1 on the selection problems when a
  selection/report split is configured (on all problems otherwise); ties broken by the earlier step, then the lower
  validation loss, then the checkpoint name.
* With a split, the best checkpoints are compared on the *report* problems only, which played no part in choosing
  them, so the reported numbers are not inflated by the selection.
* Comparisons (:func:`compare`): every pair of variants' best checkpoints, and each best checkpoint against the base
  model; exact McNemar on solved/unsolved when one sample per problem (n=1), paired bootstrap over problems of the
  per-problem pass@1 when n>1.
"""

from __future__ import annotations

import enum
import itertools
import json
import math
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Collection, Iterable, Mapping, Optional, Sequence

from .contamination import ContaminationSummary
from .fileio import atomic_write_text, file_mode  # atomic_write_text is re-exported
from .stats import Interval, PairedTest, format_p, holm_adjust, mcnemar_exact, paired_bootstrap, wilson_interval
from .types import BASE_CHECKPOINT_NAME, Problem

SUMMARY_SCHEMA = "codegen_ray.summary/1"
VOLATILE_KEY = "volatile"  # timestamps and durations: the only part of summary.json that differs between equal runs
PASS1_PLOT = "pass1_vs_step.png"
LOSS_PLOT = "loss_curves.png"
MATRIX_PLOT = "solved_matrix.png"
REPORT_MD = "report.md"
SUMMARY_JSON = "summary.json"


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


@dataclass(frozen=True)
class Comparison:
    """A paired test between two checkpoints over the same problems, with its sentence for the report."""

    a: str  # label, e.g. "deep's best"
    b: str
    a_key: str
    b_key: str
    test: PairedTest
    p_holm: float  # Holm-adjusted over all comparisons of the report
    problem_set: str  # "all" or "report"
    skipped_problems: int  # problems missing on one side (left out of the pairing)
    sentence: str


@dataclass(frozen=True)
class SweepAnalysis:
    best_by_variant: dict[str, CheckpointResult]
    best_overall: Optional[CheckpointResult]
    comparisons: tuple[Comparison, ...]


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


# ----------------------------------------------------------------------------------------------------- comparison
def compare(
    best_by_variant: Mapping[str, CheckpointResult],
    base: Optional[CheckpointResult],
    *,
    num_samples: int,
    alpha: float,
    bootstrap_samples: int,
    bootstrap_seed: int,
    problem_ids: Optional[Collection[str]] = None,
) -> list[Comparison]:
    """Paired tests between the best checkpoints of each pair of variants (name order), then each best checkpoint
    against the base model (when it was evaluated successfully). Pairs are formed over the problems both sides
    evaluated, restricted to ``problem_ids`` when given (the report problems of a selection/report split).
    n=1: exact McNemar on solved/unsolved; n>1: paired bootstrap of per-problem pass@1 (seeded)."""
    pairs: list[tuple[str, CheckpointResult, str, CheckpointResult]] = []
    names = sorted(best_by_variant)
    for x, y in itertools.combinations(names, 2):
        pairs.append((f"{x}'s best", best_by_variant[x], f"{y}'s best", best_by_variant[y]))
    if base is not None and base.ok:
        for x in names:
            pairs.append((f"{x}'s best", best_by_variant[x], "the base model", base))
    problem_set = "all" if problem_ids is None else "report"
    tests: list[tuple[str, CheckpointResult, str, CheckpointResult, PairedTest, int]] = []
    for a_label, a, b_label, b in pairs:
        if not (a.ok and b.ok):
            raise ValueError(f"cannot compare failed results ({a.key}, {b.key})")
        universe = set(a.per_problem) | set(b.per_problem)
        if problem_ids is not None:
            universe &= set(problem_ids)
        shared = sorted(q for q in universe if q in a.per_problem and q in b.per_problem)
        skipped = len(universe) - len(shared)
        xs = [a.per_problem[q] for q in shared]
        ys = [b.per_problem[q] for q in shared]
        if num_samples == 1:
            test = mcnemar_exact([v >= 0.5 for v in xs], [v >= 0.5 for v in ys], alpha=alpha)
        else:
            test = paired_bootstrap(xs, ys, n_boot=bootstrap_samples, seed=bootstrap_seed, alpha=alpha)
        tests.append((a_label, a, b_label, b, test, skipped))
    holm = holm_adjust([t[4].p_value for t in tests], alpha=alpha)
    out = []
    for (a_label, a, b_label, b, test, skipped), p_holm in zip(tests, holm):
        out.append(
            Comparison(
                a=a_label,
                b=b_label,
                a_key=a.key,
                b_key=b.key,
                test=test,
                p_holm=p_holm,
                problem_set=problem_set,
                skipped_problems=skipped,
                sentence=_sentence(a_label, b_label, test, problem_set, skipped),
            )
        )
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _sentence(a: str, b: str, t: PairedTest, problem_set: str, skipped: int) -> str:
    head = f"{a} ({_pct(t.mean_a)}) vs {b} ({_pct(t.mean_b)})"
    alpha = f"{t.alpha:g}"
    if t.n == 0:
        return f"{head}: no common problems to compare"
    if not t.significant:
        verdict = f"difference not significant at {alpha}"
    elif t.difference > 0:
        verdict = f"{a} is significantly better at {alpha}"
    else:
        verdict = f"{b} is significantly better at {alpha}"
    problems = f"{t.n} {'report ' if problem_set == 'report' else ''}problem{'s' if t.n != 1 else ''}"
    details = [f"{t.test} {format_p(t.p_value)}"]
    if t.ci is not None:
        details.append(
            f"{100 * (1 - t.alpha):g}% CI of the difference [{100 * t.ci.low:+.1f}, {100 * t.ci.high:+.1f}] points"
        )
    details.append(problems)
    if t.n_boot is not None:
        details.append(f"{t.n_boot} resamples")
    if skipped:
        details.append(f"{skipped} problem{'s' if skipped != 1 else ''} missing on one side left out")
    return f"{head}: {verdict} ({', '.join(details)})"


def analyse(inp: SweepReportInput) -> SweepAnalysis:
    """Best checkpoints (given or chosen) and all comparisons, computed once for every writer."""
    best = dict(sorted(inp.best_by_variant.items())) if inp.best_by_variant is not None else choose_best(inp.results)
    for v, r in best.items():
        if r.is_base or not r.ok:
            raise ValueError(f"best checkpoint of {v!r} is {r.key} ({r.status.value}); it must be an ok checkpoint")
    comparisons = compare(
        best,
        inp.base_result,
        num_samples=inp.num_samples,
        alpha=inp.alpha,
        bootstrap_samples=inp.bootstrap_samples,
        bootstrap_seed=inp.bootstrap_seed,
        problem_ids=inp.split.report_ids if inp.split is not None else None,
    )
    return SweepAnalysis(best, choose_best_overall(best), tuple(comparisons))


# -------------------------------------------------------------------------------------------------- summary.json


def _num(x: Optional[float]) -> Optional[float]:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _interval(iv: Optional[Interval]) -> Optional[list[float]]:
    return None if iv is None else [iv.low, iv.high]


def result_to_dict(r: CheckpointResult, alpha: float, split: Optional[SelectionSplit] = None) -> dict[str, Any]:
    d: dict[str, Any] = {
        "key": r.key,
        "variant": r.variant,
        "checkpoint": r.checkpoint,
        "step": r.step,
        "epoch": r.epoch,
        "status": r.status.value,
        "failure": r.failure,
        "train_loss": _num(r.train_loss),
        "val_loss": _num(r.val_loss),
        "pass@1": _num(r.pass1),
        "pass_at": {str(k): _num(v) for k, v in sorted(r.pass_at.items())},
        "solved": r.solved if r.ok else None,
        "total": r.total if r.ok else None,
        "pass1_wilson": _interval(r.wilson(alpha)) if r.ok else None,
        "selection_pass1": _num(r.selection_pass1),
        "report_pass1": _num(r.report_pass1),
        "backend": r.backend,
        "isolation": r.isolation,
        "per_problem": {q: _num(v) for q, v in sorted(r.per_problem.items())},
    }
    if split is not None and r.ok:
        d["selection_pass1_wilson"] = _interval(r.wilson(alpha, split.selection_ids))
        d["report_pass1_wilson"] = _interval(r.wilson(alpha, split.report_ids))
    return d


def result_from_dict(d: Mapping[str, Any]) -> CheckpointResult:
    """Inverse of :func:`result_to_dict` (derived fields such as intervals and ``key`` are ignored): lets the
    sweep keep finished evaluations as JSON and rebuild the records on resume."""
    return CheckpointResult(
        variant=d["variant"],
        checkpoint=d["checkpoint"],
        step=int(d["step"]),
        epoch=int(d["epoch"]),
        val_loss=d.get("val_loss"),
        train_loss=d.get("train_loss"),
        pass_at={int(k): float(v) for k, v in (d.get("pass_at") or {}).items()},
        solved=int(d.get("solved") or 0),
        total=int(d.get("total") or 0),
        per_problem={str(q): float(v) for q, v in (d.get("per_problem") or {}).items()},
        status=EvalStatus(d.get("status", "ok")),
        failure=d.get("failure"),
        backend=d.get("backend", ""),
        isolation=d.get("isolation", ""),
        selection_pass1=d.get("selection_pass1"),
        report_pass1=d.get("report_pass1"),
    )


def _comparison_to_dict(c: Comparison) -> dict[str, Any]:
    t = c.test
    return {
        "a": c.a,
        "b": c.b,
        "a_key": c.a_key,
        "b_key": c.b_key,
        "test": t.test,
        "problems": t.n,
        "problem_set": c.problem_set,
        "skipped_problems": c.skipped_problems,
        "mean_a": _num(t.mean_a),
        "mean_b": _num(t.mean_b),
        "difference": _num(t.difference),
        "b01": t.b01,
        "b10": t.b10,
        "p_value": _num(t.p_value),
        "p_holm": _num(c.p_holm),
        "alpha": t.alpha,
        "significant": t.significant,
        "difference_ci": _interval(t.ci),
        "bootstrap_samples": t.n_boot,
        "sentence": c.sentence,
    }


def build_summary(inp: SweepReportInput, analysis: Optional[SweepAnalysis] = None) -> dict[str, Any]:
    """The deterministic part of ``summary.json`` (everything except the ``volatile`` field)."""
    an = analysis or analyse(inp)
    best_keys = {r.key for r in an.best_by_variant.values()}
    base = inp.base_result
    checkpoints = []
    for r in inp.variant_results:
        d = result_to_dict(r, inp.alpha, inp.split)
        d["is_best"] = r.key in best_keys
        checkpoints.append(d)
    return {
        "schema": SUMMARY_SCHEMA,
        "config_hash": inp.config_hash,
        "run_info": _jsonable(inp.run_info),
        "statistics": {
            "alpha": inp.alpha,
            "num_samples": inp.num_samples,
            "test": "exact McNemar" if inp.num_samples == 1 else "paired bootstrap",
            "bootstrap_samples": inp.bootstrap_samples if inp.num_samples > 1 else None,
            "bootstrap_seed": inp.bootstrap_seed if inp.num_samples > 1 else None,
            "interval": "Wilson score",
            "multiple_comparisons": "p_holm: Holm-adjusted over the comparisons listed",
        },
        "selection": None
        if inp.split is None
        else {
            "description": inp.split.description,
            "selection_problems": sorted(inp.split.selection_ids),
            "report_problems": sorted(inp.split.report_ids),
        },
        "best_rule": "highest Pass@1 on the selection problems (all problems without a split); ties: earlier step, "
        "then lower val loss; base model and failed evaluations never chosen",
        "base": None if base is None else result_to_dict(base, inp.alpha, inp.split),
        "checkpoints": checkpoints,
        "failed": sorted(r.key for r in inp.results if not r.ok),
        "best_by_variant": {v: r.key for v, r in an.best_by_variant.items()},
        "best_overall": None if an.best_overall is None else an.best_overall.key,
        "comparisons": [_comparison_to_dict(c) for c in an.comparisons],
        "contamination": None if inp.contamination is None else inp.contamination.to_dict(),
        "curves": {
            c.variant: {
                "steps": list(c.steps),
                "train_loss": [_num(x) for x in c.train_loss],
                "val_steps": list(c.val_steps),
                "val_loss": [_num(x) for x in c.val_loss],
            }
            for c in sorted(inp.curves, key=lambda c: c.variant)
        },
    }


def _jsonable(value: Any) -> Any:
    """Plain JSON values (non-finite floats → null; paths, enums → strings), dict keys as strings."""
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    return str(value)


def dumps_summary(summary: Mapping[str, Any]) -> str:
    return json.dumps(_jsonable(summary), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def write_summary_json(
    path: str | Path, inp: SweepReportInput, analysis: Optional[SweepAnalysis] = None
) -> Path:
    """Write ``summary.json`` atomically, keys sorted. Timestamps and durations (``inp.volatile``) go under the
    top-level ``"volatile"`` key only; :func:`load_summary` drops it by default, so equal runs compare equal."""
    summary = build_summary(inp, analysis)
    summary[VOLATILE_KEY] = _jsonable(inp.volatile)
    return atomic_write_text(path, dumps_summary(summary))


def load_summary(path: str | Path, include_volatile: bool = False) -> dict[str, Any]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not include_volatile:
        data.pop(VOLATILE_KEY, None)
    return data


# ------------------------------------------------------------------------------------------------ terminal table
def _fmt_loss(x: Optional[float]) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.4f}"


def format_table(
    results: Iterable[CheckpointResult],
    best: Mapping[str, CheckpointResult],
    split: Optional[SelectionSplit] = None,
) -> str:
    """The end-of-run table: base model first, then each variant's checkpoints by step; ``*`` marks the best
    checkpoint of each variant. Failed evaluations show ``FAILED`` (not 0) and their reasons below the table.

    With a selection/report ``split`` (``results`` passed through :func:`apply_split`) the headline column is
    ``report Pass@1`` — the problems that played no part in choosing the best — followed by the selection-problem
    Pass@1 that chose it and the Pass@1 on all problems, each labelled below the table."""
    results = list(results)
    best_keys = {r.key for r in best.values()}
    ordered = [r for r in results if r.is_base] + sorted(
        (r for r in results if not r.is_base), key=lambda r: (r.variant, r.step, r.checkpoint)
    )
    if split is None:
        score_header = ["Pass@1"]
    else:
        score_header = ["report Pass@1", "selection Pass@1", "all Pass@1"]
    header = ["variant", "checkpoint", "step", "epoch", "val loss", *score_header, "solved/total", "best"]
    rows = []
    for r in ordered:
        if not r.ok:
            scores = ["FAILED"] + ["-"] * (len(score_header) - 1)
        elif split is None:
            scores = [_pct(r.pass_at[1])]
        else:
            scores = [_pct(r.pass1_on(split.report_ids)), _pct(r.pass1_on(split.selection_ids)), _pct(r.pass_at[1])]
        rows.append(
            [
                r.variant if not r.is_base else "(base model)",
                r.checkpoint,
                str(r.step),
                str(r.epoch),
                _fmt_loss(r.val_loss),
                *scores,
                f"{r.solved}/{r.total}" if r.ok else "-",
                "*" if r.key in best_keys else "",
            ]
        )
    numeric = set(range(2, len(header) - 1))
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) if rows else len(header[i])
              for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out = [line(header).rstrip(), "  ".join("-" * w for w in widths)]
    out += [line(row).rstrip() for row in rows]
    failed = [r for r in ordered if not r.ok]
    if failed:
        out.append("")
        out += [f"FAILED {r.key}: {r.failure}" for r in failed]
        out.append("Failed evaluations are not scored (not counted as Pass@1 = 0) and are never chosen as best.")
    if split is not None:
        total = len(split.selection_ids) + len(split.report_ids)
        out.append(f"report Pass@1: on the {len(split.report_ids)} report problems, which played no part in choosing "
                   "the best (the number to quote)")
        out.append(f"selection Pass@1: on the {len(split.selection_ids)} selection problems, which chose it; "
                   f"all Pass@1 and solved/total: on all {total} problems")
    if best:
        out.append("* best checkpoint of its variant" + (" (highest selection Pass@1)" if split is not None else ""))
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------------------------------------- plots
@dataclass(frozen=True)
class ReportFiles:
    report_md: Optional[Path]
    summary_json: Optional[Path]
    plots: tuple[Path, ...]


def _save(fig: Any, path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _colors(variants: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return {v: cmap(i % 10) for i, v in enumerate(variants)}


def plot_pass1(path: Path, inp: SweepReportInput, analysis: SweepAnalysis) -> Path:
    """Pass@1 vs step per variant with Wilson error bars, the base model as a dashed line with its band, the best
    checkpoints starred. With a split: one panel for the selection problems, one for the report problems."""
    from matplotlib.figure import Figure

    panels: list[tuple[str, Optional[Collection[str]]]]
    if inp.split is None:
        panels = [("all problems", None)]
    else:
        panels = [
            (f"selection problems ({len(inp.split.selection_ids)})", inp.split.selection_ids),
            (f"report problems ({len(inp.split.report_ids)})", inp.split.report_ids),
        ]
    fig = Figure(figsize=(6.4 * len(panels), 4.8), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    colors = _colors(inp.variants)
    best_keys = {r.key for r in analysis.best_by_variant.values()}
    base = inp.base_result
    level = f"{100 * (1 - inp.alpha):g}%"
    all_steps = [r.step for r in inp.results if r.ok] or [0]
    dodge = 0.012 * max(1, max(all_steps) - min(all_steps))  # side by side, so error bars at one step don't hide
    for ax, (title, ids) in zip(axes, panels):
        for vi, variant in enumerate(inp.variants):
            rs = [r for r in inp.variant_results if r.variant == variant and r.ok]
            if base is not None and base.ok:
                rs = [base] + rs  # every variant starts from the base model at step 0
            if not rs:
                continue
            ys = [100 * (r.pass1 if ids is None else r.pass1_on(ids)) for r in rs]
            ivs = [r.wilson(inp.alpha, ids) for r in rs]
            # Clamped at 0: at Pass@1 = 0 or 1 the Wilson bound equals the estimate up to rounding error.
            lo = [max(0.0, y - 100 * iv.low) for y, iv in zip(ys, ivs)]
            hi = [max(0.0, 100 * iv.high - y) for y, iv in zip(ys, ivs)]
            xs = [r.step + (vi - (len(inp.variants) - 1) / 2) * dodge for r in rs]
            ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, color=colors[variant], label=variant)
            for r, x, y in zip(rs, xs, ys):
                if r.key in best_keys:
                    ax.plot([x], [y], marker="*", markersize=16, color=colors[variant], markeredgecolor="black")
        if base is not None and base.ok:
            y = 100 * (base.pass1 if ids is None else base.pass1_on(ids))
            iv = base.wilson(inp.alpha, ids)
            ax.axhline(y, color="grey", linestyle="--", label=f"base model ({y:.1f}%)")
            ax.axhspan(100 * iv.low, 100 * iv.high, color="grey", alpha=0.12)
        ax.set_title(f"Pass@1 on {title}")
        ax.set_xlabel("training step")
        ax.set_ylabel(f"Pass@1 (%), {level} Wilson interval")
        ax.set_ylim(-2, 102)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    failed = [r.key for r in inp.results if not r.ok]
    fig.suptitle(
        "Pass@1 vs training step (★ best checkpoint of each variant)"
        + (f"\nfailed, not plotted: {', '.join(failed)}" if failed else ""),
        fontsize=10,
    )
    return _save(fig, path)


def plot_losses(path: Path, inp: SweepReportInput) -> Path:
    """Train loss (solid) and validation loss (dashed, markers) per variant against the training step."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 4.6))
    ax = fig.subplots()
    colors = _colors(inp.variants)
    for c in sorted(inp.curves, key=lambda c: c.variant):
        if c.steps:
            ax.plot(list(c.steps), list(c.train_loss), color=colors[c.variant], label=f"{c.variant} train")
        if c.val_steps:
            ax.plot(
                list(c.val_steps), list(c.val_loss), color=colors[c.variant], linestyle="--", marker="o",
                label=f"{c.variant} val",
            )
    if not inp.curves:
        ax.text(0.5, 0.5, "no training curves recorded", ha="center", va="center", transform=ax.transAxes)
    ax.set_title("Training and validation loss")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3)
    if inp.curves:
        ax.legend(loc="best", fontsize=8)
    return _save(fig, path)


def plot_solved_matrix(path: Path, inp: SweepReportInput, analysis: SweepAnalysis) -> Path:
    """Heatmap of per-problem pass@1: problems (rows) × checkpoints (columns: base, then each variant by step).
    Failed evaluations are grey columns. With a split, selection problems come first, separated by a line."""
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    base = inp.base_result
    cols = ([base] if base is not None else []) + inp.variant_results
    qids = sorted({q for r in cols for q in r.per_problem})
    solved_count = {q: sum(r.per_problem.get(q, 0.0) for r in cols if r.ok) for q in qids}
    if inp.split is not None:
        group = {q: (0 if q in inp.split.selection_ids else 1) for q in qids}
    else:
        group = {q: 0 for q in qids}
    qids.sort(key=lambda q: (group[q], -solved_count[q], q))
    mat = np.full((max(len(qids), 1), max(len(cols), 1)), np.nan)
    for j, r in enumerate(cols):
        if r.ok:
            for i, q in enumerate(qids):
                if q in r.per_problem:
                    mat[i, j] = r.per_problem[q]
    height = min(40.0, max(3.0, 0.18 * len(qids) + 1.8))
    width = min(40.0, max(5.0, 0.45 * len(cols) + 3.0))
    fig = Figure(figsize=(width, height))
    ax = fig.subplots()
    cmap = colormaps["Greens"].with_extremes(bad="lightgrey")
    im = ax.imshow(np.ma.masked_invalid(mat), aspect="auto", cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    best_keys = {r.key for r in analysis.best_by_variant.values()}
    labels = [
        ("★ " if r.key in best_keys else "")
        + ("base model" if r.is_base else f"{r.variant} step {r.step}")
        + ("" if r.ok else " (failed)")
        for r in cols
    ]
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels(labels, rotation=45, ha="right", rotation_mode="anchor", fontsize=8)
    fontsize = 7 if len(qids) <= 60 else 5
    if len(qids) <= 150:
        ax.set_yticks(range(len(qids)))
        ax.set_yticklabels(qids, fontsize=fontsize)
    else:
        ax.set_ylabel(f"{len(qids)} problems")
    if inp.split is not None:
        n_sel = sum(1 for q in qids if group[q] == 0)
        if 0 < n_sel < len(qids):
            ax.axhline(n_sel - 0.5, color="black", linewidth=1.5)
            ax.set_ylabel(f"selection problems ({n_sel}) above the line, report problems ({len(qids) - n_sel}) below")
    ax.set_xticks(np.arange(-0.5, len(cols), 1), minor=True)
    ax.set_yticks(np.arange(-0.5, len(qids), 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    cbar = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    cbar.set_label("per-problem pass@1 (1 = solved)")
    ax.set_title("Per-problem pass@1 by checkpoint (★ best of its variant; grey: failed evaluation)", fontsize=10)
    return _save(fig, path)


def write_plots(directory: str | Path, inp: SweepReportInput, analysis: Optional[SweepAnalysis] = None) -> list[Path]:
    directory = Path(directory)
    an = analysis or analyse(inp)
    return [
        plot_pass1(directory / PASS1_PLOT, inp, an),
        plot_losses(directory / LOSS_PLOT, inp),
        plot_solved_matrix(directory / MATRIX_PLOT, inp, an),
    ]


# ------------------------------------------------------------------------------------------------------ report.md
def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Collection[int] = ()) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(header))]

    def esc(s: Any) -> str:
        return str(s).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(esc(h) for h in header) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return out


def _ci(iv: Optional[Interval]) -> str:
    return "-" if iv is None else f"[{100 * iv.low:.1f}, {100 * iv.high:.1f}]"


def render_report_md(inp: SweepReportInput, analysis: Optional[SweepAnalysis] = None, plots: Sequence[str] = ()) -> str:
    an = analysis or analyse(inp)
    best_keys = {r.key for r in an.best_by_variant.values()}
    level = f"{100 * (1 - inp.alpha):g}%"
    ks = sorted({k for r in inp.results if r.ok for k in r.pass_at if k != 1})
    split = inp.split
    L: list[str] = ["# LiveCodeBench sweep report", ""]
    L.append(f"- Config hash: `{inp.config_hash}`")
    for key, value in sorted(inp.run_info.items()):
        L.append(f"- {key}: {value}")
    L.append(f"- Samples per problem (n): {inp.num_samples}")
    backends = sorted({r.backend for r in inp.results if r.ok and r.backend})
    isolations = sorted({r.isolation for r in inp.results if r.ok and r.isolation})
    if backends:
        L.append(f"- Generation backend: {', '.join(backends)}")
    if isolations:
        L.append(f"- Execution isolation: {', '.join(isolations)}")
    if an.best_overall is not None:
        b = an.best_overall
        if split is None:
            L.append(f"- **Best overall: {b.key}** (Pass@1 {_pct(b.pass1)})")
        else:
            L.append(
                f"- **Best overall: {b.key}** (chosen on the selection problems: Pass@1 "
                f"{_pct(b.pass1_on(split.selection_ids))}; reported on the report problems: "
                f"{_pct(b.pass1_on(split.report_ids))})"
            )
    L.append("")

    # checkpoints
    L += ["## All checkpoints", ""]
    header = ["variant", "checkpoint", "step", "epoch", "train loss", "val loss", "Pass@1", f"{level} Wilson CI",
              "solved/total"]
    header += [f"pass@{k}" for k in ks]
    if split is not None:
        header += ["selection Pass@1", "report Pass@1", f"report {level} CI"]
    header += ["best"]
    rows = []
    base = inp.base_result
    for r in ([base] if base is not None else []) + inp.variant_results:
        if r.ok:
            row = [r.variant if not r.is_base else "(base model)", r.checkpoint, str(r.step), str(r.epoch),
                   _fmt_loss(r.train_loss), _fmt_loss(r.val_loss), _pct(r.pass1), _ci(r.wilson(inp.alpha)),
                   f"{r.solved}/{r.total}"]
            row += [_pct(r.pass_at[k]) if k in r.pass_at else "-" for k in ks]
            if split is not None:
                row += [_pct(r.pass1_on(split.selection_ids)), _pct(r.pass1_on(split.report_ids)),
                        _ci(r.wilson(inp.alpha, split.report_ids))]
        else:
            row = [r.variant if not r.is_base else "(base model)", r.checkpoint, str(r.step), str(r.epoch),
                   _fmt_loss(r.train_loss), _fmt_loss(r.val_loss), "FAILED", "-", "-"]
            row += ["-" for _ in ks] + (["-", "-", "-"] if split is not None else [])
        row.append("**best**" if r.key in best_keys else "")
        rows.append(row)
    L += _md_table(header, rows, right=set(range(2, len(header) - 1)))
    L.append("")
    L.append(
        f"Intervals are {level} Wilson score intervals over problems"
        + (" (pass@1 × problems as the success count, since n > 1)" if inp.num_samples > 1 else "")
        + "."
    )
    failed = [r for r in inp.results if not r.ok]
    if failed:
        L += ["", "Failed evaluations (not scored, not counted as Pass@1 = 0, never chosen as best):", ""]
        L += [f"- `{r.key}`: {r.failure}" for r in failed]
    L.append("")

    # best
    L += ["## Best checkpoint per variant", ""]
    L.append(
        "Rule: highest Pass@1 on the " + ("selection problems" if split is not None else "benchmark problems")
        + "; ties broken by the earlier step, then the lower validation loss. The base model is a baseline, never a "
        "variant's best; failed evaluations are never chosen."
    )
    L.append("")
    bh = ["variant", "checkpoint", "step", "epoch"]
    if split is not None:
        bh += ["selection Pass@1", "report Pass@1", f"report {level} CI"]
    else:
        bh += ["Pass@1", f"{level} CI"]
    brows = []
    for v, r in an.best_by_variant.items():
        row = [v, r.checkpoint, str(r.step), str(r.epoch)]
        if split is not None:
            row += [_pct(r.pass1_on(split.selection_ids)), _pct(r.pass1_on(split.report_ids)),
                    _ci(r.wilson(inp.alpha, split.report_ids))]
        else:
            row += [_pct(r.pass1), _ci(r.wilson(inp.alpha))]
        brows.append(row)
    no_best = [v for v in inp.variants if v not in an.best_by_variant]
    if brows:
        L += _md_table(bh, brows, right={2, 3, 4, 5, 6})
    else:
        L.append("No variant has a successfully evaluated checkpoint.")
    if no_best:
        L += ["", f"No best checkpoint (every evaluation failed or none ran): {', '.join(no_best)}."]
    L.append("")

    # split
    L += ["## Selection and report problems", ""]
    if split is None:
        L.append(
            "No selection/report split is configured: the best checkpoints are chosen and reported on the same "
            "problems, so their Pass@1 is optimistically biased by the choice (set `benchmark.selection_end_date`)."
        )
    else:
        L.append(
            f"Split: {split.description}. The best checkpoint of each variant is chosen on the "
            f"{len(split.selection_ids)} selection problems and reported, and compared, on the "
            f"{len(split.report_ids)} report problems, which played no part in the choice — the reported Pass@1 is "
            "therefore not inflated by picking the luckiest checkpoint."
        )
    L.append("")

    # statistics
    L += ["## Statistics", ""]
    if inp.num_samples == 1:
        L.append(
            "Paired test over problems: exact McNemar test on solved/unsolved (one sample per problem), two-sided, "
            f"significance level {inp.alpha:g}."
        )
    else:
        L.append(
            f"Paired test over problems: paired bootstrap ({inp.bootstrap_samples} resamples, seed "
            f"{inp.bootstrap_seed}) of the difference in per-problem pass@1 ({inp.num_samples} samples per problem), "
            f"two-sided, significance level {inp.alpha:g}."
        )
    L.append("")
    if an.comparisons:
        L += [f"- {c.sentence}." for c in an.comparisons]
        L.append("")
        ch = ["A", "B", "problems", "A Pass@1", "B Pass@1", "only A solved", "only B solved", "p", "p (Holm)",
              f"significant at {inp.alpha:g}"]
        if inp.num_samples > 1:
            ch[5], ch[6] = "A better", "B better"
        crow = [
            [f"{c.a} ({c.a_key})", f"{c.b} ({c.b_key})", str(c.test.n), _pct(c.test.mean_a), _pct(c.test.mean_b),
             str(c.test.b10), str(c.test.b01), f"{c.test.p_value:.4g}", f"{c.p_holm:.4g}",
             "yes" if c.test.significant else "no"]
            for c in an.comparisons
        ]
        L += _md_table(ch, crow, right={2, 3, 4, 5, 6, 7, 8})
        L.append("")
        L.append(
            "The sentences use each test's own p-value; with several comparisons, the Holm-adjusted p-value is the "
            "one that controls the chance of any false positive across the whole table."
        )
    else:
        L.append("No comparisons: fewer than two variants with a best checkpoint and no evaluated base model.")
    L.append("")

    # contamination
    L += ["## Contamination", ""]
    cs = inp.contamination
    if cs is None:
        L.append("No contamination check was run.")
    else:
        L.append(
            f"Training rows sharing a {cs.ngram}-token n-gram (normalised text) with any of the {cs.statements} "
            "benchmark problem statements"
            + (" — these rows were **dropped** before training." if cs.dropped else " (kept in training).")
        )
        L.append("")
        crows = [
            [v, str(cs.rows_checked.get(v, 0)), str(cs.rows_flagged.get(v, 0)), str(cs.problems_hit.get(v, 0))]
            for v in sorted(cs.rows_checked)
        ]
        L += _md_table(["variant", "rows checked", "rows flagged", "problems touched"], crows, right={1, 2, 3})
        if cs.artifact:
            L += ["", f"Listing: [{cs.artifact}]({cs.artifact})"]
    L.append("")

    # plots
    if plots:
        L += ["## Plots", ""]
        titles = {PASS1_PLOT: "Pass@1 vs step", LOSS_PLOT: "Loss curves", MATRIX_PLOT: "Per-problem solved matrix"}
        for p in plots:
            L += [f"### {titles.get(Path(p).name, Path(p).stem)}", "", f"![{titles.get(Path(p).name, p)}]({p})", ""]
    return "\n".join(L).rstrip() + "\n"


def write_report_md(
    directory: str | Path, inp: SweepReportInput, analysis: Optional[SweepAnalysis] = None, with_plots: bool = True
) -> ReportFiles:
    """Write ``report.md`` (and, unless ``with_plots`` is false, the PNG plots it links) into ``directory``."""
    directory = Path(directory)
    an = analysis or analyse(inp)
    plots = write_plots(directory, inp, an) if with_plots else []
    text = render_report_md(inp, an, [p.name for p in plots])
    md = atomic_write_text(directory / REPORT_MD, text)
    return ReportFiles(report_md=md, summary_json=None, plots=tuple(plots))


def write_report(directory: str | Path, inp: SweepReportInput) -> ReportFiles:
    """``summary.json``, ``report.md`` and the plots into ``directory``, all from one analysis."""
    directory = Path(directory)
    an = analyse(inp)
    summary = write_summary_json(directory / SUMMARY_JSON, inp, an)
    files = write_report_md(directory, inp, an)
    return ReportFiles(report_md=files.report_md, summary_json=summary, plots=files.plots)
