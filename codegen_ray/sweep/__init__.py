"""The sweep: compose the stages into one study. Only the entry points (``cli``, ``experiments/``) and users import
this package; it may import every stage package, ``assets`` and the foundation.

Flow (one way): config → preflight (no Ray) → training Tune trials (one per variant, each fits a Ray Train
``TorchTrainer``) → evaluation Tune trials (one per (variant, checkpoint) plus the base model, sharing one generation
pool and one execution pool) → best checkpoint per variant from the ``ResultGrid`` → statistics, report, MLflow.

Outputs are keyed by hashes of the resolved config, so a rerun of the same command reuses finished trainings,
generations and evaluations; ``results/livecodebench/summary.json`` always holds the latest run's summary.

Modules, top to bottom: ``run`` (:func:`run_sweep`); ``outputs`` (report, latest copies, MLflow) and the two stages
``training_stage`` / ``evaluation_stage`` (Tune trials, via ``tune_plumbing``); ``evaluation`` (one checkpoint through
the pools) and ``mlflow_runs``; ``plan`` (preflight: :func:`plan_sweep`), ``preflight``, ``runtime`` (Ray), ``result``
and ``keys`` (output hashes and paths: what is in a training or an evaluation key, and what is a resource that is
not).
"""

from .evaluation import CheckpointEvaluation, EvaluationContext, evaluate_checkpoint
from .keys import SweepPaths, evaluation_key, replay_path, training_keys
from .plan import PlannedCheckpoint, SweepPlan, VariantPlan, plan_sweep, resolve_model_path, selection_split
from .result import SweepResult
from .run import run_sweep
from .runtime import durable_paths, ray_runtime, running_as_ray_job

__all__ = ["CheckpointEvaluation", "EvaluationContext", "PlannedCheckpoint", "SweepPaths", "SweepPlan", "SweepResult",
           "VariantPlan", "durable_paths", "evaluate_checkpoint", "evaluation_key", "plan_sweep", "ray_runtime",
           "replay_path", "resolve_model_path", "run_sweep", "running_as_ray_job", "selection_split", "training_keys"]
