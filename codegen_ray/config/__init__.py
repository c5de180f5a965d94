"""The one typed configuration of a sweep, and the only place defaults live.

YAML keys are the dataclass field names (``section.key``). :func:`load_config` reads a YAML file, applies
``section.key=value`` overrides and validates everything *before* any heavy work: an unknown key, a wrong type, a
missing file or an impossible value raises :class:`~codegen_ray.errors.ConfigError` naming the dotted key.

Modules: ``schema`` (the sections, their defaults and validation; which fields are resources, :data:`RESOURCE`,
left out of result keys by :func:`without_resources`; :func:`stable_hash`) and ``loading`` (YAML,
overrides, strict typing). Foundation: imports only ``builtin``, ``errors`` and ``types``.
"""

from .loading import DEFAULT_CONFIG, apply_override, config_from_dict, load_config
from .schema import (HYPERPARAMETER_KEYS, RESERVED_VARIANT_NAMES, RESOURCE, BenchmarkConfig, DataConfig,
                     ExecutionConfig, GenerationConfig, HumanEvalConfig, LoraConfig, ModelConfig, OutputConfig,
                     RayConfig, ReportConfig, SweepConfig, TrackingConfig, TrainingConfig, VariantConfig, VllmConfig,
                     stable_hash, without_resources)

__all__ = ["DEFAULT_CONFIG", "HYPERPARAMETER_KEYS", "RESERVED_VARIANT_NAMES", "RESOURCE", "BenchmarkConfig",
           "DataConfig", "ExecutionConfig", "GenerationConfig", "HumanEvalConfig", "LoraConfig", "ModelConfig",
           "OutputConfig", "RayConfig", "ReportConfig", "SweepConfig", "TrackingConfig", "TrainingConfig",
           "VariantConfig", "VllmConfig", "apply_override", "config_from_dict", "load_config", "stable_hash",
           "without_resources"]
