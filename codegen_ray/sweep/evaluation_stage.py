"""The evaluation stage: one Ray Tune trial per checkpoint (and the base model), all sharing one generation pool
and one execution pool; a crashed trial becomes a ``failed`` evaluation, never a zero."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

from ..config import SweepConfig
from ..types import CheckpointRef
from .evaluation import CheckpointEvaluation, EvaluationContext, ckpt_file_stem, evaluate_checkpoint
from .tune_plumbing import progress_callback, tune_run_config


def _eval_trial(config: dict[str, Any], ctx: EvaluationContext) -> None:
    from ray import tune

    ckpt = CheckpointRef(**config["checkpoint"])
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


def checkpoints_to_evaluate(trainings: dict[str, Any]) -> list[CheckpointRef]:
    """The base model (step 0, shared by all variants) first, then every checkpoint of every variant by step."""
    refs = [CheckpointRef(variant="base", step=0, epoch=0)]
    for name in sorted(trainings):
        refs.extend(sorted(trainings[name].checkpoints, key=lambda c: c.step))
    return refs


def run_evaluation_stage(plan, paths, trainings, progress: bool = True, verbose: bool = False):
    """One Tune trial per checkpoint, all sharing one generation pool and one execution pool."""
    from ray import tune

    from ..benchmarks import benchmark_for
    from ..execution.pool import ExecutionPool
    from ..generation.base import sampling_from_config
    from ..generation.pool import GenerationPool

    cfg: SweepConfig = plan.cfg
    refs = checkpoints_to_evaluate(trainings)
    gen_pool = GenerationPool.create(plan.model_path, plan.generation_config, cfg.model.dtype, plan.backend)
    bench = benchmark_for(cfg)
    # One execution service for every trial: one in-flight limit, re-runs alone, replacements all trials see.
    exec_pool = ExecutionPool(bench.execution_config(), bench.grader(), start_timeout_s=cfg.ray.actor_start_timeout_s)
    sampling = sampling_from_config(cfg.generation)
    extra_stops = tuple(s for s in bench.stop_sequences() if s not in sampling.stop)
    sampling = dataclasses.replace(sampling, stop=sampling.stop + extra_stops)
    try:
        ctx = EvaluationContext(cfg, tuple(plan.problems), paths, gen_pool, exec_pool, sampling)
        # Trials only wait on the pools; a few per generation actor keep every actor's engine busy.
        concurrent = cfg.ray.max_concurrent_trials or max(1, 2 * cfg.generation.num_actors)
        bar = progress_callback(len(refs), "evaluating checkpoints", progress,
                                 lambda r: f"{r.get('variant')}/{r.get('checkpoint')}: "
                                           f"pass@1 on all problems={r.get('pass@1', 0):.3f}")
        tuner = tune.Tuner(
            tune.with_resources(tune.with_parameters(_eval_trial, ctx=ctx), {"CPU": 0.01}),
            param_space={"checkpoint": tune.grid_search([dataclasses.asdict(r) for r in refs])},
            tune_config=tune.TuneConfig(max_concurrent_trials=concurrent),
            run_config=tune_run_config(f"eval-{paths.eval_key}-{int(time.time())}", paths.ray_storage, [bar],
                                        verbose),
        )
        grid = tuner.fit()
    finally:
        gen_pool.shutdown()
        exec_pool.shutdown()
    return EvaluationStage(refs, grid, paths)


@dataclass
class EvaluationStage:
    refs: list[CheckpointRef]
    grid: Any  # ray.tune.ResultGrid
    paths: Any

    def evaluations(self) -> list[CheckpointEvaluation]:
        """Every checkpoint's evaluation; a trial that crashed becomes a ``failed`` entry, never a zero."""
        runs = {(r.metrics["variant"], r.metrics["checkpoint"]): r.metrics for r in self.grid
                if r.metrics and "checkpoint" in r.metrics}
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
                err = next((str(r.error) for r in self.grid
                            if r.error is not None and r.config["checkpoint"]["variant"] == ref.variant
                            and r.config["checkpoint"]["step"] == ref.step), "no result written")
                out.append(CheckpointEvaluation(
                    variant=ref.variant, checkpoint=ref.name, step=ref.step, epoch=ref.epoch,
                    train_loss=ref.train_loss, val_loss=ref.val_loss, n=0, pass_at={}, solved=0, total=0,
                    per_problem={}, outcomes={}, status="failed", failure=err.splitlines()[0] if err else err,
                    backend="", isolation="", generated=0, reused_generations=0))
        return out

    def best_from_grid(self, results_by_key: dict[str, Any]) -> dict[str, Any]:
        """Best checkpoint per variant among the ResultGrid's successful trials, ranked by
        :func:`codegen_ray.report.choose_best` (highest selection Pass@1, then earlier step, then lower val loss).
        ``results_by_key``: the sweep's CheckpointResults (split applied) by key. Failed trials never win."""
        from ..report import choose_best

        finished = [results_by_key[f"{m['variant']}/{m['checkpoint']}"] for m in
                    (r.metrics for r in self.grid if r.error is None and r.metrics and not r.metrics.get("failed", 1))
                    if m["variant"] != "base"]
        return choose_best(finished)
