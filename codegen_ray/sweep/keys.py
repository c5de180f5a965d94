"""Output keys and paths: a sweep's results are keyed by hashes of the parts of the resolved config that change
them, so a rerun of the same command finds (and reuses) finished trainings, generations and evaluations."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..benchmarks import benchmark_for
from ..config import SweepConfig, stable_hash
from ..errors import ConfigError

_TRAIN_SECTIONS = ("model", "lora", "training", "data")


_RESOURCE_KEYS = {"num_actors", "cpus_per_actor", "gpus_per_actor", "num_workers", "cpus_per_worker",
                  "gpus_per_worker", "batch_size", "hf_max_adapters"}


def _strip_resources(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in _RESOURCE_KEYS and k != "max_failures"}


def training_key(cfg: SweepConfig) -> str:
    data = {s: getattr(cfg, s) for s in _TRAIN_SECTIONS}
    blob = {k: _strip_resources(dataclasses.asdict(v)) for k, v in data.items()}
    return stable_hash(blob)


def evaluation_key(cfg: SweepConfig) -> str:
    generation = _strip_resources({k: v for k, v in dataclasses.asdict(cfg.generation).items() if k != "vllm"})
    generation.pop("replay_path")
    if cfg.generation.backend == "replay":
        # The file's content, not its name: an edited replay file is a new evaluation (and a moved one is not).
        generation["replay_sha256"] = _replay_sha256(cfg)
    blob = {
        "train": training_key(cfg),
        "benchmark": benchmark_for(cfg).key_data(),
        "generation": generation,
        "execution": _strip_resources(dataclasses.asdict(cfg.execution)),
    }
    return stable_hash(blob)


def replay_path(cfg: SweepConfig) -> Optional[Path]:
    """The replay file (``generation.replay_path``, relative to the config file), absolute; None without replay."""
    if cfg.generation.backend != "replay" or not cfg.generation.replay_path:
        return None
    return cfg.resolve_path(cfg.generation.replay_path).resolve()


def _replay_sha256(cfg: SweepConfig) -> str:
    from ..generation.replay_backend import file_sha256

    path = replay_path(cfg)
    try:
        return file_sha256(path)
    except OSError as err:
        raise ConfigError("generation.replay_path", f"cannot read {path}: {err.strerror or err}") from None


@dataclass(frozen=True)
class SweepPaths:
    """Where everything lands. Training is keyed by the training hash, evaluation by the evaluation hash."""

    output_root: Path  # absolute
    benchmark_dir: str
    train_key: str
    eval_key: str
    storage_path: Optional[str] = None  # cluster: shared storage for Ray Train checkpoints

    @classmethod
    def for_config(cls, cfg: SweepConfig) -> "SweepPaths":
        return cls(Path(cfg.output.root).expanduser().resolve(), cfg.output.benchmark_dir or cfg.benchmark.name,
                   training_key(cfg), evaluation_key(cfg), cfg.ray.storage_path)

    @property
    def benchmark_root(self) -> Path:
        return self.output_root / self.benchmark_dir

    def training_dir(self, variant: str) -> Path:
        return self.output_root / "training" / self.train_key / variant

    @property
    def generations_dir(self) -> Path:
        return self.benchmark_root / "generations" / self.eval_key

    @property
    def evaluations_dir(self) -> Path:
        return self.benchmark_root / "evaluations" / self.eval_key

    @property
    def detailed_dir(self) -> Path:
        return self.benchmark_root / "detailed" / self.eval_key

    @property
    def run_dir(self) -> Path:
        return self.benchmark_root / "runs" / self.eval_key

    @property
    def ray_storage(self) -> str:
        return self.storage_path or str(self.output_root / "ray")
