"""The training stage: one Ray Tune trial per variant, each running ``train.train_variant`` (a Ray Train
``TorchTrainer``); the driver reads every variant's result back from its output directory."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..config import SweepConfig
from ..errors import HarnessError
from .tune_plumbing import max_concurrent, progress_callback, tune_run_config


@dataclass(frozen=True)
class TrainingContext:
    cfg: SweepConfig
    model_path: str
    excluded: dict[str, frozenset[str]]
    tracking_uri: Optional[str]


def _train_trial(config: dict[str, Any], ctx: TrainingContext) -> None:
    from ray import tune

    from ..train.trainer import train_variant

    variant = next(v for v in ctx.cfg.data.variants if v.name == config["trial"]["variant"])
    result = train_variant(
        ctx.cfg,
        variant,
        Path(config["trial"]["output_dir"]),
        model_path=ctx.model_path,
        exclude_sources=ctx.excluded.get(variant.name, frozenset()),
        mlflow_run_id=config["trial"]["mlflow_run_id"],
        tracking_uri=ctx.tracking_uri,
    )
    last = result.checkpoints[-1] if result.checkpoints else None
    tune.report({
        "variant": variant.name,
        "num_checkpoints": len(result.checkpoints),
        "final_train_loss": last.train_loss if last else float("nan"),
        "final_val_loss": last.val_loss if last else float("nan"),
        "reused": int(bool(getattr(result, "reused", False))),
        "done": 1,
    })


def _training_postfix(result: dict[str, Any]) -> str:
    variant = result.get("config", {}).get("trial", {}).get("variant", "")
    if "num_checkpoints" in result:
        return f"{variant}: done, {result['num_checkpoints']} checkpoints"
    if "step" in result:
        val = result.get("val_loss")
        return f"{variant}: step {result['step']} epoch {result.get('epoch')}" + (
            f" val_loss {val:.3f}" if isinstance(val, float) else "")
    return variant


def run_training_stage(plan, paths, tracker, progress: bool = True, verbose: bool = False) -> dict[str, Any]:
    """One Tune trial per variant; returns ``{variant: TrainingResult}`` read back from each output directory."""
    from ray import tune

    from ..train.trainer import read_training_result

    cfg: SweepConfig = plan.cfg
    trials = []
    for v in cfg.data.variants:
        run_id = None
        if tracker is not None:
            hp = dataclasses.asdict(cfg.training_for(v))
            run_id = tracker.child(f"train/{v.name}", f"train-{v.name}",
                                   {"variant": v.name, "stage": "training"},
                                   params={**{f"training.{k}": val for k, val in hp.items()},
                                           **{f"lora.{k}": val for k, val in dataclasses.asdict(cfg.lora).items()},
                                           "data.path": v.path, "data.format": v.format})
        trials.append({"variant": v.name, "output_dir": str(paths.training_dir(v.name)), "mlflow_run_id": run_id})
    ctx = TrainingContext(cfg, plan.model_path, plan.excluded_sources, tracker.tracking_uri if tracker else None)
    t = cfg.training
    per_trial_cpu = t.num_workers * t.cpus_per_worker
    per_trial_gpu = t.num_workers * t.gpus_per_worker if t.use_gpu else 0.0
    concurrent = cfg.ray.max_concurrent_trials or max_concurrent(per_trial_cpu, per_trial_gpu, len(trials))
    bar = progress_callback(len(trials), "training", progress, _training_postfix)
    tuner = tune.Tuner(
        tune.with_resources(tune.with_parameters(_train_trial, ctx=ctx), {"CPU": 0.01}),
        param_space={"trial": tune.grid_search(trials)},
        tune_config=tune.TuneConfig(max_concurrent_trials=concurrent),
        run_config=tune_run_config(f"train-{paths.train_key}", paths.ray_storage, [bar], verbose),
    )
    grid = tuner.fit()
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
            tracker.finish(tracker.child(f"train/{name}", f"train-{name}", {"variant": name}))
    return out
