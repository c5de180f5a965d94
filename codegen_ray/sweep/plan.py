"""The plan of a sweep, resolved before anything heavy starts (``--dry-run`` prints it): data, benchmark, model,
the selection/report split, contamination, the checkpoints each variant will write, and the replay file."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ..benchmarks import benchmark_for
from ..builtin import BUILTIN_TINY_MODEL
from ..config import GenerationConfig, SweepConfig
from ..errors import ConfigError
from ..types import BASE_CHECKPOINT_NAME, Problem, checkpoint_dir_name
from .keys import evaluation_key, replay_path, training_keys
from .preflight import check_model, check_output_writable, check_ray_address
from .runtime import prepare_ray_auth


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
    training_key: str  # its results live in training/<training_key>/<name>

    @property
    def expected_checkpoints(self) -> list[str]:
        return [c.name for c in self.checkpoints]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "training_key": self.training_key, "rows": self.rows, "train_rows": self.train_rows,
                "val_rows": self.val_rows, "test_rows": self.test_rows, "optimizer_steps": self.optimizer_steps,
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
    evaluation_key: str = ""  # results of the evaluation stage live under <benchmark>/*/<evaluation_key>

    @property
    def training_keys(self) -> dict[str, str]:
        """``{variant: training key}`` (``sweep.keys``; computed with the rows each variant excludes)."""
        return {v.name: v.training_key for v in self.variants}

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
        bench = benchmark_for(cfg)
        n_tests = bench.count_tests(self.problems)
        gen = self.num_eval_trials * len(self.problems) * cfg.generation.n
        return {
            "schema": "codegen_ray.plan/2",
            "model": {"name_or_path": cfg.model.name_or_path, "path": self.model_path},
            "evaluation_key": self.evaluation_key,
            "benchmark": {
                "name": bench.name,
                "source": bench.source_label(),
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
        bench = benchmark_for(cfg)
        n_tests = bench.count_tests(self.problems)
        gen = self.num_eval_trials * len(self.problems) * cfg.generation.n
        lines = [
            f"model: {cfg.model.name_or_path} ({self.model_path})",
            f"benchmark: {bench.title} {bench.source_label()}: {len(self.problems)} problems, {n_tests} tests"
            + (f"; {self.split.description}" if self.split is not None else ""),
            f"training trials: {len(self.variants)} (Ray Train, {cfg.training.num_workers} worker(s) each,"
            f" {cfg.training.gpus_per_worker if cfg.training.use_gpu else 0} GPU / {cfg.training.cpus_per_worker} CPU"
            " per worker)",
        ]
        for v in self.variants:
            lines.append(
                f"  {v.name} (training key {v.training_key}): {v.rows} rows -> train {v.train_rows} /"
                f" val {v.val_rows} / test {v.test_rows};"
                f" {v.optimizer_steps} optimizer steps; checkpoints: {', '.join(v.expected_checkpoints)};"
                f" contaminated rows: {v.contaminated_rows}"
            )
        lines += [
            f"evaluation trials: {self.num_eval_trials} (base model + every checkpoint; evaluation key"
            f" {self.evaluation_key})",
            f"generations: {gen} ({cfg.generation.n} per problem; backend {self.backend},"
            f" {cfg.generation.num_actors} actor(s) x {cfg.generation.gpus_per_actor} GPU)"
            + (f"; replayed from {self.replay_path}" if self.replay_path is not None else ""),
            f"test executions: at most {gen * n_tests // max(len(self.problems), 1)}"
            f" ({cfg.execution.num_actors} execution actors x {cfg.execution.cpus_per_actor} CPU)",
        ]
        return "\n".join(lines)


def resolve_model_path(cfg: SweepConfig) -> str:
    if cfg.model.name_or_path == BUILTIN_TINY_MODEL:
        from ..assets.tiny_model import ensure_tiny_model

        return str(ensure_tiny_model(cfg.cache_dir / "models"))
    path = cfg.resolve_path(cfg.model.name_or_path)
    return str(path) if path.exists() else cfg.model.name_or_path


def _expected_checkpoints(training, train_rows: int) -> tuple[int, list[PlannedCheckpoint]]:
    """Optimizer steps and the checkpoints the trainer will produce (same schedule as the workers use)."""
    from ..train import planned_checkpoints

    steps, ckpts = planned_checkpoints(dataclasses.asdict(training), train_rows)
    return steps, [PlannedCheckpoint(step, epoch) for step, epoch in ckpts]


def plan_sweep(cfg: SweepConfig) -> SweepPlan:
    """Preflight: resolve data, benchmark, model and tokenizer without Ray. Raises UserError on any bad input."""
    prepare_ray_auth(cfg)
    from ..contamination import TrainingRowText, find_contamination
    from ..train.data import load_variant_rows, split_rows

    check_output_writable(Path(cfg.output.root))
    check_ray_address(cfg.ray.address)
    bench = benchmark_for(cfg)
    problems = bench.load_problems()
    split = selection_split(cfg, problems)
    model_path = resolve_model_path(cfg)
    check_model(cfg, model_path)
    rows = {v.name: load_variant_rows(cfg, v) for v in cfg.data.variants}
    contamination = find_contamination(
        [TrainingRowText(name, i, ex.text) for name, exs in rows.items() for i, ex in enumerate(exs)],
        bench.statements(problems),
        n=cfg.data.contamination_ngram,
    )
    excluded: dict[str, frozenset[str]] = {}
    plans = []
    flagged: dict[str, set[int]] = {}
    for v in cfg.data.variants:
        flagged[v.name] = {hit.row_index for hit in contamination.hits if hit.variant == v.name}
        excluded[v.name] = (frozenset(rows[v.name][i].source for i in flagged[v.name])
                            if cfg.data.drop_contaminated else frozenset())
    keys = training_keys(cfg, excluded)
    for v in cfg.data.variants:
        kept = [ex for ex in rows[v.name] if ex.source not in excluded[v.name]]
        parts = split_rows(kept, cfg.data)
        steps, ckpts = _expected_checkpoints(cfg.training_for(v), len(parts.train))
        plans.append(VariantPlan(v.name, len(rows[v.name]), len(parts.train), len(parts.val), len(parts.test),
                                 steps, ckpts, len(flagged[v.name]), keys[v.name]))
    replay = _check_replay(cfg, problems, plans)
    return SweepPlan(cfg, model_path, problems, plans, split, _backend_name(cfg), contamination, excluded, replay,
                     evaluation_key(cfg, excluded, keys))


def _check_replay(cfg: SweepConfig, problems: list[Problem], plans: list[VariantPlan]) -> Optional[Path]:
    """backend replay: the file exists, parses, and has a row with ``generation.n`` completions for every
    (base model and planned checkpoint) x problem. Raises ConfigError / DataError naming what is missing."""
    path = replay_path(cfg)
    if path is None:
        return None
    if not path.is_file():
        raise ConfigError("generation.replay_path", f"no such file: {path}")
    from ..generation.replay_backend import ReplayTable

    table = ReplayTable.read(path)
    wanted = [(BASE_CHECKPOINT_NAME, 0)] + [(v.name, c.step) for v in plans for c in v.checkpoints]
    table.check_covers(wanted, [p.question_id for p in problems], cfg.generation.n)
    return path


def selection_split(cfg: SweepConfig, problems: list[Problem]):
    """Problems dated <= selection_end_date select the best checkpoint; the later ones report it (None: no split, or
    a benchmark without dates)."""
    from ..report import split_by_date

    end_date = benchmark_for(cfg).selection_end_date()
    if not end_date:
        return None
    try:
        return split_by_date(problems, end_date)
    except ValueError as err:
        raise ConfigError("benchmark.selection_end_date", str(err)) from None


def _backend_name(cfg: SweepConfig) -> str:
    from ..generation.base import resolve_backend_kind

    return resolve_backend_kind(cfg.generation.backend, cfg.generation)
