"""The per-worker LoRA training loop (``train_loop_per_worker`` of a Ray Train ``TorchTrainer``).

The loop is written against a small :class:`WorkerSession` (rank, world size, device, latest checkpoint, report), so
the same code runs under Ray Train (:class:`RaySession`) and in-process for tests (:class:`LocalSession`). The model
and the optimizer step themselves live in :mod:`codegen_ray.train.lora` (no Ray there).

Determinism: the worker seeds torch inside :func:`torch.random.fork_rng` (so an in-process run leaves the caller's
global RNG untouched): the LoRA initialisation from ``training.seed`` and each optimizer step's dropout from
``(seed, rank, step)``. A run resumed from a checkpoint therefore continues exactly as the uninterrupted run would.

A checkpoint directory ``checkpoint-step-{S}-epoch-{E}`` holds only the adapter (``adapter_model.safetensors``,
``adapter_config.json``), ``meta.json``, ``trainer_state.json`` (history, data position) and ``optimizer.pt``
(optimizer + scheduler state for resume). ``E`` is the 1-based epoch the step belongs to (``epoch_progress`` in
meta.json has the fraction).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from ..types import checkpoint_dir_name
from .lora import load_lora_model, make_scheduler, step_seed, train_step, unwrap
from .tokenize import IGNORE_INDEX, TokenizedExample, collate

log = logging.getLogger(__name__)

META_FILE = "meta.json"
STATE_FILE = "trainer_state.json"
OPTIMIZER_FILE = "optimizer.pt"
ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json")


@dataclass
class WorkerSpec:
    """Everything a worker needs; pickled into ``train_loop_config``."""

    variant: str
    model_path: str
    dtype: str  # resolved: float32 / bfloat16 / float16
    trust_remote_code: bool
    lora: dict[str, Any]
    training: dict[str, Any]  # TrainingConfig fields (cfg.training_for(variant))
    train_data: Any  # list[TokenizedExample] or a Ray ObjectRef to one
    val_data: Any
    pad_id: int
    config_hash: str
    mlflow_run_id: Optional[str] = None
    tracking_uri: Optional[str] = None
    progress: bool = False


# ------------------------------------------------------------------------------------------------------- session
class WorkerSession:
    rank: int = 0
    world_size: int = 1

    def device(self):
        import torch

        return torch.device("cpu")

    def prepare(self, model):
        return model

    @contextlib.contextmanager
    def latest_checkpoint(self) -> Iterator[Optional[Path]]:
        yield None

    def report(self, metrics: dict[str, Any], checkpoint_dir: Optional[Path], name: str) -> None:
        raise NotImplementedError

    def all_reduce_sum(self, values: Sequence[float]) -> list[float]:
        return list(values)


class RaySession(WorkerSession):
    def __init__(self) -> None:
        import ray.train

        ctx = ray.train.get_context()
        self.rank = ctx.get_world_rank()
        self.world_size = ctx.get_world_size()

    def device(self):
        import ray.train.torch

        return ray.train.torch.get_device()

    def prepare(self, model):
        import ray.train.torch

        return ray.train.torch.prepare_model(model)

    @contextlib.contextmanager
    def latest_checkpoint(self) -> Iterator[Optional[Path]]:
        import ray.train

        ckpt = ray.train.get_checkpoint()
        if ckpt is None:
            yield None
            return
        with ckpt.as_directory() as d:
            yield Path(d)

    def report(self, metrics: dict[str, Any], checkpoint_dir: Optional[Path], name: str) -> None:
        import ray.train

        ckpt = ray.train.Checkpoint.from_directory(str(checkpoint_dir)) if checkpoint_dir is not None else None
        ray.train.report(metrics, checkpoint=ckpt, checkpoint_dir_name=name)

    def all_reduce_sum(self, values: Sequence[float]) -> list[float]:
        import torch
        import torch.distributed as dist

        if self.world_size == 1 or not dist.is_initialized():
            return list(values)
        t = torch.tensor(list(values), dtype=torch.float64, device=self.device())
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.tolist()


class LocalSession(WorkerSession):
    """One in-process worker; checkpoints are copied to ``checkpoint_root`` (tests, debugging)."""

    def __init__(self, checkpoint_root: Path, resume_from: Optional[Path] = None) -> None:
        self.checkpoint_root = Path(checkpoint_root)
        self.resume_from = resume_from
        self.reports: list[dict[str, Any]] = []

    @contextlib.contextmanager
    def latest_checkpoint(self) -> Iterator[Optional[Path]]:
        yield self.resume_from

    def report(self, metrics: dict[str, Any], checkpoint_dir: Optional[Path], name: str) -> None:
        self.reports.append(dict(metrics))
        if checkpoint_dir is not None:
            dest = self.checkpoint_root / name
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(checkpoint_dir, dest)


# ----------------------------------------------------------------------------------------------------- the model
def build_lora_model(spec: WorkerSpec):
    """Base model (frozen) + a fresh LoRA adapter from ``spec.lora``."""
    return load_lora_model(spec.model_path, spec.dtype, spec.trust_remote_code, spec.lora,
                           bool(spec.training.get("gradient_checkpointing")))


# ------------------------------------------------------------------------------------------------------ schedule
@dataclass(frozen=True)
class Schedule:
    micro_batches_per_epoch: int
    steps_per_epoch: int
    total_steps: int
    warmup_steps: int

    @staticmethod
    def of(num_train: int, world_size: int, training: dict[str, Any]) -> "Schedule":
        per_rank = math.ceil(num_train / world_size)  # DistributedSampler(drop_last=False) pads to this
        micro = math.ceil(per_rank / training["micro_batch_size"])
        steps = math.ceil(micro / training["gradient_accumulation_steps"])
        total = steps * training["epochs"]
        return Schedule(micro, steps, total, math.ceil(training["warmup_ratio"] * total))

    def saves_checkpoint(self, step: int, save_steps: int) -> bool:
        """Whether optimizer step ``step`` ends with a checkpoint: every epoch end, and every ``save_steps``."""
        return step % self.steps_per_epoch == 0 or (save_steps > 0 and step % save_steps == 0)


def planned_checkpoints(training: dict[str, Any], num_train: int) -> tuple[int, list[tuple[int, int]]]:
    """What a run will do, before it starts: its optimizer steps and the ``(step, epoch)`` of every checkpoint it
    writes (``training``: the variant's TrainingConfig fields; ``num_train``: training rows)."""
    sched = Schedule.of(num_train, training["num_workers"], training)
    return sched.total_steps, [(step, math.ceil(step / sched.steps_per_epoch))
                               for step in range(1, sched.total_steps + 1)
                               if sched.saves_checkpoint(step, training["save_steps"])]


# ------------------------------------------------------------------------------------------------------ the loop
def train_loop_per_worker(config: dict[str, Any]) -> None:
    """Ray Train entry point: ``TorchTrainer(train_loop_per_worker, train_loop_config={"spec": WorkerSpec})``."""
    run_worker(config["spec"], RaySession())


def run_worker(spec: WorkerSpec, session: WorkerSession) -> None:
    import torch

    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        _Trainer(spec, session).run()


def _materialise(data: Any) -> list[TokenizedExample]:
    if isinstance(data, list):
        return data
    import ray

    return ray.get(data)


class _Trainer:
    def __init__(self, spec: WorkerSpec, session: WorkerSession) -> None:
        self.spec = spec
        self.s = session
        self.tc = spec.training
        self.train = _materialise(spec.train_data)
        self.val = _materialise(spec.val_data)
        self.sched = Schedule.of(len(self.train), session.world_size, self.tc)
        self.history: list[dict[str, Any]] = []
        self.val_history: list[dict[str, Any]] = []
        self.checkpoints_done = 0
        self.mlflow = None

    # ---------------------------------------------------------------------------------------------- helpers
    def _log_mlflow(self, metrics: dict[str, float], step: int) -> None:
        if self.s.rank != 0 or not self.spec.mlflow_run_id:
            return
        if self.mlflow is None:
            from mlflow import MlflowClient

            self.mlflow = MlflowClient(self.spec.tracking_uri)
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.mlflow.log_batch(
            self.spec.mlflow_run_id,
            metrics=[Metric(k, float(v), now, step) for k, v in metrics.items() if v is not None],
        )

    def _batches(self, indices: list[int]) -> list[list[int]]:
        mb = self.tc["micro_batch_size"]
        return [indices[i:i + mb] for i in range(0, len(indices), mb)]

    def _to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}

    @staticmethod
    def _items(ex: TokenizedExample) -> int:
        # Labels are shifted inside the model: position 0 never counts.
        return sum(1 for x in ex.labels[1:] if x != IGNORE_INDEX)

    def _num_items(self, examples: Sequence[TokenizedExample]) -> int:
        return sum(self._items(ex) for ex in examples)

    def evaluate(self, model) -> Optional[float]:
        """Mean per-token loss on the validation split (sharded over ranks, summed with all-reduce)."""
        import torch

        if not self.val:
            return None
        inner = unwrap(model)
        inner.eval()
        loss_sum, items = 0.0, 0
        mine = list(range(self.s.rank, len(self.val), self.s.world_size))
        with torch.no_grad():
            for idx in self._batches(mine):
                exs = [self.val[i] for i in idx]
                n = self._num_items(exs)
                if n == 0:
                    continue
                out = inner(**self._to_device(collate(exs, self.spec.pad_id)), num_items_in_batch=1)
                loss_sum += float(out.loss)
                items += n
        inner.train()
        loss_sum, items = self.s.all_reduce_sum([loss_sum, float(items)])
        return loss_sum / items if items else None

    # ------------------------------------------------------------------------------------------------- run
    def run(self) -> None:
        import torch
        from torch.utils.data import DistributedSampler

        tc, spec = self.tc, self.spec
        torch.manual_seed(tc["seed"])  # same LoRA init on every rank (worker-local: inside fork_rng)
        self.device = self.s.device()
        model = build_lora_model(spec)
        start_epoch, start_group, step = 0, 0, 0
        opt_state = None
        with self.s.latest_checkpoint() as ckpt:
            if ckpt is not None:
                from peft import set_peft_model_state_dict
                from safetensors.torch import load_file

                set_peft_model_state_dict(model, load_file(str(ckpt / "adapter_model.safetensors")))
                state = json.loads((ckpt / STATE_FILE).read_text())
                start_epoch, start_group, step = state["next_epoch"], state["next_group"], state["global_step"]
                self.history, self.val_history = state["history"], state["val_history"]
                self.checkpoints_done = state["checkpoints_done"]
                opt_state = torch.load(ckpt / OPTIMIZER_FILE, map_location="cpu", weights_only=True)
                log.info("rank %d: resuming %s from %s (step %d)", self.s.rank, spec.variant, ckpt.name, step)
        model = self.s.prepare(model)
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=tc["learning_rate"], weight_decay=tc["weight_decay"])
        scheduler = make_scheduler(optimizer, tc["lr_scheduler"], self.sched.warmup_steps, self.sched.total_steps)
        if opt_state is not None:
            optimizer.load_state_dict(opt_state["optimizer"])
            scheduler.load_state_dict(opt_state["scheduler"])
        sampler = DistributedSampler(
            range(len(self.train)), num_replicas=self.s.world_size, rank=self.s.rank, shuffle=True,
            seed=tc["seed"], drop_last=False,
        )
        bar = None
        if spec.progress and self.s.rank == 0:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.sched.total_steps, initial=step, desc=f"train {spec.variant}", unit="step",
                       file=sys.stderr, dynamic_ncols=True)
        model.train()
        # Accumulated since the last log line / the last checkpoint: [loss*items, items, tokens, seconds].
        log_win = [0.0, 0.0, 0.0, 0.0]
        ckpt_win = [0.0, 0.0]
        loop_t0 = time.perf_counter()
        self.loop_cpu0 = time.process_time()
        loop_tokens = 0.0
        accum = tc["gradient_accumulation_steps"]
        train_items = [self._items(ex) for ex in self.train]
        for epoch in range(start_epoch, tc["epochs"]):
            sampler.set_epoch(epoch)
            batches = self._batches(list(sampler))
            groups = [batches[i:i + accum] for i in range(0, len(batches), accum)]
            for g in range(start_group if epoch == start_epoch else 0, len(groups)):
                t0 = time.perf_counter()
                torch.manual_seed(step_seed(tc["seed"], self.s.rank, step))
                group = [collate([self.train[i] for i in idx], spec.pad_id) for idx in groups[g]]
                n_items = max(1, sum(train_items[i] for idx in groups[g] for i in idx))
                result = train_step(model, optimizer, scheduler, params, group, self.device, n_items,
                                    tc["max_grad_norm"])
                group_loss, tokens, lr = result.loss, result.tokens, result.lr
                step += 1
                if self.device.type == "cuda":
                    torch.cuda.synchronize(self.device)
                dt = time.perf_counter() - t0
                loop_tokens += tokens
                for i, v in enumerate((group_loss * n_items, n_items, tokens, dt)):
                    log_win[i] += v
                ckpt_win[0] += group_loss * n_items
                ckpt_win[1] += n_items
                if bar is not None:
                    bar.update(1)
                epoch_end = g == len(groups) - 1
                save = epoch_end or (tc["save_steps"] > 0 and step % tc["save_steps"] == 0)
                if step % tc["log_every"] == 0 or save:
                    loss_sum, items, toks, secs = self.s.all_reduce_sum(log_win)
                    secs /= self.s.world_size  # wall time ≈ mean over ranks
                    rec = {
                        "step": step, "epoch": epoch + 1, "loss": loss_sum / max(items, 1.0), "lr": lr,
                        "tokens_per_s": toks / secs if secs > 0 else 0.0,
                    }
                    self.history.append(rec)
                    self._log_mlflow({"train_loss": rec["loss"], "lr": lr, "tokens_per_s": rec["tokens_per_s"]}, step)
                    if bar is not None:
                        bar.set_postfix(loss=f"{rec['loss']:.4f}", lr=f"{lr:.2e}", tok_s=f"{rec['tokens_per_s']:.0f}")
                    log_win = [0.0, 0.0, 0.0, 0.0]
                if save:
                    next_epoch, next_group = (epoch + 1, 0) if epoch_end else (epoch, g + 1)
                    self._checkpoint(model, optimizer, scheduler, step, epoch, g, len(groups), ckpt_win,
                                     next_epoch, next_group, loop_t0, loop_tokens)
                    ckpt_win = [0.0, 0.0]
        if bar is not None:
            bar.close()

    def _checkpoint(self, model, optimizer, scheduler, step, epoch, g, n_groups, ckpt_win, next_epoch, next_group,
                    loop_t0, loop_tokens) -> None:
        import torch

        spec = self.spec
        val_loss = self.evaluate(model)
        loss_sum, items, tokens = self.s.all_reduce_sum([ckpt_win[0], ckpt_win[1], loop_tokens])
        train_loss = loss_sum / items if items else None
        name = checkpoint_dir_name(step, epoch + 1)
        self.val_history.append({"step": step, "epoch": epoch + 1, "val_loss": val_loss})
        self.checkpoints_done += 1
        meta = {
            "variant": spec.variant,
            "step": step,
            "epoch": epoch + 1,
            "epoch_progress": epoch + (g + 1) / n_groups,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "config_hash": spec.config_hash,
            "seed": self.tc["seed"],
            "total_steps": self.sched.total_steps,
            "base_model": spec.model_path,
        }
        metrics = {k: meta[k] for k in ("step", "epoch", "train_loss", "val_loss") if meta[k] is not None}
        # Tokens (non-padding, all ranks) and wall seconds of this worker's loop since it started (or resumed).
        metrics["loop_tokens"] = meta["loop_tokens"] = tokens
        metrics["loop_wall_s"] = meta["loop_wall_s"] = time.perf_counter() - loop_t0
        meta["loop_cpu_s"] = time.process_time() - self.loop_cpu0  # this process, all threads
        meta["torch_threads"] = torch.get_num_threads()
        if val_loss is not None:
            self._log_mlflow({"val_loss": val_loss}, step)
        tmp: Optional[Path] = None
        try:
            if self.s.rank == 0:
                tmp = Path(tempfile.mkdtemp(prefix=f"{name}-"))
                unwrap(model).save_pretrained(str(tmp))
                readme = tmp / "README.md"  # peft's model-card stub: not part of the adapter
                if readme.exists():
                    readme.unlink()
                (tmp / META_FILE).write_text(json.dumps(meta, indent=2))
                state = {
                    "global_step": step, "next_epoch": next_epoch, "next_group": next_group,
                    "checkpoints_done": self.checkpoints_done, "history": self.history,
                    "val_history": self.val_history, "schedule": dataclasses.asdict(self.sched),
                }
                (tmp / STATE_FILE).write_text(json.dumps(state, indent=1))
                torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
                           tmp / OPTIMIZER_FILE)
            self.s.report(metrics, tmp, name)
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
