"""The terminal table printed at the end of a sweep."""

from __future__ import annotations

from typing import Iterable, Mapping, Optional, Sequence

from .formatting import fmt_loss, pct
from .results import CheckpointResult, SelectionSplit


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
            scores = [pct(r.pass_at[1])]
        else:
            scores = [pct(r.pass1_on(split.report_ids)), pct(r.pass1_on(split.selection_ids)), pct(r.pass_at[1])]
        rows.append(
            [
                r.variant if not r.is_base else "(base model)",
                r.checkpoint,
                str(r.step),
                str(r.epoch),
                fmt_loss(r.val_loss),
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
