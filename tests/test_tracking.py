"""MLflow tracking without Ray: the experiment's kind and description, and which Pass@1 is each evaluation run's main
metric (the report problems' when a selection/report split is configured, with the all-problems number beside it)."""

from __future__ import annotations

import pytest

from codegen_ray.config import load_config
from codegen_ray.report import CheckpointResult, SelectionSplit, apply_split


@pytest.fixture
def tracker_for(tmp_path):
    from codegen_ray.tracking import Tracker

    def make(*overrides: str):
        cfg = load_config(None, [f"tracking.tracking_uri=sqlite:///{tmp_path / 'mlflow.db'}", *overrides])
        return cfg, Tracker.start(cfg, "key123", cfg.to_yaml())

    return make


def test_experiment_is_a_model_development_experiment_with_a_description(tracker_for):
    cfg, tracker = tracker_for()
    exp = tracker.client.get_experiment(tracker.experiment_id)
    assert exp.name == cfg.tracking.experiment
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"
    note = exp.tags["mlflow.note.content"]
    for needle in ("sweep-", "train-<variant>", "eval-", "pass_at_1", "Compare", "step", "variant", "is_best",
                   "report problems", cfg.model.name_or_path, "`deep`", "`diverse`"):
        assert needle in note, needle
    # An existing experiment (created by an older version, or another sweep) gets them too.
    tracker.client.delete_experiment_tag(tracker.experiment_id, "mlflow.experimentKind")
    _, again = tracker_for("benchmark.selection_end_date=null")
    assert again.experiment_id == tracker.experiment_id
    tags = again.client.get_experiment(again.experiment_id).tags
    assert tags["mlflow.experimentKind"] == "custom_model_development"
    assert "on all benchmark problems" in tags["mlflow.note.content"]


def _result(step: int, solved: set[str], qids: list[str]) -> CheckpointResult:
    per = {q: float(q in solved) for q in qids}
    return CheckpointResult("deep", f"checkpoint-step-{step}-epoch-1", step, 1, val_loss=1.0, train_loss=1.0,
                            pass_at={1: sum(per.values()) / len(qids)}, solved=int(sum(per.values())),
                            total=len(qids), per_problem=per)


def test_evaluation_runs_lead_with_the_report_split_pass1(tracker_for, tmp_path):
    from codegen_ray.sweep.mlflow_runs import track_evaluations

    _, tracker = tracker_for()
    qids = [f"q{i}" for i in range(10)]
    split = SelectionSplit(frozenset(qids[:4]), frozenset(qids[4:]), "first four select")
    r = apply_split([_result(5, {"q0", "q1", "q4"}, qids)], split)[0]
    track_evaluations(tracker, [r], {"deep": r}, None, split)
    (run,) = [x for x in tracker.client.search_runs([tracker.experiment_id]) if x.data.tags.get("stage") == "evaluation"]
    m = run.data.metrics
    assert m["pass_at_1"] == pytest.approx(1 / 6)  # the 6 report problems
    assert m["pass_at_1_all"] == pytest.approx(3 / 10) and m["selection_pass1"] == pytest.approx(2 / 4)
    assert m["report_pass1"] == pytest.approx(1 / 6)
    assert run.data.tags["pass1_problems"].startswith("the 6 report problems")
    # Without a split, pass_at_1 is on all problems (unchanged).
    _, plain_tracker = tracker_for("tracking.experiment=plain", "benchmark.selection_end_date=null")
    plain = _result(5, {"q0", "q1", "q4"}, qids)
    track_evaluations(plain_tracker, [plain], {"deep": plain}, None)
    (run,) = [x for x in plain_tracker.client.search_runs([plain_tracker.experiment_id])
              if x.data.tags.get("stage") == "evaluation"]
    assert run.data.metrics["pass_at_1"] == pytest.approx(3 / 10) and "pass_at_1_all" not in run.data.metrics
    assert run.data.tags["pass1_problems"] == "all 10 problems"


def test_runs_span_the_recorded_work_and_a_resumed_sweep_keeps_their_times(tracker_for):
    """A run starts and ends at the recorded times of its work (not when it was logged); logging the same reused
    work again (a resumed sweep) leaves its run and times as they were; work done again since (a retried
    evaluation) gets a run with the new times, still one run per trial."""
    from codegen_ray.sweep.mlflow_runs import track_evaluations
    from codegen_ray.types import WorkInterval

    _, tracker = tracker_for()
    qids = [f"q{i}" for i in range(4)]
    a, b = _result(5, {"q0"}, qids), _result(10, {"q0", "q1"}, qids)
    work = {a.key: WorkInterval(1_700_000_000.25, 1_700_000_060.5), b.key: WorkInterval(1_700_000_030.0,
                                                                                          1_700_000_095.125)}
    train = WorkInterval(1_699_999_000.0, 1_699_999_900.75)
    run = tracker.child("train/deep", "train-deep", {"variant": "deep"}, start_time=train.started_at)
    assert tracker.run_start(run) == train.started_at
    tracker.finish(run, end_time=train.finished_at)
    track_evaluations(tracker, [a, b], {"deep": b}, None, None, intervals=work)

    def times():
        runs = tracker.client.search_runs([tracker.experiment_id])
        return {r.data.tags["codegen_ray.trial"]: (r.info.run_id, r.info.start_time, r.info.end_time, r.info.status)
                for r in runs if "codegen_ray.trial" in r.data.tags}

    first = times()
    assert first["train/deep"][1:] == (1_699_999_000_000, 1_699_999_900_750, "FINISHED")
    assert first[f"eval/{a.key}"][1:] == (1_700_000_000_250, 1_700_000_060_500, "FINISHED")
    assert first[f"eval/{b.key}"][1:] == (1_700_000_030_000, 1_700_000_095_125, "FINISHED")

    # A resumed sweep (same parent run, found by its key) reuses the work and logs it again: nothing moves.
    _, resumed = tracker_for()
    assert resumed.parent_run_id == tracker.parent_run_id
    run = resumed.child("train/deep", "train-deep", {"variant": "deep"}, start_time=1_800_000_000.0)
    resumed.finish(run, end_time=train.finished_at)
    track_evaluations(resumed, [a, b], {"deep": b}, None, None, intervals=work)
    assert times() == first

    # b's evaluation was done again: its run now spans the new work; a's run is untouched.
    redone = {**work, b.key: WorkInterval(1_800_000_000.0, 1_800_000_010.0)}
    track_evaluations(resumed, [a, b], {"deep": b}, None, None, intervals=redone)
    now = times()
    assert now[f"eval/{a.key}"] == first[f"eval/{a.key}"]
    assert now[f"eval/{b.key}"][1:] == (1_800_000_000_000, 1_800_000_010_000, "FINISHED")
    assert len(now) == len(first)
