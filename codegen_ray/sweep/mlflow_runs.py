"""The sweep's MLflow records beyond the parent run: one run per evaluation, and the label saying which problems
the headline Pass@1 is computed on."""

from __future__ import annotations

from typing import Mapping, Optional

from ..types import WorkInterval


def pass1_problems_label(split, total: int) -> str:
    """What the headline Pass@1 metrics (``pass_at_1``, ``best_pass1.*``) are computed on, for an MLflow tag."""
    if split is None:
        return f"all {total} problems"
    return (f"the {len(split.report_ids)} report problems, which played no part in choosing the best checkpoint "
            f"(metrics ending in _all: all {total} problems; {split.description})")


def track_evaluations(tracker, results, best, paths, split=None,
                      intervals: Optional[Mapping[str, WorkInterval]] = None) -> None:
    """One MLflow run per evaluation. Main metric ``pass_at_1``: the headline Pass@1 (report problems with a split,
    then ``pass_at_1_all`` and ``pass_at_K_all`` beside it; all problems without one).

    ``intervals``: result key → when that evaluation's generation and grading ran; its run starts and ends then (a
    reused evaluation's run keeps its times). Without one the run spans the moment it is logged."""
    best_keys = {r.key for r in best.values()}
    label = pass1_problems_label(split, max((r.total for r in results if r.ok), default=0))
    for r in results:
        tags = {"variant": r.variant, "step": r.step, "epoch": r.epoch, "checkpoint": r.checkpoint,
                "is_best": str(r.key in best_keys).lower(), "status": r.status.value, "stage": "evaluation",
                "backend": r.backend, "isolation": r.isolation, "pass1_problems": label}
        interval = (intervals or {}).get(r.key)
        trial, name = f"eval/{r.key}", f"eval-{r.key.replace('/', '-')}"
        run_id = (tracker.child(trial, name, tags) if interval is None
                  else tracker.timed_child(trial, name, tags, interval.started_at))
        if r.ok:
            suffix = "" if split is None else "_all"
            metrics = {f"pass_at_{k}{suffix}": v for k, v in r.pass_at.items()}  # MLflow names allow no '@'
            metrics["pass_at_1"] = r.headline_pass1
            metrics.update({"solved": r.solved, "total": r.total, "val_loss": r.val_loss,
                            "train_loss": r.train_loss, "selection_pass1": r.selection_pass1,
                            "report_pass1": r.report_pass1})
            tracker.log_metrics(run_id, metrics, step=r.step)
            rows = [{"question_id": q, "pass@1": v} for q, v in sorted(r.per_problem.items())]
            tracker.log_table(run_id, rows, "per_problem.json")
        else:
            tracker.set_tags(run_id, {"failure": (r.failure or "")[:4000]})
        tracker.finish(run_id, "FINISHED" if r.ok else "FAILED",
                       end_time=interval.finished_at if interval is not None else None)
