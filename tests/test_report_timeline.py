"""The timeline of the work (no Ray): designed start/end times give exactly those bars and the known idle gaps; the
PNG is written and listed in report.md; the times land in summary.json's volatile part only; the sweep builds the
bars from the records its stages write (the trainer's result marker, the evaluation record), which keep the times."""

from __future__ import annotations

import dataclasses
import json
import random

from codegen_ray.report import (TIMELINE_PLOT, SweepReportInput, Span, TimelineBar, WorkKind, idle_spans,
                                load_summary, timeline_rows, write_plots, write_report)
from codegen_ray.sweep.evaluation import CheckpointEvaluation
from codegen_ray.sweep.outputs import timeline_bars
from codegen_ray.train.trainer import TrainingResult
from codegen_ray.types import CheckpointRef, WorkInterval
from test_report_plots import _check_png, _curves, _results

T0 = 1_764_480_000.0  # 2025-11-30T05:20:00Z; any origin gives the same bars


def iv(start: float, end: float) -> WorkInterval:
    return WorkInterval(T0 + start, T0 + end)


# Listed out of order on purpose: the rows sort training first, then evaluation, each by start.
DESIGNED = [
    TimelineBar(WorkKind.EVALUATION, "diverse", "eval diverse step 10", iv(200.0, 230.5)),
    TimelineBar(WorkKind.TRAINING, "diverse", "train diverse", iv(0.0, 80.0)),
    TimelineBar(WorkKind.EVALUATION, "base", "eval base model", iv(105.0, 120.0)),
    TimelineBar(WorkKind.TRAINING, "deep", "train deep", iv(0.0, 100.0)),
    TimelineBar(WorkKind.EVALUATION, "deep", "eval deep step 10", iv(110.0, 150.0), reused=True),
]


def test_timeline_bars_are_exactly_the_recorded_intervals_and_the_gaps_are_the_idle_time():
    rows = timeline_rows(DESIGNED)
    assert [(r.label, r.kind, r.span, r.reused) for r in rows] == [
        ("train deep", WorkKind.TRAINING, Span(0.0, 100.0), False),
        ("train diverse", WorkKind.TRAINING, Span(0.0, 80.0), False),
        ("eval base model", WorkKind.EVALUATION, Span(105.0, 120.0), False),
        ("eval deep step 10", WorkKind.EVALUATION, Span(110.0, 150.0), True),
        ("eval diverse step 10", WorkKind.EVALUATION, Span(200.0, 230.5), False),
    ]
    # Nothing ran between the end of training and the base model's evaluation, nor between 150 s and 200 s.
    assert idle_spans(DESIGNED) == [Span(100.0, 105.0), Span(150.0, 200.0)]
    # Overlapping or touching work leaves no gap.
    assert idle_spans([DESIGNED[1], DESIGNED[3]]) == []
    assert timeline_rows([]) == [] and idle_spans([]) == []


def test_timeline_png_is_written_listed_in_the_report_and_its_times_are_volatile(tmp_path):
    rng = random.Random(4)
    results, curves = _results(rng), _curves(rng)
    plain = SweepReportInput(results, curves, "h", 1, 0.05, 200, 0, volatile={"wall_seconds": 1.0})
    timed = SweepReportInput(results, curves, "h", 1, 0.05, 200, 0, volatile={"wall_seconds": 1.0},
                             timeline=DESIGNED)
    files = write_report(tmp_path / "timed", timed)
    assert files.plots[-1].name == TIMELINE_PLOT
    _check_png(files.plots[-1])
    assert f"![Timeline: training and evaluation over time]({TIMELINE_PLOT})" in files.report_md.read_text()
    volatile = load_summary(files.summary_json, include_volatile=True)["volatile"]
    assert volatile["wall_seconds"] == 1.0
    assert [(b["label"], b["started_at"], b["finished_at"], b["reused"]) for b in volatile["timeline"]] == [
        (r.label, T0 + r.span.start_s, T0 + r.span.end_s, r.reused) for r in timeline_rows(DESIGNED)]
    # Without recorded times there is no timeline; the deterministic part of summary.json is the same either way.
    untimed = write_report(tmp_path / "plain", plain)
    assert TIMELINE_PLOT not in [p.name for p in untimed.plots] + [p.name for p in write_plots(tmp_path / "p", plain)]
    assert TIMELINE_PLOT not in untimed.report_md.read_text()
    assert load_summary(untimed.summary_json) == load_summary(files.summary_json)


def _training(name: str, interval, reused: bool = False) -> TrainingResult:
    return TrainingResult(variant=name, checkpoints=[], history=[], val_history=[], split_sizes={},
                          num_zero_label_dropped=0, num_bad_rows_skipped=0, num_excluded=0, hyperparameters={},
                          output_dir="/x", config_hash="k", interval=interval, reused=reused)


def _evaluation(ref: CheckpointRef, interval, reused: bool = False) -> CheckpointEvaluation:
    return CheckpointEvaluation(variant=ref.variant, checkpoint=ref.name, step=ref.step, epoch=ref.epoch,
                                train_loss=None, val_loss=None, n=1, pass_at={1: 0.5}, solved=1, total=2,
                                per_problem={}, outcomes={}, status="ok", failure=None, backend="hf", isolation="none",
                                generated=2, reused_generations=0, reused=reused, interval=interval)


def test_sweep_records_keep_their_times_and_become_the_timeline():
    # The trainer's marker and the evaluation record round-trip the interval; records written before work was timed
    # load without one (and have no bar).
    tr = _training("deep", iv(0.0, 100.0))
    again = TrainingResult.from_json(json.loads(json.dumps(tr.to_json())))
    assert again.interval == tr.interval
    legacy = tr.to_json()
    del legacy["interval"]
    assert TrainingResult.from_json(legacy).interval is None
    ev = _evaluation(CheckpointRef("deep", 10, 1, adapter_path="/a"), iv(110.0, 150.0))
    assert CheckpointEvaluation.from_json(ev.to_json()).interval == ev.interval
    legacy_ev = json.loads(ev.to_json())
    del legacy_ev["interval"]
    assert CheckpointEvaluation.from_json(json.dumps(legacy_ev)).interval is None

    trainings = {"diverse": _training("diverse", iv(0.0, 80.0)), "deep": tr, "old": _training("old", None)}
    evals = [_evaluation(CheckpointRef("base", 0, 0), iv(105.0, 120.0)),
             dataclasses.replace(ev, reused=True),
             _evaluation(CheckpointRef("diverse", 10, 1, adapter_path="/b"), iv(200.0, 230.5)),
             _evaluation(CheckpointRef("old", 10, 1, adapter_path="/c"), None)]
    bars = timeline_bars(trainings, evals)
    assert sorted(bars, key=lambda b: b.label) == sorted(DESIGNED, key=lambda b: b.label)
