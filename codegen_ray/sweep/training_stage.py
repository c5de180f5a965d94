"""The training stage: one Ray Tune trial per variant, each running ``train.train_variant`` (a Ray Train
``TorchTrainer``); the driver reads every variant's result back from its output directory.

Each trial opens its variant's MLflow run when its work begins (MLflow fixes a run's start when it is created), with
the same start time it hands the trainer; the driver ends the run at the time the trainer recorded as the training's
end, so the run spans the training itself, and a training reused from an earlier sweep keeps its run's times."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..config import SweepConfig
from ..errors import HarnessError
from .checkpoint_board import BoardPublisher
from .tune_plumbing import (TRIAL_CPU, driver_trial_resources, event_stopper, max_concurrent, progress_callback,
                            stage_concurrency, tune_run_config)


@dataclass(frozen=True)
class TrainingContext:
    cfg: SweepConfig
    model_path: str
    excluded: dict[str, frozenset[str]]
    tracker: Any  # tracking.Tracker, or None without tracking
    board: Any = None  # pipelined: the CheckpointBoard actor this trial announces its checkpoints on


def _run_params(cfg: SweepConfig, variant) -> dict[str, Any]:
    hp = dataclasses.asdict(cfg.training_for(variant))
    return {**{f"training.{k}": val for k, val in hp.items()},
            **{f"lora.{k}": val for k, val in dataclasses.asdict(cfg.lora).items()},
            "data.path": variant.path, "data.format": variant.format}


def _train_trial(config: dict[str, Any], ctx: TrainingContext) -> None:
    from ray import tune

    from ..train.trainer import train_variant

    variant = next(v for v in ctx.cfg.data.variants if v.name == config["trial"]["variant"])
    started = time.time()  # the work begins: the MLflow run and the trainer's record share this start
    run_id = None
    if ctx.tracker is not None:
        run_id = ctx.tracker.child(f"train/{variant.name}", f"train-{variant.name}",
                                   {"variant": variant.name, "stage": "training"},
                                   params=_run_params(ctx.cfg, variant), start_time=started)
        started = ctx.tracker.run_start(run_id)  # a run found again (an interrupted training) began earlier
    try:
        result = train_variant(
            ctx.cfg,
            variant,
            Path(config["trial"]["output_dir"]),
            model_path=ctx.model_path,
            exclude_sources=ctx.excluded.get(variant.name, frozenset()),
            mlflow_run_id=run_id,
            tracking_uri=ctx.tracker.tracking_uri if ctx.tracker is not None else None,
            started_at=started,
            on_checkpoint=BoardPublisher(ctx.board) if ctx.board is not None else None,
        )
    except BaseException as exc:
        if ctx.board is not None:  # evaluation trials waiting for this variant's checkpoints stop waiting
            _end_on_board(ctx.board, variant.name, f"{type(exc).__name__}: {exc}".splitlines()[0])
        raise
    if ctx.board is not None:  # a reused or resumed training's checkpoints were not announced while it ran
        _announce_result(ctx.board, result)
    last = result.checkpoints[-1] if result.checkpoints else None
    tune.report({
        "variant": variant.name,
        "num_checkpoints": len(result.checkpoints),
        "final_train_loss": last.train_loss if last else float("nan"),
        "final_val_loss": last.val_loss if last else float("nan"),
        "reused": int(bool(getattr(result, "reused", False))),
        "done": 1,
    })


def _announce_result(board: Any, result: Any) -> None:
    import ray

    ray.get([board.publish.remote(ref) for ref in result.checkpoints])
    ray.get(board.end.remote(result.variant))


def _end_on_board(board: Any, variant: str, error: str) -> None:
    import ray

    try:
        ray.get(board.end.remote(variant, error), timeout=60)
    except Exception:  # noqa: BLE001 - the board is gone: the sweep's driver ends every variant anyway
        pass


def _training_postfix(result: dict[str, Any]) -> str:
    variant = result.get("config", {}).get("trial", {}).get("variant", "")
    if "num_checkpoints" in result:
        return f"{variant}: done, {result['num_checkpoints']} checkpoints"
    if "step" in result:
        val = result.get("val_loss")
        return f"{variant}: step {result['step']} epoch {result.get('epoch')}" + (
            f" val_loss {val:.3f}" if isinstance(val, float) else "")
    return variant


def training_trial_share(cfg: SweepConfig) -> tuple[float, float]:
    """CPUs and GPUs one training trial holds: its workers and the trial itself."""
    t = cfg.training
    return t.num_workers * t.cpus_per_worker + TRIAL_CPU, (t.num_workers * t.gpus_per_worker if t.use_gpu else 0.0)


def run_training_stage(plan, paths, tracker, progress: bool = True, verbose: bool = False, board: Any = None,
                       concurrency: Optional[int] = None, stop: Any = None) -> dict[str, Any]:
    """One Tune trial per variant; returns ``{variant: TrainingResult}`` read back from each output directory.

    ``concurrency``: trials at once (default: ``ray.max_concurrent_trials``, else as many as fit the cluster).
    Pipelined (``board``: a CheckpointBoard actor), each trial announces its checkpoints there as they are saved;
    setting ``stop`` (a ``threading.Event``) stops the trials (the run then raises, as for an interrupted sweep)."""
    from ray import tune

    from ..train.trainer import read_training_result

    cfg: SweepConfig = plan.cfg
    trials = [{"variant": v.name, "output_dir": str(paths.training_dir(v.name))} for v in cfg.data.variants]
    ctx = TrainingContext(cfg, plan.model_path, plan.excluded_sources, tracker, board)
    if concurrency is None:
        concurrency = stage_concurrency(cfg.ray.max_concurrent_trials
                                        or max_concurrent(*training_trial_share(cfg), len(trials)))
    bar = progress_callback(len(trials), "training", progress, _training_postfix, position=0)
    tuner = tune.Tuner(
        # On the driver's node (its output.root); the TorchTrainer's workers go wherever their resources are.
        tune.with_resources(tune.with_parameters(_train_trial, ctx=ctx), driver_trial_resources()),
        param_space={"trial": tune.grid_search(trials)},
        tune_config=tune.TuneConfig(max_concurrent_trials=concurrency),
        run_config=tune_run_config(f"train-{paths.train_key}", paths.ray_storage, [bar], verbose,
                                   stopper=event_stopper(stop) if stop is not None else None),
    )
    grid = tuner.fit()
    if stop is not None and stop.is_set():
        raise HarnessError("the training stage was stopped (the evaluation stage ended first)")
    errors = [r.error for r in grid if r.error is not None]
    if errors:
        raise HarnessError(f"training failed for {len(errors)} variant(s): {errors[0]}")
    reused = {r.metrics["variant"]: bool(r.metrics.get("reused")) for r in grid if r.metrics and "variant" in r.metrics}
    out = {}
    for trial in trials:
        try:
            out[trial["variant"]] = read_training_result(Path(trial["output_dir"]))
            out[trial["variant"]].reused = reused.get(trial["variant"], False)
        except FileNotFoundError:
            raise HarnessError(f"training of {trial['variant']} ended without a result "
                               f"(trial stopped early?); rerun to resume from its last checkpoint") from None
    if tracker is not None:
        for name, res in out.items():
            # The recorded end (the same value again for a reused training: its run's times stay as they were).
            end = res.interval.finished_at if res.interval is not None else None
            tracker.finish(tracker.child(f"train/{name}", f"train-{name}", {"variant": name}), end_time=end)
    return out
