"""``report.md``: the human-readable report (tables, the selection/report split, statistics, contamination, plots)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Collection, Optional, Sequence

from ..stats import Interval
from .comparisons import Comparison, SweepAnalysis, analyse
from .formatting import fmt_loss, pct
from .plots import LOSS_PLOT, MATRIX_PLOT, PASS1_PLOT, TIMELINE_PLOT
from .results import SweepReportInput

REPORT_MD = "report.md"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Collection[int] = ()) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(header))]

    def esc(s: Any) -> str:
        return str(s).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(esc(h) for h in header) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return out


def _ci(iv: Optional[Interval]) -> str:
    return "-" if iv is None else f"[{100 * iv.low:.1f}, {100 * iv.high:.1f}]"


def _comparison_lines(comparisons: Sequence[Comparison], inp: SweepReportInput) -> list[str]:
    """One sentence per comparison, then their table (and a blank line)."""
    L = [f"- {c.sentence}." for c in comparisons] + [""]
    ch = ["A", "B", "problems", "A Pass@1", "B Pass@1", "only A solved", "only B solved", "p", "p (Holm)",
          f"significant at {inp.alpha:g}"]
    if inp.num_samples > 1:
        ch[5], ch[6] = "A better", "B better"
    crow = [
        [f"{c.a} ({c.a_key})", f"{c.b} ({c.b_key})", str(c.test.n), pct(c.test.mean_a), pct(c.test.mean_b),
         str(c.test.b10), str(c.test.b01), f"{c.test.p_value:.4g}", f"{c.p_holm:.4g}",
         "yes" if c.test.significant else "no"]
        for c in comparisons
    ]
    return L + _md_table(ch, crow, right={2, 3, 4, 5, 6, 7, 8}) + [""]


def render_report_md(inp: SweepReportInput, analysis: Optional[SweepAnalysis] = None, plots: Sequence[str] = ()) -> str:
    an = analysis or analyse(inp)
    best_keys = {r.key for r in an.best_by_variant.values()}
    level = f"{100 * (1 - inp.alpha):g}%"
    ks = sorted({k for r in inp.results if r.ok for k in r.pass_at if k != 1})
    split = inp.split
    L: list[str] = [f"# {inp.benchmark} sweep report", ""]
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
            L.append(f"- **Best overall: {b.key}** (Pass@1 {pct(b.pass1)})")
        else:
            L.append(
                f"- **Best overall: {b.key}** (chosen on the selection problems: Pass@1 "
                f"{pct(b.pass1_on(split.selection_ids))}; reported on the report problems: "
                f"{pct(b.pass1_on(split.report_ids))})"
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
                   fmt_loss(r.train_loss), fmt_loss(r.val_loss), pct(r.pass1), _ci(r.wilson(inp.alpha)),
                   f"{r.solved}/{r.total}"]
            row += [pct(r.pass_at[k]) if k in r.pass_at else "-" for k in ks]
            if split is not None:
                row += [pct(r.pass1_on(split.selection_ids)), pct(r.pass1_on(split.report_ids)),
                        _ci(r.wilson(inp.alpha, split.report_ids))]
        else:
            row = [r.variant if not r.is_base else "(base model)", r.checkpoint, str(r.step), str(r.epoch),
                   fmt_loss(r.train_loss), fmt_loss(r.val_loss), "FAILED", "-", "-"]
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
            row += [pct(r.pass1_on(split.selection_ids)), pct(r.pass1_on(split.report_ids)),
                    _ci(r.wilson(inp.alpha, split.report_ids))]
        else:
            row += [pct(r.pass1), _ci(r.wilson(inp.alpha))]
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
        L += _comparison_lines(an.comparisons, inp)
        L.append(
            "The sentences use each test's own p-value; with several comparisons, the Holm-adjusted p-value is the "
            "one that controls the chance of any false positive across the whole table."
        )
        if an.comparisons_all:
            L += ["", "### The same tests on all problems", "",
                  f"All {an.comparisons_all[0].test.n} problems, the selection problems that chose each best "
                  "checkpoint included: more power than the report problems alone, but leaning optimistic for the "
                  "fine-tuned side (Holm-adjusted within this table).", ""]
            L += _comparison_lines(an.comparisons_all, inp)[:-1]
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
        titles = {PASS1_PLOT: "Pass@1 vs step", LOSS_PLOT: "Loss curves", MATRIX_PLOT: "Per-problem solved matrix",
                  TIMELINE_PLOT: "Timeline: training and evaluation over time"}
        for p in plots:
            L += [f"### {titles.get(Path(p).name, Path(p).stem)}", "", f"![{titles.get(Path(p).name, p)}]({p})", ""]
    return "\n".join(L).rstrip() + "\n"
