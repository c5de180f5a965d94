"""The end of a sweep: evaluations become report records, then summary, report, plots (the timeline of the work
among them), the latest-run copies and the MLflow runs."""

from __future__ import annotations

import time
from typing import Any

from ..config import SweepConfig
from ..types import BASE_CHECKPOINT_NAME
from .evaluation import CheckpointEvaluation
from .evaluation_stage import EvaluationStage
from .mlflow_runs import pass1_problems_label, track_evaluations
from .result import SweepResult, copy_latest


def to_result(ev: CheckpointEvaluation):
    from ..report import CheckpointResult

    return CheckpointResult(
        variant=ev.variant, checkpoint=ev.checkpoint, step=ev.step, epoch=ev.epoch, val_loss=ev.val_loss,
        train_loss=ev.train_loss, pass_at=ev.pass_at, solved=ev.solved, total=ev.total, per_problem=ev.per_problem,
        status=ev.status, failure=ev.failure, backend=ev.backend, isolation=ev.isolation,
    )


def training_curves(trainings: dict[str, Any]):
    from ..report import TrainingCurve

    curves = []
    for name in sorted(trainings):
        tr = trainings[name]
        vals = [(c.step, c.val_loss) for c in tr.checkpoints if c.val_loss is not None]
        curves.append(TrainingCurve(
            variant=name, steps=[h.step for h in tr.history], train_loss=[h.loss for h in tr.history],
            val_steps=[s for s, _ in vals], val_loss=[v for _, v in vals],
        ))
    return curves


def timeline_bars(trainings: dict[str, Any], evals: list[CheckpointEvaluation]):
    """When each variant's training and each evaluation ran, as recorded where the work happened (the trainer's
    result, the evaluation's record); work recorded before intervals were kept has no bar."""
    from ..report import TimelineBar, WorkKind

    bars = [TimelineBar(WorkKind.TRAINING, name, f"train {name}", tr.interval,
                        reused=bool(getattr(tr, "reused", False)))
            for name, tr in sorted(trainings.items()) if tr.interval is not None]
    for ev in evals:
        if ev.interval is not None:
            label = "eval base model" if ev.checkpoint == BASE_CHECKPOINT_NAME else f"eval {ev.variant} step {ev.step}"
            bars.append(TimelineBar(WorkKind.EVALUATION, ev.variant, label, ev.interval, reused=ev.reused))
    return bars


def write_outputs(plan, paths, trainings, stage: EvaluationStage, tracker, started: float):
    """Summary, report, plots, the latest-run copies, and the MLflow evaluation runs."""
    from .. import report as rp
    from ..benchmarks import benchmark_for
    from ..contamination import write_contamination_jsonl

    cfg: SweepConfig = plan.cfg
    evals = stage.evaluations()
    results = [to_result(ev) for ev in evals]
    if plan.split is not None:
        results = rp.apply_split(results, plan.split)
    best = stage.best_from_grid({r.key: r for r in results})
    run_dir = paths.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    contamination_file = write_contamination_jsonl(run_dir / "contamination.jsonl", plan.contamination)
    inp = rp.SweepReportInput(
        results=results, curves=training_curves(trainings), config_hash=paths.eval_key, num_samples=cfg.generation.n,
        alpha=cfg.report.alpha, bootstrap_samples=cfg.report.bootstrap_samples,
        bootstrap_seed=cfg.report.bootstrap_seed, split=plan.split,
        contamination=plan.contamination.summary(dropped=cfg.data.drop_contaminated,
                                                 artifact=contamination_file.name),
        best_by_variant=best,
        benchmark=benchmark_for(cfg).title,
        run_info={"model": cfg.model.name_or_path, "benchmark": benchmark_for(cfg).source_label(),
                  "problems": len(plan.problems), "backend": plan.backend,
                  "training_keys": dict(sorted(paths.train_keys.items())),
                  "evaluation_key": paths.eval_key, "variants": [v.name for v in cfg.data.variants]},
        volatile={"started_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started)),
                  "wall_seconds": round(time.time() - started, 1)},
        timeline=timeline_bars(trainings, evals),
    )
    files = rp.write_report(run_dir, inp)
    latest = paths.benchmark_root
    copy_latest(files.summary_json, latest / "summary.json")
    copy_latest(files.report_md, latest / "report.md")
    counters = {
        "trainings_run": sum(0 if getattr(t, "reused", False) else 1 for t in trainings.values()),
        "trainings_reused": sum(1 if getattr(t, "reused", False) else 0 for t in trainings.values()),
        "evaluations_run": sum(0 if ev.reused else 1 for ev in evals),
        "evaluations_reused": sum(1 if ev.reused else 0 for ev in evals),
        "generations_run": sum(ev.generated for ev in evals),
        "generations_reused": sum(ev.reused_generations for ev in evals),
    }
    if tracker is not None:
        track_evaluations(tracker, results, best, paths, plan.split,
                          intervals={r.key: ev.interval for r, ev in zip(results, evals) if ev.interval is not None})
        for f in (files.summary_json, files.report_md, contamination_file, *files.plots):
            tracker.log_artifact(tracker.parent_run_id, f, "report")
        overall = rp.choose_best_overall(best)
        # Headline: Pass@1 on the report problems when a split is configured (beside it, on all problems).
        metrics = {f"best_pass1.{v}": r.headline_pass1 for v, r in best.items()}
        metrics["best_pass1"] = overall.headline_pass1 if overall else None
        if plan.split is not None:
            metrics.update({f"best_pass1_all.{v}": r.pass1 for v, r in best.items()})
            metrics.update({f"best_selection_pass1.{v}": r.selection_pass1 for v, r in best.items()})
            metrics["best_pass1_all"] = overall.pass1 if overall else None
        tracker.log_metrics(tracker.parent_run_id, metrics)
        tags = {"pass1_problems": pass1_problems_label(plan.split, len(plan.problems))}
        if overall is not None:
            tags["best_checkpoint"] = overall.key
        tracker.set_tags(tracker.parent_run_id, tags)
        tracker.finish(tracker.parent_run_id, "FINISHED" if all(r.ok for r in results) else "FAILED")
    return SweepResult(
        run_key=paths.eval_key, output_dir=run_dir, results=results, best=best,
        summary_path=latest / "summary.json", report_path=latest / "report.md",
        table=rp.format_table(results, best, plan.split),
        mlflow_parent_run_id=tracker.parent_run_id if tracker else None, counters=counters,
    )
