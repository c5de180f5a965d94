"""The whole sweep (Tune training and evaluation trials, shared pools) on a very small version of the embedded
default, run twice in-process into two output roots:

* determinism: the same config and seed give an identical summary.json (timestamps and durations live under the
  ``volatile`` key, which ``load_summary`` drops), whether evaluation overlaps training (run a, the default) or
  follows it (run b, ``ray.pipeline=false``);
* a results directory that cannot be written at the end of a run: the CLI prints one clear line naming the path and
  exits 1, and everything finished before (training, generations, evaluations, the previous summary) is intact;
* keys by content: a variant whose data file is a copy of the builtin one reuses its training; edited in place, that
  variant (and only it) is trained again, under a new training key;
* checkpoints the plan did not foresee (rows the tokenizer drops shorten the schedule): a pipelined sweep evaluates
  every checkpoint the training really wrote, once, and none it only planned.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from codegen_ray.config import load_config

pytestmark = [pytest.mark.ray, pytest.mark.slow]

TINY = [
    "data.variants[0].max_samples=16",
    "data.variants[1].max_samples=16",
    "training.epochs=1",
    "training.save_steps=2",
    "training.max_seq_len=384",
    "generation.max_tokens=32",
    "execution.timeout_s=2",
    "tracking.enabled=false",
]


def _overrides(root: Path, cache_dir: Path) -> list[str]:
    return TINY + [f"output.root={root}", f"model.cache_dir={cache_dir}"]


@pytest.fixture(scope="module")
def two_runs(ray_session, tmp_path_factory, cache_dir):
    from codegen_ray.sweep import run_sweep

    tmp = tmp_path_factory.mktemp("faults_sweep")
    out = {}
    for name, pipeline in (("a", "true"), ("b", "false")):
        cfg = load_config(None, _overrides(tmp / name, cache_dir) + [f"ray.pipeline={pipeline}"])
        assert cfg.ray.pipeline is (pipeline == "true")
        out[name] = run_sweep(cfg, progress=False)
    out["tmp"] = tmp
    return out


def test_same_config_and_seed_give_identical_summary(two_runs):
    from codegen_ray.report import load_summary

    a, b = two_runs["a"], two_runs["b"]
    assert a.ok and b.ok
    assert a.counters["trainings_run"] == b.counters["trainings_run"] == 2  # nothing shared between the roots
    assert a.summary_path != b.summary_path
    sa, sb = load_summary(a.summary_path), load_summary(b.summary_path)
    assert sa == sb
    assert "volatile" in load_summary(a.summary_path, include_volatile=True)
    assert a.table == b.table


def test_unwritable_results_directory_fails_clearly_and_keeps_finished_work(two_runs, cache_dir, tmp_path,
                                                                          monkeypatch):
    from codegen_ray import cli

    root = two_runs["tmp"] / "b"
    res = two_runs["b"]
    keep = {p: p.read_bytes() for p in root.rglob("*")
            if p.is_file() and p.suffix in (".json", ".jsonl", ".safetensors") and "runs" not in p.parts}
    assert res.summary_path in keep and any(p.name == "adapter_model.safetensors" for p in keep)
    # The run's report directory cannot be created (a file is in the way: as root, permissions would not stop us).
    shutil.rmtree(res.output_dir)
    res.output_dir.write_text("in the way")
    # stderr as a plain file (Tune pickles the progress bar, which holds sys.stderr; pytest's capture objects
    # do not pickle); progress bars are the lines ending in trials.
    log = tmp_path / "stderr.txt"
    with open(log, "w", encoding="utf-8") as fh:
        monkeypatch.setattr(sys, "stderr", fh)
        rc = cli.main(["sweep", *_overrides(root, cache_dir)])
        monkeypatch.undo()
    err = [line for line in log.read_text().replace("\r", "\n").splitlines()
           if line.strip() and not line.rstrip().endswith(("trial/s]", "trial]")) and "%|" not in line]
    assert rc == 1
    assert len(err) == 1 and str(res.output_dir) in err[0] and "Traceback" not in err[0], err
    for p, data in keep.items():
        assert p.is_file() and p.read_bytes() == data, p
    assert not [p for p in root.rglob("*.tmp")]


def test_data_file_edited_in_place_is_trained_again_under_a_new_key(two_runs, cache_dir, tmp_path):
    from codegen_ray.builtin import builtin_data_path
    from codegen_ray.sweep import SweepPaths, plan_sweep
    from codegen_ray.sweep.training_stage import run_training_stage

    root = two_runs["tmp"] / "a"
    data = tmp_path / "my_deep.jsonl"
    shutil.copyfile(builtin_data_path("deep"), data)  # the bytes of builtin:deep, at a path of the user's

    def train():
        plan = plan_sweep(load_config(None, _overrides(root, cache_dir) + [f"data.variants[0].path={data}"]))
        paths = SweepPaths.for_plan(plan)
        trainings = run_training_stage(plan, paths, None, progress=False)
        return plan, paths, {name: t.reused for name, t in trainings.items()}

    plan, paths, reused = train()
    assert reused == {"deep": True, "diverse": True}  # same bytes, same training: nothing trained
    assert paths.eval_key == two_runs["a"].run_key
    # Edit the file in place: every answer gets a comment line (same path, the variant's rows all change).
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        row["messages"][-1]["content"] = "# edited\n" + row["messages"][-1]["content"]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    plan2, paths2, reused2 = train()
    assert reused2 == {"deep": False, "diverse": True}
    assert plan2.training_keys["deep"] != plan.training_keys["deep"]
    assert plan2.training_keys["diverse"] == plan.training_keys["diverse"]
    assert paths2.eval_key != paths.eval_key
    new_dir, old_dir = paths2.training_dir("deep"), paths.training_dir("deep")
    assert new_dir != old_dir and (old_dir / "training_complete.json").is_file()  # the old run stays, untouched
    marker = json.loads((new_dir / "training_complete.json").read_text(encoding="utf-8"))
    assert marker["config_hash"] == plan2.training_keys["deep"]  # the trainer's fingerprint is the key
    assert "# edited" in (new_dir / "data" / "train.jsonl").read_text(encoding="utf-8")


def test_checkpoints_the_plan_did_not_foresee_are_evaluated_once(ray_session, cache_dir, tmp_path, caplog):
    """16 rows of builtin:deep and 16 whose question alone is longer than training.max_seq_len: the plan counts all
    32, the tokenizer drops the long ones (no answer token left), so training takes half the steps the plan expected.
    Over 2 epochs the plan expects checkpoints at steps 2, 4 (epoch 1), 6, 8 (epoch 2); training writes step 2
    (epoch 1) and step 4 (epoch 2). The pipelined sweep evaluates exactly those two and the base model; the trials
    of the planned ones that never came end without a result."""
    import logging

    from codegen_ray.builtin import builtin_data_path
    from codegen_ray.sweep import plan_sweep, run_sweep

    rows = [json.loads(line) for line in builtin_data_path("deep").read_text(encoding="utf-8").splitlines()[:16]]
    long_rows = [{"messages": [{"role": "user", "content": " ".join(["word"] * 2000) + f" question {i}"},
                               {"role": "assistant", "content": f"print({i})"}]} for i in range(16)]
    data = tmp_path / "long.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows + long_rows), encoding="utf-8")
    overrides = _overrides(tmp_path / "out", cache_dir) + [
        f'data.variants=[{{name: long, path: "{data}"}}]', "training.epochs=2", "ray.pipeline=true"]
    cfg = load_config(None, overrides)
    planned = [c.name for c in plan_sweep(cfg).variants[0].checkpoints]
    with caplog.at_level(logging.INFO, logger="codegen_ray.sweep.pipeline"):
        res = run_sweep(cfg, progress=False)
    written = [c.checkpoint for c in res.results if c.variant == "long"]
    marker = json.loads(next((tmp_path / "out" / "training").glob("*/long/training_complete.json")).read_text())
    assert planned == ["checkpoint-step-2-epoch-1", "checkpoint-step-4-epoch-1", "checkpoint-step-6-epoch-2",
                       "checkpoint-step-8-epoch-2"]
    assert sorted(written) == sorted(f"checkpoint-step-{c['step']}-epoch-{c['epoch']}" for c in marker["checkpoints"])
    assert sorted(written) == ["checkpoint-step-2-epoch-1", "checkpoint-step-4-epoch-2"]
    assert res.ok and all(r.status == "ok" for r in res.results) and len(res.results) == 3
    assert res.counters["evaluations_run"] == 3
    assert "the plan did not foresee: long/checkpoint-step-4-epoch-2" in caplog.text
