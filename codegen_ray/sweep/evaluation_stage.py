"""The evaluation stage: one Ray Tune trial per checkpoint (and the base model), all sharing one generation pool
and one execution pool; a crashed trial becomes a ``failed`` evaluation, never a zero."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Optional

from ..config import SweepConfig
from ..types import CheckpointRef
from .evaluation import CheckpointEvaluation, EvaluationContext, ckpt_file_stem, evaluate_checkpoint
from .tune_plumbing import driver_trial_resources, progress_callback, stage_concurrency, tune_run_config


def _eval_trial(config: dict[str, Any], ctx: EvaluationContext) -> None:
    from ray import tune

    spec = config["checkpoint"]
    if spec.get("planned"):
        ckpt = _await_checkpoint(ctx, spec)
        if ckpt is None:
            return
    else:
        ckpt = CheckpointRef(**spec)
    started = time.time()
    ev = evaluate_checkpoint(ctx, ckpt)
    tune.report({
        "variant": ev.variant, "checkpoint": ev.checkpoint, "step": ev.step, "epoch": ev.epoch,
        "val_loss": ev.val_loss if ev.val_loss is not None else float("nan"),
        "pass@1": ev.pass_at.get(1, float("nan")), **{f"pass@{k}": v for k, v in ev.pass_at.items() if k > 1},
        "solved": ev.solved, "total": ev.total, "failed": int(ev.status != "ok"),
        "generated": ev.generated, "reused_generations": ev.reused_generations, "reused": int(ev.reused),
        "eval_seconds": time.time() - started,
    })


def _await_checkpoint(ctx: EvaluationContext, spec: dict[str, Any]) -> Optional[CheckpointRef]:
    """A planned checkpoint once its training has saved it (a generation actor without its directory fetches it
    from ``storage_uri``); None, reported as skipped, when the training ended without it (the driver evaluates what
    was really written)."""
    import ray
    from ray import tune

    answer = ray.get(ctx.board.wait.remote(spec["variant"], spec["step"], spec["epoch"]))
    if answer.ref is None:
        tune.report({"variant": spec["variant"], "skipped": 1, "why": answer.ended_without})
    return answer.ref


def _spec_key(variant: str, step: int, epoch: int) -> str:
    return CheckpointRef(variant, step, epoch, adapter_path=None if variant == "base" else "-").key


def planned_targets(plan, training_concurrency: int) -> list[dict[str, Any]]:
    """A pipelined sweep's evaluation trials: the base model first, then every planned checkpoint of every variant
    in the order training should save them, each awaited on the board. Variants train ``training_concurrency`` at
    a time in config order, so a checkpoint is expected by (its variant's wave, its step)."""
    targets: list[dict[str, Any]] = [dataclasses.asdict(CheckpointRef(variant="base", step=0, epoch=0))]
    planned = sorted((i // max(1, training_concurrency), c.step, i, v.name, c.epoch)
                     for i, v in enumerate(plan.variants) for c in v.checkpoints)
    targets += [{"variant": name, "step": step, "epoch": epoch, "planned": True}
                for _wave, step, _i, name, epoch in planned]
    return targets


def checkpoints_to_evaluate(trainings: dict[str, Any]) -> list[CheckpointRef]:
    """The base model (step 0, shared by all variants) first, then every checkpoint of every variant by step."""
    refs = [CheckpointRef(variant="base", step=0, epoch=0)]
    for name in sorted(trainings):
        refs.extend(sorted(trainings[name].checkpoints, key=lambda c: c.step))
    return refs


def run_evaluation_stage(plan, paths, trainings=None, progress: bool = True, verbose: bool = False, board=None,
                         refs: Optional[list[CheckpointRef]] = None,
                         training_concurrency: int = 1) -> "EvaluationStage":
    """One Tune trial per checkpoint, all sharing one generation pool and one execution pool: the base model and
    every checkpoint of ``trainings`` (or just ``refs``); pipelined (``board``), every planned checkpoint, each trial
    waiting until its checkpoint is saved (``training_concurrency``: variants training at once)."""
    if board is not None:
        targets = planned_targets(plan, training_concurrency)
    else:
        refs = refs if refs is not None else checkpoints_to_evaluate(trainings)
        targets = [dataclasses.asdict(r) for r in refs]
    grid = _tune_evaluations(plan, paths, targets, progress, verbose, board)
    return EvaluationStage(list(refs or []), [grid], paths)


def _tune_evaluations(plan, paths, targets: list[dict[str, Any]], progress: bool, verbose: bool, board):
    from ray import tune

    from ..benchmarks import benchmark_for
    from ..execution.pool import ExecutionPool
    from ..generation.base import sampling_from_config
    from ..generation.pool import GenerationPool

    cfg: SweepConfig = plan.cfg
    gen_pool = GenerationPool.create(plan.model_path, plan.generation_config, cfg.model.dtype, plan.backend)
    bench = benchmark_for(cfg)
    # One execution service for every trial: one in-flight limit, re-runs alone, replacements all trials see.
    exec_pool = ExecutionPool(bench.execution_config(), bench.grader(), start_timeout_s=cfg.ray.actor_start_timeout_s)
    sampling = sampling_from_config(cfg.generation)
    extra_stops = tuple(s for s in bench.stop_sequences() if s not in sampling.stop)
    sampling = dataclasses.replace(sampling, stop=sampling.stop + extra_stops)
    try:
        ctx = EvaluationContext(cfg, tuple(plan.problems), paths, gen_pool, exec_pool, sampling, board)
        bar = progress_callback(len(targets), "evaluating checkpoints", progress,
                                lambda r: f"{r.get('variant')}/{r.get('checkpoint')}: "
                                          f"pass@1 on all problems={r.get('pass@1', 0):.3f}" if "checkpoint" in r
                                else "", position=1 if board is not None else 0)
        tuner = tune.Tuner(
            # On the driver's node (its output.root); the pools' actors go wherever their resources are.
            tune.with_resources(tune.with_parameters(_eval_trial, ctx=ctx), driver_trial_resources()),
            param_space={"checkpoint": tune.grid_search(targets)},
            tune_config=tune.TuneConfig(max_concurrent_trials=eval_concurrency(cfg)),
            run_config=tune_run_config(f"eval-{paths.eval_key}-{time.time_ns()}", paths.ray_storage, [bar],
                                       verbose),
        )
        return tuner.fit()
    finally:
        gen_pool.shutdown()
        exec_pool.shutdown()


def eval_concurrency(cfg: SweepConfig) -> int:
    """Evaluation trials at once: they only wait on the pools; a few per generation actor keep every engine busy."""
    return stage_concurrency(cfg.ray.max_concurrent_trials or 2 * cfg.generation.num_actors)


@dataclass
class EvaluationStage:
    refs: list[CheckpointRef]  # what the sweep evaluated: the base model and every checkpoint training wrote
    grids: list[Any]  # ray.tune.ResultGrid of each Tune run of evaluation trials
    paths: Any

    def _metrics(self, finished_only: bool = False) -> list[dict[str, Any]]:
        """Metrics of every trial that evaluated a checkpoint (a pipelined trial skipped for want of one has none);
        ``finished_only``: of the trials that ended without an error."""
        return [r.metrics for g in self.grids for r in g
                if r.metrics and "checkpoint" in r.metrics and not (finished_only and r.error is not None)]

    def evaluations(self) -> list[CheckpointEvaluation]:
        """Every checkpoint's evaluation; a trial that crashed becomes a ``failed`` entry, never a zero."""
        runs = {(m["variant"], m["checkpoint"]): m for m in self._metrics()}
        out = []
        for ref in self.refs:
            f = self.paths.evaluations_dir / f"{ckpt_file_stem(ref)}.json"
            if f.is_file():
                ev = CheckpointEvaluation.from_json(f.read_text(encoding="utf-8"))
                m = runs.get((ev.variant, ev.checkpoint), {})  # what this run did (the file says what was measured)
                out.append(dataclasses.replace(ev, reused=bool(m.get("reused", 0)),
                                               generated=int(m.get("generated", 0)),
                                               reused_generations=int(m.get("reused_generations", 0))))
            else:
                err = next((str(r.error) for g in self.grids for r in g
                            if r.error is not None and r.config["checkpoint"]["variant"] == ref.variant
                            and r.config["checkpoint"]["step"] == ref.step), "no result written")
                out.append(CheckpointEvaluation(
                    variant=ref.variant, checkpoint=ref.name, step=ref.step, epoch=ref.epoch,
                    train_loss=ref.train_loss, val_loss=ref.val_loss, n=0, pass_at={}, solved=0, total=0,
                    per_problem={}, outcomes={}, status="failed", failure=err.splitlines()[0] if err else err,
                    backend="", isolation="", generated=0, reused_generations=0))
        return out

    def attempted_keys(self) -> set[str]:
        """Keys (``CheckpointRef.key``) of the checkpoints a trial evaluated or crashed on; a pipelined trial whose
        checkpoint never came is not among them."""
        keys = {_spec_key(m["variant"], m["step"], m["epoch"]) for m in self._metrics()}
        keys |= {_spec_key(c["variant"], c["step"], c["epoch"])
                 for c in (r.config["checkpoint"] for g in self.grids for r in g if r.error is not None)}
        return keys

    def best_from_grid(self, results_by_key: dict[str, Any]) -> dict[str, Any]:
        """Best checkpoint per variant among the successful trials, ranked by :func:`codegen_ray.report.choose_best`
        (highest selection Pass@1, then earlier step, then lower val loss). ``results_by_key``: the sweep's
        CheckpointResults (split applied) by key. Failed trials never win."""
        from ..report import choose_best

        finished = [results_by_key[f"{m['variant']}/{m['checkpoint']}"] for m in self._metrics(finished_only=True)
                    if not m.get("failed", 1) and m["variant"] != "base"]
        return choose_best(finished)
