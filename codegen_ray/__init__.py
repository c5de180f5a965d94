"""codegen_ray: which training data, and which checkpoint, writes better programs?

Importing the package is cheap: no torch, Ray, vLLM or MLflow until a stage needs them.

    from codegen_ray import load_config, run_sweep
    result = run_sweep(load_config())          # the embedded default
"""

from __future__ import annotations

from typing import Any

from .config import SweepConfig, load_config
from .errors import ConfigError, DataError, HarnessError, UserError
from .types import CheckpointRef, Outcome, Problem

__version__ = "0.1.0"

_LAZY = {
    "run_sweep": ("sweep", "run_sweep"),
    "plan_sweep": ("sweep", "plan_sweep"),
    "SweepResult": ("sweep", "SweepResult"),
    "evaluate_checkpoint": ("sweep", "evaluate_checkpoint"),
    "train_variant": ("train.trainer", "train_variant"),
    "grade_samples": ("lcb.grade_cli", "grade_samples"),
    "load_problems": ("lcb.dataset", "load_problems"),
    "make_executor": ("execution", "make_executor"),
}

__all__ = ["SweepConfig", "load_config", "ConfigError", "DataError", "HarnessError", "UserError", "CheckpointRef",
           "Outcome", "Problem", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'codegen_ray' has no attribute {name!r}")
