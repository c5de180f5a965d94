"""LoRA fine-tuning of a variant on Ray Train (data → tokens → TorchTrainer workers → adapter checkpoints), and
what determines such a run (``identity``: the sweep's training key and the trainer's fingerprint).

``from codegen_ray.train import train_variant, load_variant_rows`` stays cheap: torch, transformers, peft and ray
are imported only when training runs. May import the foundation only (``config``, ``types``, ``errors``, ``fileio``,
``builtin``); no other stage package.
"""

from __future__ import annotations

from .data import ChatExample, load_variant_rows, split_rows
from .identity import TrainingIdentity, training_identity, training_key
from .trainer import LogRecord, TrainingResult, ValRecord, check_model, read_training_result, train_variant
from .worker import planned_checkpoints

__all__ = ["ChatExample", "LogRecord", "TrainingIdentity", "TrainingResult", "ValRecord", "check_model",
           "load_variant_rows", "planned_checkpoints", "read_training_result", "split_rows", "train_variant",
           "training_identity", "training_key"]
