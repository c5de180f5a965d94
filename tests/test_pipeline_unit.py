"""The pieces of a pipelined sweep, without Ray: the checkpoint board's waits, the order of the evaluation trials,
how many training trials fit beside the evaluation's share, and fetching a checkpoint from non-local storage.

The board is a plain class with async methods (Ray runs it as an async actor); here it runs on one asyncio loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from codegen_ray.sweep.checkpoint_board import CheckpointBoard
from codegen_ray.sweep.evaluation_stage import planned_targets
from codegen_ray.sweep.plan import PlannedCheckpoint
from codegen_ray.train.saved import ref_from_report
from codegen_ray.types import CheckpointRef


def _saved(variant: str, step: int, epoch: int, path: str = "/x") -> CheckpointRef:
    return CheckpointRef(variant, step, epoch, adapter_path=f"{path}/{variant}-{step}")


def test_a_wait_returns_the_checkpoint_once_published_and_the_first_announcement_wins():
    async def scenario():
        board = CheckpointBoard()
        waiter = asyncio.ensure_future(board.wait("deep", 3, 1))
        await asyncio.sleep(0.05)
        assert not waiter.done()  # nothing published yet: it waits
        await board.publish(_saved("deep", 4, 1))  # another checkpoint does not wake it with the wrong one
        await asyncio.sleep(0.05)
        assert not waiter.done()
        await board.publish(_saved("deep", 3, 1, "/storage"))
        answer = await asyncio.wait_for(waiter, 5)
        await board.publish(_saved("deep", 3, 1, "/local-copy"))
        again = await board.wait("deep", 3, 1)  # already there: at once, the first announcement
        return answer, again, board.published()

    answer, again, published = asyncio.run(scenario())
    assert answer.ref.adapter_path == "/storage/deep-3" and answer.ended_without == ""
    assert again.ref.adapter_path == "/storage/deep-3"
    assert published == [("deep", 3, 1), ("deep", 4, 1)]


def test_a_training_that_ends_without_the_checkpoint_ends_the_wait_and_says_why():
    async def scenario():
        board = CheckpointBoard()
        never = asyncio.ensure_future(board.wait("deep", 9, 3))
        failed = asyncio.ensure_future(board.wait("diverse", 3, 1))
        other = asyncio.ensure_future(board.wait("deep", 3, 1))
        await board.publish(_saved("deep", 3, 1))
        await board.end("deep")
        await board.end("diverse", "RuntimeError: worker died")
        await board.end("diverse", "the training stage ended")  # the first end wins
        return await asyncio.wait_for(asyncio.gather(never, failed, other), 5)

    never, failed, other = asyncio.run(scenario())
    assert never.ref is None and never.ended_without == "deep checkpoint step 9 epoch 3: its training ended without it"
    assert failed.ref is None and "its training failed: RuntimeError: worker died" in failed.ended_without
    assert other.ref is not None  # published before the end: still answered with the checkpoint


@dataclass
class _Variant:
    name: str
    checkpoints: list[PlannedCheckpoint]


@dataclass
class _Plan:
    variants: list[_Variant]


def test_evaluation_trials_come_in_the_order_training_saves_checkpoints():
    plan = _Plan([_Variant("deep", [PlannedCheckpoint(3, 1), PlannedCheckpoint(6, 2)]),
                  _Variant("diverse", [PlannedCheckpoint(2, 1), PlannedCheckpoint(4, 1), PlannedCheckpoint(8, 2)]),
                  _Variant("third", [PlannedCheckpoint(5, 1)])])

    def order(concurrency):
        return [(t["variant"], t["step"]) for t in planned_targets(plan, concurrency)]

    # All variants at once: by step (ties in config order); the base model first, not awaited.
    assert order(3) == [("base", 0), ("diverse", 2), ("deep", 3), ("diverse", 4), ("third", 5), ("deep", 6),
                        ("diverse", 8)]
    # Two at a time: the third variant trains after the first two, so its checkpoint comes last.
    assert order(2) == [("base", 0), ("diverse", 2), ("deep", 3), ("diverse", 4), ("deep", 6), ("diverse", 8),
                        ("third", 5)]
    # One at a time: variant by variant.
    assert order(1) == [("base", 0), ("deep", 3), ("deep", 6), ("diverse", 2), ("diverse", 4), ("diverse", 8),
                        ("third", 5)]
    targets = planned_targets(plan, 3)
    assert "planned" not in targets[0] and all(t["planned"] for t in targets[1:])
    assert targets[1] == {"variant": "diverse", "step": 2, "epoch": 1, "planned": True}


class _Persisted:
    """What Ray Train hands a callback: a persisted checkpoint's path and filesystem."""

    def __init__(self, path: str, filesystem) -> None:
        self.path, self.filesystem = path, filesystem


def test_a_report_in_local_storage_is_announced_where_it_lies():
    from pyarrow.fs import LocalFileSystem

    ckpt = _Persisted("/store/deep-abc/checkpoint-step-6-epoch-2", LocalFileSystem())
    metrics = {"step": 6, "epoch": 2, "train_loss": 1.5, "val_loss": 2.25, "loop_tokens": 9}
    ref = ref_from_report("deep", metrics, ckpt, Path("/out/deep/checkpoints"), "/store/deep-abc")
    assert ref == CheckpointRef("deep", 6, 2, "/store/deep-abc/checkpoint-step-6-epoch-2", 1.5, 2.25,
                                storage_uri="/store/deep-abc/checkpoint-step-6-epoch-2")
    # No ray.storage_path: Ray Train persists into the output directory itself.
    own = ref_from_report("deep", {"step": 1, "epoch": 1}, _Persisted("/out/deep/checkpoints/c1", LocalFileSystem()),
                          Path("/out/deep/checkpoints"), None)
    assert own.adapter_path == "/out/deep/checkpoints/c1" and own.storage_uri is None
    assert own.val_loss is None and own.train_loss is None
    assert ref_from_report("deep", {"step": 1, "epoch": 1}, None, Path("/o"), None) is None  # no checkpoint


def test_a_report_in_remote_storage_is_fetched_byte_for_byte_by_a_node_without_it(tmp_path: Path):
    """Storage seen through a non-local pyarrow filesystem (a SubTreeFileSystem over a directory here; S3 on a
    cluster): the announced ``adapter_path`` is the trainer's future local copy, which does not exist yet, so the
    generation actor's ``local_checkpoint`` fetches the checkpoint from its ``storage_uri`` into the node's cache."""
    from pyarrow.fs import LocalFileSystem, SubTreeFileSystem

    from codegen_ray.generation.checkpoints import local_checkpoint

    bucket = tmp_path / "bucket"
    ckpt = bucket / "deep-abc" / "checkpoint-step-6-epoch-2"
    ckpt.mkdir(parents=True)
    files = {"adapter_model.safetensors": bytes(range(256)) * 40, "adapter_config.json": b'{"r": 8}',
             "meta.json": b'{"step": 6}'}
    for name, data in files.items():
        (ckpt / name).write_bytes(data)
    persisted = _Persisted("deep-abc/checkpoint-step-6-epoch-2", SubTreeFileSystem(str(bucket), LocalFileSystem()))
    local_dir = tmp_path / "out" / "deep" / "checkpoints"
    ref = ref_from_report("deep", {"step": 6, "epoch": 2}, persisted, local_dir, str(bucket / "deep-abc"))
    assert ref.adapter_path == str(local_dir / "checkpoint-step-6-epoch-2") and not Path(ref.adapter_path).exists()
    assert ref.storage_uri == str(ckpt)
    fetched = local_checkpoint(ref, tmp_path / "cache")
    assert {p.name: p.read_bytes() for p in Path(fetched.adapter_path).iterdir()} == files
    assert (fetched.step, fetched.epoch, fetched.storage_uri) == (6, 2, ref.storage_uri)


@pytest.mark.parametrize("cluster, expected", [({"CPU": 2.0}, 2), ({"CPU": 1.5}, 1), ({"CPU": 1.4}, 0),
                                               ({"CPU": 4.0}, 2), ({"CPU": 64.0, "GPU": 8.0}, 2)])
def test_training_trials_that_fit_beside_the_evaluation_share(cluster, expected):
    """The default: 2 variants of 0.5 + 0.01 CPU, beside 0.5 (generation) + 2 x 0.2 (execution) + 2 x 0.01."""
    from codegen_ray.sweep.tune_plumbing import count_fitting

    reserved = (0.5 + 2 * 0.2 + 2 * 0.01, 0.0)
    assert count_fitting(cluster, 0.51, 0.0, 2, reserved) == expected


def test_gpu_training_trials_fit_beside_the_generation_gpus():
    """8 GPUs, 4 per training trial, 1 vLLM actor on 1 GPU: one trial fits beside it; 2 GPUs per trial: three."""
    from codegen_ray.sweep.tune_plumbing import count_fitting

    cluster = {"CPU": 64.0, "GPU": 8.0}
    assert count_fitting(cluster, 16.01, 4.0, 2, (4.02, 1.0)) == 1
    assert count_fitting(cluster, 8.01, 2.0, 4, (4.02, 1.0)) == 3
    assert count_fitting(cluster, 8.01, 2.0, 4, (4.02, 7.0)) == 0


def test_every_trial_takes_a_little_of_the_driver_nodes_resource(monkeypatch):
    """Both stages' trials ask for ``node:<driver ip>`` (1.0 on each Ray node), so they run where the driver reads
    ``output.root``; a driver node without CPUs could never place one, and says so."""
    from codegen_ray.errors import HarnessError
    from codegen_ray.sweep import tune_plumbing as tp

    assert tp.trial_resources("10.0.0.7") == {"CPU": tp.TRIAL_CPU, "node:10.0.0.7": tp.TRIAL_NODE_SHARE}
    monkeypatch.setattr(tp, "driver_node", lambda: ("10.0.0.7", {"CPU": 2.0, "node:10.0.0.7": 1.0}))
    assert tp.driver_trial_resources() == tp.trial_resources("10.0.0.7")
    monkeypatch.setattr(tp, "driver_node", lambda: ("10.0.0.7", {"node:10.0.0.7": 1.0}))
    with pytest.raises(HarnessError, match=r"driver's Ray node \(10\.0\.0\.7\) has no CPU"):
        tp.driver_trial_resources()


@pytest.mark.parametrize("wanted, expected", [(0, 1), (3, 3), (500, 500), (5000, 500)])
def test_both_stages_at_once_never_ask_for_more_of_the_node_resource_than_there_is(wanted, expected):
    from codegen_ray.config import load_config
    from codegen_ray.sweep.evaluation_stage import eval_concurrency
    from codegen_ray.sweep.tune_plumbing import MAX_TRIALS_PER_STAGE, TRIAL_NODE_SHARE, stage_concurrency

    assert 2 * MAX_TRIALS_PER_STAGE * TRIAL_NODE_SHARE <= 1.0 + 1e-9  # a pipelined sweep runs both stages
    assert stage_concurrency(wanted) == expected
    if wanted:
        assert eval_concurrency(load_config(None, [f"ray.max_concurrent_trials={wanted}"])) == expected
