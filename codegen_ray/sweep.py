"""The sweep: compose the stages into one study. Nothing imports this module but the CLI and users.

Flow (one way): config → preflight (no Ray) → training Tune trials (one per variant, each fits a Ray Train
``TorchTrainer``) → evaluation Tune trials (one per (variant, checkpoint) plus the base model, sharing one generation
pool and one execution pool) → best checkpoint per variant from the ``ResultGrid`` → statistics, report, MLflow.

Outputs are keyed by hashes of the resolved config, so a rerun of the same command reuses finished trainings,
generations and evaluations; ``results/livecodebench/summary.json`` always holds the latest run's summary.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from .builtin import BUILTIN_TINY_MODEL
from .config import GenerationConfig, SweepConfig, stable_hash
from .errors import ConfigError, UserError
from .types import BASE_CHECKPOINT_NAME, CheckpointRef, Problem, checkpoint_dir_name

log = logging.getLogger(__name__)

# Sections whose values change what training produces / what evaluation measures. Resource settings do not.
_TRAIN_SECTIONS = ("model", "lora", "training", "data")
_RESOURCE_KEYS = {"num_actors", "cpus_per_actor", "gpus_per_actor", "num_workers", "cpus_per_worker",
                  "gpus_per_worker", "batch_size"}


# ------------------------------------------------------------------------------------------------------------ keys
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
        "benchmark": dataclasses.asdict(cfg.benchmark),
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
    from .generation.replay_backend import file_sha256

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
        return cls(Path(cfg.output.root).expanduser().resolve(), cfg.output.benchmark_dir, training_key(cfg),
                   evaluation_key(cfg), cfg.ray.storage_path)

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


# ------------------------------------------------------------------------------------------------------- preflight
@dataclass(frozen=True)
class PlannedCheckpoint:
    """A checkpoint the trainer will write (``checkpoint-step-{step}-epoch-{epoch}``)."""

    step: int
    epoch: int

    @property
    def name(self) -> str:
        return checkpoint_dir_name(self.step, self.epoch)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "step": self.step, "epoch": self.epoch}


@dataclass
class VariantPlan:
    name: str
    rows: int
    train_rows: int
    val_rows: int
    test_rows: int
    optimizer_steps: int
    checkpoints: list[PlannedCheckpoint]
    contaminated_rows: int

    @property
    def expected_checkpoints(self) -> list[str]:
        return [c.name for c in self.checkpoints]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rows": self.rows, "train_rows": self.train_rows, "val_rows": self.val_rows,
                "test_rows": self.test_rows, "optimizer_steps": self.optimizer_steps,
                "contaminated_rows": self.contaminated_rows, "checkpoints": [c.to_dict() for c in self.checkpoints]}


@dataclass
class SweepPlan:
    """What a sweep will do, resolved before anything heavy starts (``--dry-run`` prints it)."""

    cfg: SweepConfig
    model_path: str
    problems: list[Problem]
    variants: list[VariantPlan]
    split: Any  # report.SelectionSplit or None
    backend: str
    contamination: Any = None  # contamination.ContaminationReport
    excluded_sources: dict[str, frozenset[str]] = field(default_factory=dict)
    replay_path: Optional[Path] = None  # backend replay: the completions file, absolute

    @property
    def num_eval_trials(self) -> int:
        return 1 + sum(len(v.checkpoints) for v in self.variants)

    @property
    def generation_config(self) -> GenerationConfig:
        """``generation`` as the pool's workers get it: the replay file as an absolute path."""
        if self.replay_path is None:
            return self.cfg.generation
        return dataclasses.replace(self.cfg.generation, replay_path=str(self.replay_path))

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain JSON values (``--dry-run --json``): every checkpoint to be evaluated, with its step and
        epoch, so that a replay file can be written before the run."""
        cfg = self.cfg
        n_tests = sum(len(p.tests) for p in self.problems)
        gen = self.num_eval_trials * len(self.problems) * cfg.generation.n
        return {
            "schema": "codegen_ray.plan/1",
            "model": {"name_or_path": cfg.model.name_or_path, "path": self.model_path},
            "training_key": training_key(cfg),
            "evaluation_key": evaluation_key(cfg),
            "benchmark": {
                "source": cfg.benchmark.source,
                "problems": len(self.problems),
                "tests": n_tests,
                "question_ids": [p.question_id for p in self.problems],
                "split": None if self.split is None else {
                    "description": self.split.description,
                    "selection_ids": sorted(self.split.selection_ids),
                    "report_ids": sorted(self.split.report_ids),
                },
            },
            "generation": {"backend": self.backend, "n": cfg.generation.n,
                           "replay_path": None if self.replay_path is None else str(self.replay_path)},
            "base": {"variant": BASE_CHECKPOINT_NAME, "name": BASE_CHECKPOINT_NAME, "step": 0, "epoch": 0},
            "variants": [v.to_dict() for v in self.variants],
            "evaluation_trials": self.num_eval_trials,
            "generations": gen,
            "max_test_executions": gen * n_tests // max(len(self.problems), 1),
        }

    def describe(self) -> str:
        cfg = self.cfg
        n_tests = sum(len(p.tests) for p in self.problems)
        gen = self.num_eval_trials * len(self.problems) * cfg.generation.n
        lines = [
            f"model: {cfg.model.name_or_path} ({self.model_path})",
            f"benchmark: {cfg.benchmark.source}: {len(self.problems)} problems, {n_tests} tests"
            + (f"; {self.split.description}" if self.split is not None else ""),
            f"training trials: {len(self.variants)} (Ray Train, {cfg.training.num_workers} worker(s) each,"
            f" {cfg.training.gpus_per_worker if cfg.training.use_gpu else 0} GPU / {cfg.training.cpus_per_worker} CPU"
            " per worker)",
        ]
        for v in self.variants:
            lines.append(
                f"  {v.name}: {v.rows} rows -> train {v.train_rows} / val {v.val_rows} / test {v.test_rows};"
                f" {v.optimizer_steps} optimizer steps; checkpoints: {', '.join(v.expected_checkpoints)};"
                f" contaminated rows: {v.contaminated_rows}"
            )
        lines += [
            f"evaluation trials: {self.num_eval_trials} (base model + every checkpoint)",
            f"generations: {gen} ({cfg.generation.n} per problem; backend {self.backend},"
            f" {cfg.generation.num_actors} actor(s) x {cfg.generation.gpus_per_actor} GPU)"
            + (f"; replayed from {self.replay_path}" if self.replay_path is not None else ""),
            f"test executions: at most {gen * n_tests // max(len(self.problems), 1)}"
            f" ({cfg.execution.num_actors} execution actors x {cfg.execution.cpus_per_actor} CPU)",
        ]
        return "\n".join(lines)


def resolve_model_path(cfg: SweepConfig) -> str:
    if cfg.model.name_or_path == BUILTIN_TINY_MODEL:
        from .assets.tiny_model import ensure_tiny_model

        return str(ensure_tiny_model(cfg.cache_dir / "models"))
    path = cfg.resolve_path(cfg.model.name_or_path)
    return str(path) if path.exists() else cfg.model.name_or_path


def _expected_checkpoints(training, train_rows: int) -> tuple[int, list[PlannedCheckpoint]]:
    """Optimizer steps and the checkpoints the trainer will produce (same schedule as the workers use)."""
    from .train import planned_checkpoints

    steps, ckpts = planned_checkpoints(dataclasses.asdict(training), train_rows)
    return steps, [PlannedCheckpoint(step, epoch) for step, epoch in ckpts]


def _prepare_ray_auth(cfg: SweepConfig) -> None:
    """`ray start` (Ray >= 2.59) enables token auth and writes ~/.ray/auth_token, but a driver sends the token only
    when RAY_AUTH_MODE=token is set *before ray is imported*; without it, joining that cluster fails as "cannot
    connect". (Under `ray job submit` the job's environment already carries it.)"""
    if cfg.ray.address and "RAY_AUTH_MODE" not in os.environ and (Path.home() / ".ray" / "auth_token").is_file():
        if "ray" in sys.modules:
            log.warning("ray was imported before the sweep: set RAY_AUTH_MODE=token yourself to join a token-auth "
                        "cluster")
        os.environ["RAY_AUTH_MODE"] = "token"


def plan_sweep(cfg: SweepConfig) -> SweepPlan:
    """Preflight: resolve data, benchmark, model and tokenizer without Ray. Raises UserError on any bad input."""
    _prepare_ray_auth(cfg)
    from .contamination import TrainingRowText, find_contamination
    from .lcb.dataset import load_problems
    from .train.data import load_variant_rows, split_rows

    _check_output_writable(Path(cfg.output.root))
    _check_ray_address(cfg.ray.address)
    problems = load_problems(cfg.benchmark, base_dir=Path(cfg.source_path).parent if cfg.source_path else None)
    split = selection_split(cfg, problems)
    model_path = resolve_model_path(cfg)
    _check_model(cfg, model_path)
    rows = {v.name: load_variant_rows(cfg, v) for v in cfg.data.variants}
    contamination = find_contamination(
        [TrainingRowText(name, i, ex.text) for name, exs in rows.items() for i, ex in enumerate(exs)],
        {p.question_id: p.question_content for p in problems},
        n=cfg.data.contamination_ngram,
    )
    excluded: dict[str, frozenset[str]] = {}
    plans = []
    for v in cfg.data.variants:
        flagged = {hit.row_index for hit in contamination.hits if hit.variant == v.name}
        excluded[v.name] = (frozenset(rows[v.name][i].source for i in flagged)
                            if cfg.data.drop_contaminated else frozenset())
        kept = [ex for ex in rows[v.name] if ex.source not in excluded[v.name]]
        parts = split_rows(kept, cfg.data)
        steps, ckpts = _expected_checkpoints(cfg.training_for(v), len(parts.train))
        plans.append(VariantPlan(v.name, len(rows[v.name]), len(parts.train), len(parts.val), len(parts.test),
                                 steps, ckpts, len(flagged)))
    replay = _check_replay(cfg, problems, plans)
    return SweepPlan(cfg, model_path, problems, plans, split, _backend_name(cfg), contamination, excluded, replay)


def _check_replay(cfg: SweepConfig, problems: list[Problem], plans: list[VariantPlan]) -> Optional[Path]:
    """backend replay: the file exists, parses, and has a row with ``generation.n`` completions for every
    (base model and planned checkpoint) x problem. Raises ConfigError / DataError naming what is missing."""
    path = replay_path(cfg)
    if path is None:
        return None
    if not path.is_file():
        raise ConfigError("generation.replay_path", f"no such file: {path}")
    from .generation.replay_backend import ReplayTable

    table = ReplayTable.read(path)
    wanted = [(BASE_CHECKPOINT_NAME, 0)] + [(v.name, c.step) for v in plans for c in v.checkpoints]
    table.check_covers(wanted, [p.question_id for p in problems], cfg.generation.n)
    return path


def selection_split(cfg: SweepConfig, problems: list[Problem]):
    """Problems dated <= selection_end_date select the best checkpoint; the later ones report it (None: no split)."""
    from .report import split_by_date

    if not cfg.benchmark.selection_end_date:
        return None
    try:
        return split_by_date(problems, cfg.benchmark.selection_end_date)
    except ValueError as err:
        raise ConfigError("benchmark.selection_end_date", str(err)) from None


def _backend_name(cfg: SweepConfig) -> str:
    from .generation.base import resolve_backend_kind

    return resolve_backend_kind(cfg.generation.backend, cfg.generation)


def _check_output_writable(root: Path) -> None:
    root = root.expanduser()
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-probe-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as err:
        raise ConfigError("output.root", f"{root} is not writable: {err.strerror or err}") from None


def _check_ray_address(address: Optional[str], timeout_s: float = 5.0) -> None:
    """A cluster to join must answer now: ``ray.init`` would otherwise retry an unreachable address for minutes."""
    if not address or address == "local":
        return
    target: Optional[str] = address
    if address == "auto":
        try:
            from ray._private.services import canonicalize_bootstrap_address

            target = canonicalize_bootstrap_address("auto")
        except Exception as err:  # noqa: BLE001 - Ray raises ConnectionError/ValueError variants here
            raise ConfigError("ray.address", f"auto: no running Ray cluster found ({str(err).splitlines()[0]})") from None
        if target is None:
            raise ConfigError("ray.address", "auto: no running Ray cluster found (start one with `ray start --head`)")
    if "://" in target and not target.startswith("ray://"):
        return  # another scheme (e.g. a hosted service): Ray resolves it
    hostport = target.split("://", 1)[-1].rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError("ray.address", f"expected auto, host:port or ray://host:port, got {address!r}")
    import socket

    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as err:
        raise ConfigError("ray.address", f"cannot reach Ray at {address!r} ({host}:{port}: "
                          f"{err.strerror or type(err).__name__})") from None


def _check_model(cfg: SweepConfig, model_path: str) -> None:
    """The tokenizer has a chat template and every LoRA target module exists (meta device, no weights loaded)."""
    from transformers import AutoTokenizer

    from .train import check_model as check_lora_targets
    from .train.tokenize import check_chat_template

    try:
        tok = AutoTokenizer.from_pretrained(model_path, revision=cfg.model.revision,
                                            trust_remote_code=cfg.model.trust_remote_code)
    except (OSError, ValueError) as err:
        raise ConfigError("model.name_or_path", f"cannot load {model_path!r}: {str(err).splitlines()[0]}") from None
    check_chat_template(tok, cfg.model.name_or_path)
    check_lora_targets(model_path, cfg)


# ----------------------------------------------------------------------------------------------------- Ray runtime
@contextmanager
def ray_runtime(cfg: SweepConfig, verbose: bool) -> Iterator[None]:
    """Start (or join) Ray for the sweep; shut it down afterwards only if we started it."""
    import ray

    if ray.is_initialized():
        yield
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_TRAIN_V2_ENABLED", "1")
    # Ctrl-C must reach us as KeyboardInterrupt (Tune would otherwise swallow it and return a partial grid):
    # we then shut Ray down, and everything finished so far stays on disk for the rerun.
    os.environ.setdefault("TUNE_DISABLE_SIGINT_HANDLER", "1")
    env = {k: os.environ[k] for k in ("CODEGEN_RAY_CACHE", "VLLM_CPU_KVCACHE_SPACE", "MLFLOW_TRACKING_URI")
           if k in os.environ}
    env.update({"TOKENIZERS_PARALLELISM": "false", "RAY_USAGE_STATS_ENABLED": "0"})
    kwargs: dict[str, Any] = dict(
        include_dashboard=False,
        log_to_driver=verbose,
        logging_level=logging.INFO if verbose else logging.ERROR,
        runtime_env={"env_vars": env},
    )
    if cfg.ray.address:
        kwargs["address"] = cfg.ray.address
    else:
        # A private Ray of our own, always: a bare ray.init() first looks for a running (or long dead) cluster via
        # RAY_ADDRESS and <ray temp dir>/ray_current_cluster, and then refuses num_cpus.
        kwargs.update(address="local", num_cpus=cfg.ray.num_cpus)
    try:
        ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise ConfigError("ray.address", f"cannot reach Ray at {cfg.ray.address!r}: {err}") from None
    try:
        yield
    finally:
        ray.shutdown()


# ------------------------------------------------------------------------------------------------------ the result
@dataclass
class SweepResult:
    run_key: str
    output_dir: Path
    results: list[Any]  # report.CheckpointResult
    best: dict[str, Any]
    summary_path: Path
    report_path: Path
    table: str
    mlflow_parent_run_id: Optional[str]
    counters: dict[str, int]

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.results)

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame([dataclasses.asdict(r) for r in self.results])


def run_sweep(cfg: SweepConfig, verbose: bool = False, progress: bool = True) -> SweepResult:
    """Train every variant, evaluate every checkpoint (and the base model), pick the best, report and track."""
    from .stages import run_evaluation_stage, run_training_stage, write_outputs

    started = time.time()
    plan = plan_sweep(cfg)
    paths = SweepPaths.for_config(cfg)
    _configure_logging(verbose)
    with ray_runtime(cfg, verbose):
        tracker = _start_tracking(cfg, paths)
        trainings = run_training_stage(plan, paths, tracker, progress=progress, verbose=verbose)
        evaluations = run_evaluation_stage(plan, paths, trainings, progress=progress, verbose=verbose)
        return write_outputs(plan, paths, trainings, evaluations, tracker, started)


def _start_tracking(cfg: SweepConfig, paths: SweepPaths):
    if not cfg.tracking.enabled:
        return None
    from .tracking import Tracker

    return Tracker.start(cfg, paths.eval_key, cfg.to_yaml())


def _configure_logging(verbose: bool) -> None:
    if verbose:
        logging.basicConfig(level=logging.INFO)
        return
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    for name in ("ray", "ray.tune", "ray.train", "mlflow", "transformers", "alembic", "urllib3", "filelock"):
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # the legacy reporter honours verbose=0 (no banners)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def copy_latest(src: Path, dst: Path) -> None:
    from .fileio import atomic_write_text

    atomic_write_text(dst, src.read_text(encoding="utf-8"))


__all__ = ["SweepConfig", "SweepPaths", "SweepPlan", "SweepResult", "PlannedCheckpoint", "VariantPlan", "plan_sweep", "run_sweep", "UserError",
           "CheckpointRef"]
