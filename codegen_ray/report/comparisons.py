"""Paired comparisons of the best checkpoints (each pair of variants, each against the base model) and the analysis
every writer shares (:func:`analyse`: best checkpoints and comparisons, computed once)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Collection, Mapping, Optional

from ..stats import PairedTest, format_p, holm_adjust, mcnemar_exact, paired_bootstrap
from .formatting import pct
from .results import CheckpointResult, SweepReportInput, choose_best, choose_best_overall


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
    """``comparisons``: on the report problems when there is a selection/report split (the unbiased ones), else on
    all problems. ``comparisons_all``: with a split only, the same tests on all problems: more power, but the
    selection problems that chose each best checkpoint are among them, so they lean optimistic."""

    best_by_variant: dict[str, CheckpointResult]
    best_overall: Optional[CheckpointResult]
    comparisons: tuple[Comparison, ...]
    comparisons_all: tuple[Comparison, ...] = ()


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


def _sentence(a: str, b: str, t: PairedTest, problem_set: str, skipped: int) -> str:
    head = f"{a} ({pct(t.mean_a)}) vs {b} ({pct(t.mean_b)})"
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
    def tests(problem_ids: Optional[Collection[str]]) -> tuple[Comparison, ...]:
        return tuple(compare(best, inp.base_result, num_samples=inp.num_samples, alpha=inp.alpha,
                             bootstrap_samples=inp.bootstrap_samples, bootstrap_seed=inp.bootstrap_seed,
                             problem_ids=problem_ids))

    if inp.split is None:
        return SweepAnalysis(best, choose_best_overall(best), tests(None))
    return SweepAnalysis(best, choose_best_overall(best), tests(inp.split.report_ids), tests(None))
