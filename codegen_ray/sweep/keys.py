"""Output keys and paths: a sweep's results are keyed by hashes of what determines them, so a rerun of the same
command finds (and reuses) finished trainings, generations and evaluations, and a rerun that changes something that
matters does not.

* **Training key**, one per variant: :func:`codegen_ray.train.training_key`, the same function that stamps the
  trainer's ``run.json`` (what is in it: :mod:`codegen_ray.train.identity`).
* **Evaluation key**, one per sweep: every variant's training key, the base model, the benchmark's problems
  (``Benchmark.key_data``: local files by their bytes, hub datasets by name and revision), the generation settings
  that change outputs (the backend as resolved, sampling, the dtype generation runs in, vLLM's ``max_model_len`` and
  ``dtype`` with the vLLM backend, the replay file's bytes with the replay backend) and the execution settings that
  change verdicts.

Resource settings (``config.RESOURCE``: CPUs and GPUs per worker or actor, actor counts, execution slots,
``max_failures``, batch sizes, vLLM's memory and parallelism) are in neither, so changing them reuses finished work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from ..benchmarks import benchmark_for
from ..config import SweepConfig, stable_hash, without_resources
from ..errors import ConfigError
from ..fileio import file_sha256
from ..train.identity import model_identity, training_key


def training_keys(cfg: SweepConfig, excluded: Optional[Mapping[str, frozenset[str]]] = None) -> dict[str, str]:
    """``{variant: training key}``; ``excluded``: the rows each variant leaves out (``SweepPlan.excluded_sources``,
    none by default; only ``data.drop_contaminated`` excludes rows)."""
    excluded = excluded or {}
    return {v.name: training_key(cfg, v, excluded.get(v.name, frozenset())) for v in cfg.data.variants}


def evaluation_key(cfg: SweepConfig, excluded: Optional[Mapping[str, frozenset[str]]] = None,
                   train_keys: Optional[Mapping[str, str]] = None) -> str:
    """The sweep's evaluation key (``train_keys``: :func:`training_keys`, computed when not given)."""
    from ..generation.base import resolve_backend_kind

    if train_keys is None:
        train_keys = training_keys(cfg, excluded)
    blob = {
        "train": dict(sorted(train_keys.items())),
        "model": model_identity(cfg),
        "benchmark": benchmark_for(cfg).key_data(),
        "generation": generation_identity(cfg, resolve_backend_kind(cfg.generation.backend, cfg.generation)),
        "execution": without_resources(cfg.execution),
    }
    return stable_hash(blob)


def generation_identity(cfg: SweepConfig, backend: str) -> dict[str, Any]:
    """What of ``generation`` (served by the resolved ``backend``) changes the completions."""
    from ..generation.base import resolve_torch_dtype_name

    gen = without_resources(cfg.generation)
    vllm = gen.pop("vllm")
    gen.pop("replay_path")
    gen["backend"] = backend
    if backend == "replay":
        # The file's content, not its name: an edited replay file is a new evaluation (and a moved one is not).
        gen["replay_sha256"] = _replay_sha256(cfg)
    elif backend == "vllm":
        gen["vllm"] = vllm
        gen["dtype"] = cfg.model.dtype if cfg.model.dtype != "auto" else cfg.generation.vllm.dtype  # as the engine
    else:
        gen["dtype"] = resolve_torch_dtype_name(cfg.model.dtype, cfg.generation.gpus_per_actor > 0)
    return gen


def replay_path(cfg: SweepConfig) -> Optional[Path]:
    """The replay file (``generation.replay_path``, relative to the config file), absolute; None without replay."""
    if cfg.generation.backend != "replay" or not cfg.generation.replay_path:
        return None
    return cfg.resolve_path(cfg.generation.replay_path).resolve()


def _replay_sha256(cfg: SweepConfig) -> str:
    path = replay_path(cfg)
    try:
        return file_sha256(path)
    except OSError as err:
        raise ConfigError("generation.replay_path", f"cannot read {path}: {err.strerror or err}") from None


@dataclass(frozen=True)
class SweepPaths:
    """Where everything lands. Each variant's training by its training key, evaluation by the evaluation key."""

    output_root: Path  # absolute
    benchmark_dir: str
    train_keys: Mapping[str, str]  # variant -> its training key
    eval_key: str
    storage_path: Optional[str] = None  # cluster: shared storage for Ray Train checkpoints

    @classmethod
    def for_plan(cls, plan: Any) -> "SweepPaths":
        """The paths of a planned sweep (``SweepPlan``: its keys were computed with the rows it excludes)."""
        cfg = plan.cfg
        return cls(Path(cfg.output.root).expanduser().resolve(), cfg.output.benchmark_dir or cfg.benchmark.name,
                   dict(plan.training_keys), plan.evaluation_key, cfg.ray.storage_path)

    @classmethod
    def for_config(cls, cfg: SweepConfig) -> "SweepPaths":
        """The paths of ``cfg`` with no rows excluded (a sweep with ``data.drop_contaminated``: :meth:`for_plan`)."""
        keys = training_keys(cfg)
        return cls(Path(cfg.output.root).expanduser().resolve(), cfg.output.benchmark_dir or cfg.benchmark.name,
                   keys, evaluation_key(cfg, train_keys=keys), cfg.ray.storage_path)

    @property
    def train_key(self) -> str:
        """One hash of every variant's training key (names the training stage's Tune experiment)."""
        return stable_hash(sorted(self.train_keys.items()))

    @property
    def benchmark_root(self) -> Path:
        return self.output_root / self.benchmark_dir

    def training_dir(self, variant: str) -> Path:
        return self.output_root / "training" / self.train_keys[variant] / variant

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
