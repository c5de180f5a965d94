"""The PNG plots of the report (matplotlib's object API, imported lazily; never pyplot)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Collection, Optional, Sequence

from ..fileio import file_mode
from .comparisons import SweepAnalysis, analyse
from .results import SweepReportInput
from .timeline import WorkKind, idle_spans, timeline_rows

PASS1_PLOT = "pass1_vs_step.png"
LOSS_PLOT = "loss_curves.png"
MATRIX_PLOT = "solved_matrix.png"
TIMELINE_PLOT = "timeline.png"


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


def plot_timeline(path: Path, inp: SweepReportInput) -> Path:
    """One lane per piece of work (training per variant, then evaluation per checkpoint and the base model), a bar
    from its recorded start to its end in seconds since the first start (``timeline.timeline_rows``); the spans in
    which nothing ran (``timeline.idle_spans``) shaded red. Work reused from an earlier sweep is hatched."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    rows = timeline_rows(inp.timeline)
    idle = idle_spans(inp.timeline)
    variants = sorted({r.variant for r in rows if r.variant != "base"} | set(inp.variants))
    colors = {**_colors(variants), "base": "grey"}
    fig = Figure(figsize=(9.0, min(30.0, max(2.8, 0.28 * len(rows) + 1.6))), layout="constrained")
    ax = fig.subplots()
    for y, r in enumerate(rows):
        ax.barh(y, r.span.end_s - r.span.start_s, left=r.span.start_s, height=0.7, color=colors.get(r.variant, "grey"),
                alpha=1.0 if r.kind is WorkKind.TRAINING else 0.6, hatch="//" if r.reused else None,
                edgecolor="black", linewidth=0.4)
    for gap in idle:
        ax.axvspan(gap.start_s, gap.end_s, color="red", alpha=0.12)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r.label + (" (reused)" if r.reused else "") for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the first recorded start")
    ax.grid(True, axis="x", alpha=0.3)
    span = max((r.span.end_s for r in rows), default=0.0)
    idle_s = sum(g.end_s - g.start_s for g in idle)
    ax.set_title(f"Work over time: {span:.0f} s from first start to last end, {idle_s:.0f} s with nothing running",
                 fontsize=10)
    handles = [Patch(facecolor=colors[v], label=v) for v in variants]
    if any(r.variant == "base" for r in rows):
        handles.append(Patch(facecolor="grey", label="base model"))
    handles.append(Patch(facecolor="red", alpha=0.12, label="nothing running"))
    if any(r.reused for r in rows):
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="//", label="reused (earlier sweep)"))
    ax.legend(handles=handles, loc="best", fontsize=7)
    return _save(fig, path)


def write_plots(directory: str | Path, inp: SweepReportInput, analysis: Optional[SweepAnalysis] = None) -> list[Path]:
    """The report's plots; the timeline only when the input records when work ran."""
    directory = Path(directory)
    an = analysis or analyse(inp)
    plots = [
        plot_pass1(directory / PASS1_PLOT, inp, an),
        plot_losses(directory / LOSS_PLOT, inp),
        plot_solved_matrix(directory / MATRIX_PLOT, inp, an),
    ]
    if inp.timeline:
        plots.append(plot_timeline(directory / TIMELINE_PLOT, inp))
    return plots
