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
