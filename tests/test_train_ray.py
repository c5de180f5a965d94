"""train_variant through the real Ray Train TorchTrainer: 2 CPU workers, adapter-only checkpoints, MLflow logging,
idempotent reruns (the recorded training interval kept), and resume after a worker raises or after the run stopped
before training (its first start kept)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from codegen_ray.config import config_from_dict
from codegen_ray.errors import UserError
from test_train_core import synthetic_rows

pytestmark = [pytest.mark.ray, pytest.mark.slow]

# 36 rows, one excluded → 35; val = round(3.5) = 4, train 31; per rank ceil(31 / 2) = 16 rows = 4 micro-batches of 4
# = 4 steps per epoch, 8 in all; saves every 3 steps and at each epoch end.
EXPECTED = ["checkpoint-step-3-epoch-1", "checkpoint-step-4-epoch-1", "checkpoint-step-6-epoch-2",
            "checkpoint-step-8-epoch-2"]
ADAPTER_ONLY = {"adapter_config.json", "adapter_model.safetensors", "meta.json", "optimizer.pt", "trainer_state.json"}


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("train_data") / "syn.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in synthetic_rows(36)), encoding="utf-8")
    return path


def make_cfg(data_file: Path, **training):
    return config_from_dict({
        "lora": {"r": 4, "alpha": 8, "dropout": 0.05},
        "training": {"epochs": 2, "micro_batch_size": 4, "learning_rate": 5e-3, "warmup_ratio": 0.1,
                     "max_seq_len": 256, "save_steps": 3, "log_every": 1, "seed": 11, "num_workers": 2,
                     "cpus_per_worker": 0.5, "max_failures": 1, **training},
        "data": {"variants": [{"name": "syn", "path": str(data_file)}], "val_fraction": 0.1},
    })


@pytest.fixture(scope="module")
def full_run(ray_session, data_file, tiny_model_path, tmp_path_factory):
    """One uninterrupted 2-worker run, logging into an MLflow run."""
    from mlflow import MlflowClient

    from codegen_ray.train.trainer import train_variant

    root = tmp_path_factory.mktemp("ray_full")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(uri)
    run = client.create_run(client.create_experiment("train-test"))
    cfg = make_cfg(data_file)
    result = train_variant(cfg, cfg.data.variants[0], root / "out", model_path=str(tiny_model_path),
                           exclude_sources=frozenset({f"{data_file}:5"}), mlflow_run_id=run.info.run_id,
                           tracking_uri=uri)
    return cfg, result, client, run.info.run_id, root


def test_two_worker_run_writes_adapter_only_checkpoints(full_run, data_file):
    cfg, result, client, run_id, root = full_run
    out = root / "out"
    assert [c.name for c in result.checkpoints] == EXPECTED
    assert [c.step for c in result.checkpoints] == [3, 4, 6, 8]
    assert result.split_sizes == {"train": 31, "val": 4, "test": 0}
    assert result.num_excluded == 1 and result.num_zero_label_dropped == 0
    assert f"{data_file}:5" not in (out / "data" / "train.jsonl").read_text()
    on_disk = sorted(p.name for p in (out / "checkpoints").iterdir() if p.name.startswith("checkpoint-step-"))
    assert on_disk == EXPECTED
    for ref in result.checkpoints:
        d = Path(ref.adapter_path)
        assert d.parent == out / "checkpoints"
        assert {p.name for p in d.iterdir()} == ADAPTER_ONLY
        size = (d / "adapter_model.safetensors").stat().st_size
        assert size < 200_000  # LoRA r=4 on 4 layers; the base model alone is several MB
        meta = json.loads((d / "meta.json").read_text())
        assert (meta["variant"], meta["step"], meta["epoch"], meta["seed"]) == ("syn", ref.step, ref.epoch, 11)
        assert meta["config_hash"] == result.config_hash
        assert meta["train_loss"] == ref.train_loss and meta["val_loss"] == ref.val_loss
        assert ref.val_loss is not None and ref.train_loss is not None
    assert [r.step for r in result.history] == list(range(1, 9))
    assert [v.step for v in result.val_history] == [3, 4, 6, 8]
    assert result.history[-1].loss < result.history[0].loss
    assert result.hyperparameters["training.num_workers"] == 2 and result.hyperparameters["model.dtype"] == "float32"
    # MLflow: per-step training metrics and per-checkpoint validation loss, logged by rank 0 only.
    train_loss = client.get_metric_history(run_id, "train_loss")
    assert sorted(m.step for m in train_loss) == list(range(1, 9))
    assert [m.value for m in sorted(train_loss, key=lambda m: m.step)] == pytest.approx([r.loss for r in result.history])
    assert sorted(m.step for m in client.get_metric_history(run_id, "val_loss")) == [3, 4, 6, 8]
    assert len(client.get_metric_history(run_id, "tokens_per_s")) == 8


def test_rerun_returns_finished_result_and_refuses_other_config(full_run, tiny_model_path, data_file):
    from codegen_ray.train.trainer import read_training_result, train_variant

    cfg, result, _client, _run_id, root = full_run
    again = train_variant(cfg, cfg.data.variants[0], root / "out", model_path=str(tiny_model_path),
                          exclude_sources=frozenset({f"{data_file}:5"}))
    assert again.reused and again.checkpoints == result.checkpoints and again.history == result.history
    assert again.interval == result.interval and result.interval.seconds > 0  # when it trained, not this call
    assert read_training_result(root / "out") == result
    other = make_cfg(data_file, learning_rate=1e-3)
    with pytest.raises(UserError, match="different configuration"):
        train_variant(other, other.data.variants[0], root / "out", model_path=str(tiny_model_path),
                      exclude_sources=frozenset({f"{data_file}:5"}))


def test_resources_and_a_moved_data_file_reuse_the_run_but_an_edit_does_not(full_run, tiny_model_path, data_file,
                                                                              tmp_path):
    """The fingerprint is the sweep's training key: the data file's bytes (not its path) and no resource settings."""
    import shutil

    from codegen_ray.train.trainer import train_variant

    cfg, result, _client, _run_id, root = full_run
    moved = tmp_path / "elsewhere.jsonl"
    shutil.copyfile(data_file, moved)
    other = make_cfg(moved, cpus_per_worker=0.25, max_failures=0)  # other resources, the same two workers
    again = train_variant(other, other.data.variants[0], root / "out", model_path=str(tiny_model_path),
                          exclude_sources=frozenset({f"{moved}:5"}))
    assert again.reused and again.checkpoints == result.checkpoints and again.config_hash == result.config_hash
    rows = moved.read_text(encoding="utf-8").splitlines(keepends=True)
    row = json.loads(rows[0])
    row["messages"][-1]["content"] += " (edited)"
    moved.write_text("".join([json.dumps(row) + "\n", *rows[1:]]), encoding="utf-8")  # edited in place
    with pytest.raises(UserError, match="different configuration"):
        train_variant(other, other.data.variants[0], root / "out", model_path=str(tiny_model_path),
                      exclude_sources=frozenset({f"{moved}:5"}))


def test_worker_failure_resumes_from_last_checkpoint(full_run, tiny_model_path, data_file, tmp_path, monkeypatch):
    from faults import crash_once_after_checkpoints

    from codegen_ray.train.trainer import train_variant

    cfg, full, *_ = full_run
    out = tmp_path / "out"
    # A first attempt stops after recording its start (run.json) and before training: the training began then.
    first_start = time.time() - 3600

    def stopped(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("codegen_ray.train.trainer.check_model", stopped)
    with pytest.raises(KeyboardInterrupt):
        train_variant(cfg, cfg.data.variants[0], out, model_path=str(tiny_model_path),
                      exclude_sources=frozenset({f"{data_file}:5"}), started_at=first_start)
    monkeypatch.undo()
    resumed_at = time.time()
    monkeypatch.setattr("codegen_ray.train.trainer.train_loop_per_worker",
                        crash_once_after_checkpoints(1, out / ".injected_failure"))
    result = train_variant(cfg, cfg.data.variants[0], out, model_path=str(tiny_model_path),
                           exclude_sources=frozenset({f"{data_file}:5"}), started_at=resumed_at)
    assert result.interval.started_at == first_start and result.interval.finished_at > resumed_at
    assert (out / ".injected_failure").is_file()  # the worker did raise after checkpoint-step-3
    assert [c.name for c in result.checkpoints] == EXPECTED
    assert [r.step for r in result.history] == list(range(1, 9))  # no step trained twice, none skipped
    # The resumed run restored adapter, optimizer, scheduler, data position and RNG: same numbers as uninterrupted.
    assert [c.val_loss for c in result.checkpoints] == pytest.approx([c.val_loss for c in full.checkpoints], rel=1e-4)
    assert [r.lr for r in result.history] == pytest.approx([r.lr for r in full.history])
    assert [r.loss for r in result.history] == pytest.approx([r.loss for r in full.history], rel=1e-4)
