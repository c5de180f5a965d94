"""The sweep's work over time: one bar per piece of work (a variant's training, a checkpoint's evaluation) from its
recorded :class:`~codegen_ray.types.WorkInterval`, and the spans in which no work ran (the cluster sat idle).

What the timeline plot (``plots.plot_timeline``) draws is :func:`timeline_rows` and :func:`idle_spans`; the bars'
absolute times go into ``summary.json``'s ``volatile`` part (:func:`timeline_to_dicts`), never its deterministic one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Sequence

from ..types import WorkInterval


class WorkKind(str, enum.Enum):
    TRAINING = "training"
    EVALUATION = "evaluation"


@dataclass(frozen=True)
class TimelineBar:
    """One piece of work as the sweep recorded it. ``variant``: the variant trained or evaluated (``base`` for the
    base model); ``reused``: recorded by an earlier sweep whose result this one reused (nothing ran now)."""

    kind: WorkKind
    variant: str
    label: str  # e.g. "train deep", "eval deep step 17", "eval base model"
    interval: WorkInterval
    reused: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", WorkKind(self.kind))


@dataclass(frozen=True)
class Span:
    """Seconds since the timeline's origin (the first recorded start)."""

    start_s: float
    end_s: float


@dataclass(frozen=True)
class TimelineRow:
    """One bar of the plot: its lane label and its span in seconds since the first recorded start."""

    label: str
    kind: WorkKind
    variant: str
    span: Span
    reused: bool


def timeline_origin(bars: Sequence[TimelineBar]) -> float:
    """The earliest recorded start (epoch seconds): the plot's zero."""
    if not bars:
        raise ValueError("an empty timeline has no origin")
    return min(b.interval.started_at for b in bars)


def timeline_rows(bars: Sequence[TimelineBar]) -> list[TimelineRow]:
    """The plot's bars, top to bottom: training first, then evaluation; each group by start, then label."""
    if not bars:
        return []
    t0 = timeline_origin(bars)
    order = {WorkKind.TRAINING: 0, WorkKind.EVALUATION: 1}
    ordered = sorted(bars, key=lambda b: (order[b.kind], b.interval.started_at, b.label))
    return [TimelineRow(b.label, b.kind, b.variant, Span(b.interval.started_at - t0, b.interval.finished_at - t0),
                        b.reused) for b in ordered]


def idle_spans(bars: Sequence[TimelineBar]) -> list[Span]:
    """The gaps between the first start and the last end in which no recorded work ran."""
    if not bars:
        return []
    t0 = timeline_origin(bars)
    gaps: list[Span] = []
    intervals = sorted((b.interval for b in bars), key=lambda iv: iv.started_at)
    busy_until = intervals[0].finished_at
    for iv in intervals[1:]:
        if iv.started_at > busy_until:
            gaps.append(Span(busy_until - t0, iv.started_at - t0))
        busy_until = max(busy_until, iv.finished_at)
    return gaps


def timeline_to_dicts(bars: Sequence[TimelineBar]) -> list[dict[str, Any]]:
    """The bars for ``summary.json``'s ``volatile`` part (epoch seconds), in :func:`timeline_rows` order."""
    order = {WorkKind.TRAINING: 0, WorkKind.EVALUATION: 1}
    return [{"kind": b.kind.value, "variant": b.variant, "label": b.label, "started_at": b.interval.started_at,
             "finished_at": b.interval.finished_at, "seconds": round(b.interval.seconds, 3), "reused": b.reused}
            for b in sorted(bars, key=lambda b: (order[b.kind], b.interval.started_at, b.label))]
