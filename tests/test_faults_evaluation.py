"""No silent zeroes, and no half-written results: one checkpoint evaluated through the REAL shared generation pool
and execution pool (``codegen_ray.sweep.evaluation.evaluate_checkpoint``, what every evaluation trial of the sweep runs).

* A checkpoint whose generation fails for infrastructure reasons (its adapter is gone) is ``failed`` with a reason,
  never Pass@1 = 0: on disk, in the terminal table, in summary.json / report.md and in MLflow.
* A failed evaluation is not reused on rerun: once the cause is fixed it is evaluated and scored.
* A results location that cannot be written mid-run raises an error naming the path; finished results stay intact
  and nothing partial is left behind.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codegen_ray.config import load_config
from codegen_ray.lcb.grading import LcbGrader
from codegen_ray.types import CheckpointRef

pytestmark = [pytest.mark.ray, pytest.mark.slow]

NUM_PROBLEMS = 3


@pytest.fixture(scope="module")
def ectx(ray_session, tmp_path_factory, cache_dir, tiny_model_path):
    """An EvaluationContext built like run_evaluation_stage builds it, on 3 benchmark problems."""
    from codegen_ray.execution.pool import ExecutionPool
    from codegen_ray.generation.pool import GenerationPool
    from codegen_ray.lcb.dataset import load_problems
    from codegen_ray.sweep.evaluation import EvaluationContext
    from codegen_ray.generation import sampling_from_config
    from codegen_ray.sweep import SweepPaths

    tmp = tmp_path_factory.mktemp("faults_eval")
    probe = load_config(None, [])
    ids = [p.question_id for p in load_problems(probe.benchmark)][:NUM_PROBLEMS]
    cfg = load_config(None, [
        f"output.root={tmp / 'results'}", f"model.cache_dir={cache_dir}", f"benchmark.question_ids=[{', '.join(ids)}]",
        "benchmark.selection_end_date=null", "generation.max_tokens=24", "generation.batch_size=4",
        "execution.num_actors=1", f"tracking.tracking_uri=sqlite:///{tmp / 'mlflow.db'}",
    ])
    problems = load_problems(cfg.benchmark)
    assert len(problems) == NUM_PROBLEMS
    gen_pool = GenerationPool.create(str(tiny_model_path), cfg.generation, "float32", "hf")
    exec_pool = ExecutionPool(cfg.execution, LcbGrader.from_execution_config(cfg.execution))
    try:
        yield EvaluationContext(cfg, tuple(problems), SweepPaths.for_config(cfg), gen_pool, exec_pool,
                                sampling_from_config(cfg.generation))
    finally:
        gen_pool.shutdown()
        exec_pool.shutdown()


@pytest.fixture(scope="module")
def base_eval(ectx):
    from codegen_ray.sweep.evaluation import evaluate_checkpoint

    ev = evaluate_checkpoint(ectx, CheckpointRef("base", 0, 0))
    assert ev.status == "ok" and ev.total == NUM_PROBLEMS
    return ev


def _missing_adapter(ectx, name: str, step: int) -> CheckpointRef:
    path = ectx.paths.output_root.parent / "adapters" / name
    assert not path.exists()
    return CheckpointRef("deep", step, 1, adapter_path=str(path), train_loss=1.5, val_loss=1.7)


def _stem(ref: CheckpointRef) -> str:
    return ref.key.replace("/", "__")


def test_generation_failure_is_failed_not_zero(ectx, base_eval):
    from codegen_ray.sweep.evaluation import CheckpointEvaluation, evaluate_checkpoint

    ref = _missing_adapter(ectx, "gone", 2)
    ev = evaluate_checkpoint(ectx, ref)
    assert ev.status == "failed"
    assert ev.failure and ev.failure.startswith("generation failed")
    assert 1 not in ev.pass_at and ev.per_problem == {}
    on_disk = CheckpointEvaluation.from_json((ectx.paths.evaluations_dir / f"{_stem(ref)}.json").read_text())
    assert on_disk.status == "failed" and on_disk.pass_at == {}
    # No graded artefacts pretend the checkpoint was scored.
    assert not (ectx.paths.evaluations_dir / f"{_stem(ref)}_eval_all.json").exists()
    assert not (ectx.paths.detailed_dir / f"{_stem(ref)}.json").exists()


def test_failed_evaluation_is_retried_on_rerun_and_then_scored(ectx, base_eval, tiny_model_path):
    from codegen_ray.generation.adapters import make_random_lora
    from codegen_ray.sweep.evaluation import evaluate_checkpoint

    ref = _missing_adapter(ectx, "late", 3)
    assert evaluate_checkpoint(ectx, ref).status == "failed"
    make_random_lora(tiny_model_path, ref.adapter_path, seed=7)
    ev = evaluate_checkpoint(ectx, ref)
    assert ev.status == "ok" and not ev.reused and ev.generated == NUM_PROBLEMS
    assert 1 in ev.pass_at and ev.total == NUM_PROBLEMS


def test_harness_failure_leaves_no_scored_eval_all(ectx, tmp_path):
    """Harness errors that persist make the checkpoint failed, and no lcb_runner-shaped ``_eval_all.json`` remains
    (its score scripts would read the harness-error problem as pass@1 = 0); the per-program record says failed."""
    import dataclasses

    from codegen_ray.config import GenerationConfig
    from codegen_ray.generation.pool import GenerationPool
    from codegen_ray.sweep.evaluation import CheckpointEvaluation, evaluate_checkpoint

    # A problem without tests cannot be graded (a harness error, whatever the program); the others grade normally.
    broken = dataclasses.replace(ectx.problems[0], question_id="zz_no_tests", public_tests=(), private_tests=())
    problems = (*ectx.problems, broken)
    ref = CheckpointRef("deep", 9, 1, adapter_path=str(tmp_path / "adapter"), train_loss=1.0, val_loss=1.0)
    replay = tmp_path / "replay.jsonl"
    replay.write_text("".join(json.dumps({"variant": "deep", "step": 9, "question_id": p.question_id,
                                          "completions": ["```python\nprint(1)\n```"]}) + "\n" for p in problems))
    pool = GenerationPool.create("unused", GenerationConfig(backend="replay", replay_path=str(replay)), "auto")
    try:
        ctx = dataclasses.replace(ectx, problems=problems, gen_pool=pool)
        stale = ectx.paths.evaluations_dir / f"{_stem(ref)}_eval_all.json"
        stale.parent.mkdir(parents=True, exist_ok=True)
        stale.write_text(json.dumps([{"question_id": "zz_no_tests", "pass@1": 0.0}]))  # e.g. left by an older run
        ev = evaluate_checkpoint(ctx, ref)
    finally:
        pool.shutdown()
    assert ev.status == "failed" and "harness error" in ev.failure and "zz_no_tests" in ev.failure
    assert 1 not in ev.pass_at and ev.backend == "replay"
    assert not stale.exists()
    on_disk = CheckpointEvaluation.from_json((ectx.paths.evaluations_dir / f"{_stem(ref)}.json").read_text())
    assert on_disk.status == "failed" and on_disk.pass_at == {}
    detailed = json.loads((ectx.paths.detailed_dir / f"{_stem(ref)}.json").read_text())
    assert detailed["status"] == "failed"
    assert {r["question_id"]: r["outcome"] for r in detailed["programs"]}["zz_no_tests"] == "harness_error"


def test_table_summary_report_and_mlflow_say_failed(ectx, base_eval, tmp_path):
    from mlflow import MlflowClient

    from codegen_ray import report as rp
    from codegen_ray.sweep.evaluation import evaluate_checkpoint
    from codegen_ray.sweep.mlflow_runs import track_evaluations
    from codegen_ray.sweep.outputs import to_result
    from codegen_ray.tracking import Tracker

    failed = evaluate_checkpoint(ectx, _missing_adapter(ectx, "vanished", 4))
    results = [to_result(base_eval), to_result(failed)]
    bad = results[1]

    table = rp.format_table(results, {})
    row = next(line for line in table.splitlines() if line.startswith("deep ") and bad.checkpoint in line)
    assert "FAILED" in row and "%" not in row
    assert f"FAILED {bad.key}: generation failed" in table

    cfg = ectx.cfg
    inp = rp.SweepReportInput(results=results, curves=[], config_hash="test", num_samples=1, alpha=0.05,
                              bootstrap_samples=100, bootstrap_seed=0)
    files = rp.write_report(tmp_path / "run", inp)
    entry = next(e for e in rp.load_summary(files.summary_json)["checkpoints"] if e["key"] == bad.key)
    assert entry["status"] == "failed" and entry["pass@1"] is None and entry["solved"] is None
    assert entry["failure"].startswith("generation failed")
    assert "FAILED" in files.report_md.read_text()

    tracker = Tracker.start(cfg, "faults-test", cfg.to_yaml())
    track_evaluations(tracker, results, {}, ectx.paths)
    client = MlflowClient(tracking_uri=tracker.tracking_uri)
    runs = {r.data.tags.get("checkpoint"): r for r in client.search_runs([tracker.experiment_id])
            if r.data.tags.get("stage") == "evaluation"}
    assert runs[bad.checkpoint].info.status == "FAILED"
    assert runs[bad.checkpoint].data.tags["status"] == "failed"
    assert runs[bad.checkpoint].data.tags["failure"].startswith("generation failed")
    assert "pass_at_1" not in runs[bad.checkpoint].data.metrics
    assert runs["base"].info.status == "FINISHED" and "pass_at_1" in runs["base"].data.metrics


def test_unwritable_result_path_mid_run_keeps_earlier_results(ectx, base_eval, tiny_model_path):
    from codegen_ray.generation.adapters import make_random_lora
    from codegen_ray.sweep.evaluation import evaluate_checkpoint

    paths = ectx.paths
    before = {p: p.read_bytes() for d in (paths.evaluations_dir, paths.detailed_dir, paths.generations_dir)
              for p in d.rglob("*") if p.is_file()}
    assert any(p.name == "base.json" for p in before)
    ref = _missing_adapter(ectx, "blocked", 5)
    make_random_lora(tiny_model_path, ref.adapter_path, seed=11)
    # Something that cannot be replaced by a file sits where this checkpoint's graded output goes
    # (as root, permissions would not stop us; a full disk fails the same write).
    blocker = paths.evaluations_dir / f"{_stem(ref)}_eval_all.json"
    blocker.mkdir(parents=True)
    with pytest.raises(OSError) as info:
        evaluate_checkpoint(ectx, ref)
    assert str(blocker) in str(info.value)
    # Earlier results are untouched; nothing half-written: no evaluation record, no temporary files.
    for p, data in before.items():
        assert p.read_bytes() == data, p
    assert not (paths.evaluations_dir / f"{_stem(ref)}.json").exists()
    assert not [p for p in paths.benchmark_root.rglob("*.tmp")]
    # Once the location is writable again the rerun scores the checkpoint (its generations were kept).
    blocker.rmdir()
    ev = evaluate_checkpoint(ectx, ref)
    assert ev.status == "ok" and ev.generated == 0 and ev.reused_generations == NUM_PROBLEMS
    assert json.loads(blocker.read_text())
