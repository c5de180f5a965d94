"""End to end: the real sweep (Ray Tune + Ray Train + generation and execution pools + MLflow) on a small
version of the embedded default, interrupted with SIGINT after the first variant's training, then rerun twice.

One module-scoped run feeds several tests, each checking one property: the outputs' shape, the MLflow runs, the
resume counters, that a finished sweep reruns without redoing anything, that every MLflow run spans the recorded
times of its work and a rerun moves none of them, and that a rerun through the CLI with other resources (CPUs per
worker and actor, execution actors, retries) finds every result and exits 0.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codegen_ray.assets import BUILTIN_BENCHMARK_PATH
from codegen_ray.config import load_config
from codegen_ray.types import CHECKPOINT_RE

pytestmark = [pytest.mark.ray, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
SMALL = [
    "data.variants[0].max_samples=32",
    "data.variants[1].max_samples=32",
    "training.epochs=2",
    "training.save_steps=3",
    "training.max_seq_len=512",
    "generation.max_tokens=48",
    "execution.timeout_s=2",
    "ray.max_concurrent_trials=1",  # variants train one after the other, so the interruption lands between them
]


def _overrides(tmp: Path, cache_dir: Path) -> list[str]:
    return SMALL + [
        f"output.root={tmp / 'results'}",
        f"tracking.tracking_uri=sqlite:///{tmp / 'mlflow.db'}",
        f"model.cache_dir={cache_dir}",
    ]


def _interrupt_after_first_training(tmp: Path, overrides: list[str]) -> int:
    """Run the CLI in a subprocess; SIGINT it as soon as the first variant's training is complete."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONUNBUFFERED": "1"}
    log = open(tmp / "interrupted.log", "w")
    proc = subprocess.Popen([sys.executable, str(REPO / "experiments" / "sweep.py"), *overrides],
                            cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 600
    try:
        while time.time() < deadline and proc.poll() is None:
            if list((tmp / "results" / "training").glob("*/*/training_complete.json")):
                break
            time.sleep(0.5)
        assert proc.poll() is None, f"sweep ended before it could be interrupted: {(tmp / 'interrupted.log').read_text()[-3000:]}"
        proc.send_signal(signal.SIGINT)
        return proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def sweep_runs(tmp_path_factory, cache_dir, ray_session):
    from codegen_ray.sweep import run_sweep

    tmp = tmp_path_factory.mktemp("sweep")
    overrides = _overrides(tmp, cache_dir)
    rc = _interrupt_after_first_training(tmp, overrides)
    finished_before = sorted(p.parent.name for p in (tmp / "results" / "training").glob("*/*/training_complete.json"))
    cfg = load_config(None, overrides)
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        first = run_sweep(cfg, progress=False)
        runs_after_first = _child_run_times(tmp, cfg)
        second = run_sweep(cfg, progress=False)
    finally:
        os.chdir(cwd)
    return {"tmp": tmp, "cfg": cfg, "rc": rc, "finished_before": finished_before, "first": first, "second": second,
            "runs_after_first": runs_after_first}


def _child_run_times(tmp: Path, cfg) -> dict[str, tuple[str, int, int, str]]:
    """Every nested MLflow run by trial: (run id, start and end in ms, status)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}")
    exp = client.get_experiment_by_name(cfg.tracking.experiment)
    return {r.data.tags["codegen_ray.trial"]: (r.info.run_id, r.info.start_time, r.info.end_time, r.info.status)
            for r in client.search_runs([exp.experiment_id], max_results=1000) if "codegen_ray.trial" in r.data.tags}


def test_interrupt_exits_cleanly_with_finished_work_kept(sweep_runs):
    assert sweep_runs["rc"] == 130, (sweep_runs["tmp"] / "interrupted.log").read_text()[-3000:]
    assert len(sweep_runs["finished_before"]) >= 1


def test_rerun_after_interrupt_does_not_redo_finished_training(sweep_runs):
    c = sweep_runs["first"].counters
    done = len(sweep_runs["finished_before"])
    assert c["trainings_reused"] == done
    assert c["trainings_run"] == 2 - done


def test_second_rerun_reuses_everything(sweep_runs):
    c = sweep_runs["second"].counters
    assert c["trainings_run"] == 0 and c["trainings_reused"] == 2
    assert c["evaluations_run"] == 0 and c["generations_run"] == 0
    assert c["evaluations_reused"] == len(sweep_runs["second"].results)


def test_summary_has_every_checkpoint_and_the_baseline(sweep_runs):
    tmp = sweep_runs["tmp"]
    summary = json.loads((tmp / "results" / "livecodebench" / "summary.json").read_text())
    entries = summary["checkpoints"] + [summary["base"]]
    n_problems = len(BUILTIN_BENCHMARK_PATH.read_text(encoding="utf-8").splitlines())  # the whole builtin benchmark
    assert summary["base"]["step"] == 0
    for variant in ("deep", "diverse"):
        names = [e["checkpoint"] for e in entries if e["variant"] == variant]
        assert len(names) >= 3 and all(CHECKPOINT_RE.match(n) for n in names)
        assert summary["best_by_variant"][variant].startswith(f"{variant}/checkpoint-step-")
    for e in entries:
        for key in ("pass@1", "solved", "total", "val_loss", "step", "epoch"):
            assert key in e, key
        assert e["status"] == "ok" and e["total"] == n_problems
    assert "contamination" in summary
    # The pretrained base writes correct programs: through generation, extraction, the sandbox and grading, the
    # sweep measures more than zero (a stage that graded raw text or lost the programs would score 0 here).
    assert summary["base"]["solved"] > 0
    report = (tmp / "results" / "livecodebench" / "report.md").read_text()
    assert "McNemar" in report and "Wilson" in report


def test_outputs_in_the_documented_layout(sweep_runs):
    lcb = sweep_runs["tmp"] / "results" / "livecodebench"
    n = len(sweep_runs["first"].results)
    assert len(list((lcb / "evaluations").glob("*/*_eval_all.json"))) == n
    assert len(list((lcb / "generations").rglob("*.jsonl"))) == n
    assert len(list((lcb / "detailed").glob("*/*.json"))) == n
    run_dir = sweep_runs["first"].output_dir
    for png in ("pass1_vs_step.png", "loss_curves.png", "solved_matrix.png"):
        assert (run_dir / png).stat().st_size > 1000
    eval_all = json.loads(next((lcb / "evaluations").glob("*/base_eval_all.json")).read_text())
    assert {"output_list", "code_list", "graded_list", "pass@1", "metadata", "question_id"} <= set(eval_all[0])


def test_checkpoints_hold_only_the_adapter(sweep_runs):
    for ckpt in (sweep_runs["tmp"] / "results" / "training").glob("*/*/checkpoints/checkpoint-step-*"):
        files = {p.name for p in ckpt.iterdir()}
        assert {"adapter_model.safetensors", "adapter_config.json", "meta.json"} <= files
        assert not any(f.startswith("model") for f in files)


def test_mlflow_has_one_parent_and_no_duplicate_children(sweep_runs):
    from mlflow import MlflowClient

    tmp, cfg = sweep_runs["tmp"], sweep_runs["cfg"]
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}")
    exp = client.get_experiment_by_name(cfg.tracking.experiment)
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if r.data.tags.get("codegen_ray.kind") == "sweep"]
    assert len(parents) == 1
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    trials = [r.data.tags["codegen_ray.trial"] for r in children]
    assert len(trials) == len(set(trials)), "duplicate nested runs"
    evals = [r for r in children if r.data.tags.get("stage") == "evaluation"]
    assert len(evals) == len(sweep_runs["first"].results)
    assert sorted(r.data.tags["variant"] for r in children if r.data.tags.get("stage") == "training") == [
        "deep", "diverse"]
    for r in evals:
        assert {"variant", "step", "epoch", "checkpoint", "is_best"} <= set(r.data.tags)
        assert "pass_at_1" in r.data.metrics
    assert sum(r.data.tags["is_best"] == "true" for r in evals) == 2


def test_mlflow_runs_span_the_recorded_work_and_reruns_keep_their_times(sweep_runs):
    """Each run starts and ends when its work did, as the stage that did it recorded (the trainer's marker, the
    evaluation record): the first variant's training was done by the interrupted process and its run found again.
    The second sweep reused everything and moved no run's times; the report's timeline is the same intervals."""
    tmp = sweep_runs["tmp"]
    results = tmp / "results"
    recorded = {}
    for marker in (results / "training").glob("*/*/training_complete.json"):
        data = json.loads(marker.read_text())
        recorded[f"train/{data['variant']}"] = data["interval"]
    for f in (results / "livecodebench" / "evaluations").glob("*/*.json"):
        if not f.name.endswith("_eval_all.json"):
            data = json.loads(f.read_text())
            key = "base" if data["checkpoint"] == "base" else f"{data['variant']}/{data['checkpoint']}"
            recorded[f"eval/{key}"] = data["interval"]
    runs = _child_run_times(tmp, sweep_runs["cfg"])
    assert set(runs) == set(recorded) and len(recorded) == 2 + len(sweep_runs["first"].results)
    for trial, interval in recorded.items():
        assert interval["started_at"] < interval["finished_at"], trial
        assert runs[trial][1:] == (round(interval["started_at"] * 1000), round(interval["finished_at"] * 1000),
                                   "FINISHED"), trial
    assert runs == sweep_runs["runs_after_first"]
    # Evaluation overlaps training (ray.pipeline, the default): the first evaluation run starts before the last
    # training run ends, and no checkpoint is evaluated before its variant's training began.
    last_training_end = max(v["finished_at"] for k, v in recorded.items() if k.startswith("train/"))
    assert min(v["started_at"] for k, v in recorded.items() if k.startswith("eval/")) < last_training_end
    for key, interval in recorded.items():
        if key.startswith("eval/") and key != "eval/base":
            assert interval["started_at"] > recorded[f"train/{key.split('/')[1]}"]["started_at"], key
    summary = json.loads((results / "livecodebench" / "summary.json").read_text())
    bars = summary["volatile"]["timeline"]
    assert sorted((b["started_at"], b["finished_at"]) for b in bars) == sorted(
        (v["started_at"], v["finished_at"]) for v in recorded.values())
    assert all(b["reused"] for b in bars)  # the latest sweep ran nothing
    assert (sweep_runs["second"].output_dir / "timeline.png").stat().st_size > 1000
    assert "timeline.png" in (results / "livecodebench" / "report.md").read_text()


def test_result_table_and_dataframe(sweep_runs):
    res = sweep_runs["second"]
    assert res.ok
    assert "Pass@1" in res.table and "(base model)" in res.table
    df = res.to_dataframe()
    assert len(df) == len(res.results) and {"variant", "checkpoint", "step"} <= set(df.columns)


def test_dry_run_plan_matches_what_ran(sweep_runs, capsys):
    from codegen_ray.cli import main
    from codegen_ray.sweep import plan_sweep

    plan = plan_sweep(sweep_runs["cfg"])
    for vp in plan.variants:
        ran = sorted(r.checkpoint for r in sweep_runs["first"].results if r.variant == vp.name)
        assert sorted(vp.expected_checkpoints) == ran
    assert plan.num_eval_trials == len(sweep_runs["first"].results)
    assert main(["sweep", "--dry-run", *_overrides(sweep_runs["tmp"] / "dry", Path(sweep_runs["cfg"].model.cache_dir))]) == 0
    out = capsys.readouterr().out
    assert f"evaluation trials: {plan.num_eval_trials}" in out and "checkpoint-step-" in out
    assert not (sweep_runs["tmp"] / "dry" / "results" / "training").exists()  # a dry run trains nothing
    # --json: the same plan as one JSON object; every checkpoint with the name, step and epoch the sweep produced.
    assert main(["sweep", "--dry-run", "--json",
                 *_overrides(sweep_runs["tmp"] / "dry", Path(sweep_runs["cfg"].model.cache_dir))]) == 0
    as_json = json.loads(capsys.readouterr().out)
    ran = sweep_runs["first"].results
    for v in as_json["variants"]:
        assert [(c["name"], c["step"], c["epoch"]) for c in v["checkpoints"]] == sorted(
            ((r.checkpoint, r.step, r.epoch) for r in ran if r.variant == v["name"]), key=lambda t: t[1])
    assert sorted(v["name"] for v in as_json["variants"]) == sorted({r.variant for r in ran if not r.is_base})
    assert as_json["evaluation_trials"] == len(ran)
    assert as_json["evaluation_key"] == sweep_runs["first"].run_key  # where the results landed
    for v in as_json["variants"]:  # and where each variant's training landed
        assert (sweep_runs["tmp"] / "results" / "training" / v["training_key"] / v["name"] / "training_complete.json"
                ).is_file()


# Only resources differ from the finished sweep's config: nothing may be trained, generated or graded again.
OTHER_RESOURCES = ["training.cpus_per_worker=1", "training.max_failures=0", "generation.cpus_per_actor=1",
                   "execution.num_actors=1", "execution.cpus_per_actor=1", "ray.max_concurrent_trials=2"]


def test_rerun_with_other_resources_reuses_everything_and_exits_0(sweep_runs, tmp_path, monkeypatch):
    from mlflow import MlflowClient

    from codegen_ray import cli
    from codegen_ray.report import load_summary

    tmp, cfg = sweep_runs["tmp"], sweep_runs["cfg"]
    overrides = [*_overrides(tmp, Path(cfg.model.cache_dir)), *OTHER_RESOURCES]
    before_params, after_params = cfg.flat_params(), load_config(None, overrides).flat_params()
    assert all(before_params[o.split("=")[0]] != after_params[o.split("=")[0]] for o in OTHER_RESOURCES)
    results = tmp / "results"
    work = [results / "training", *(results / "livecodebench" / d for d in ("generations", "evaluations", "detailed"))]

    def files() -> dict[Path, tuple[int, int]]:
        return {p: (p.stat().st_mtime_ns, p.stat().st_size) for d in work for p in d.rglob("*") if p.is_file()}

    before = files()
    summary = load_summary(results / "livecodebench" / "summary.json")
    monkeypatch.chdir(tmp)
    with open(tmp_path / "stderr.txt", "w", encoding="utf-8") as err:  # Tune pickles the progress bar's stream
        monkeypatch.setattr(sys, "stderr", err)
        rc = cli.main(["sweep", *overrides])
        monkeypatch.undo()
    assert rc == 0, (tmp_path / "stderr.txt").read_text()[-3000:]
    assert files() == before  # no training, generation, evaluation or verdict file written or added
    assert load_summary(results / "livecodebench" / "summary.json") == summary
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name(cfg.tracking.experiment).experiment_id],
                              max_results=1000)
    parents = [r for r in runs if r.data.tags.get("codegen_ray.kind") == "sweep"]
    assert len(parents) == 1  # the same sweep: its MLflow run is found again, not duplicated
    trials = [r.data.tags["codegen_ray.trial"] for r in runs
              if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(trials) == len(set(trials))
