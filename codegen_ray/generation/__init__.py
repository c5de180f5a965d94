"""Generation: one backend interface (transformers or vLLM), a shared Ray actor pool, and an on-disk cache.

Nothing heavy is imported here; ``make_backend`` and the pool import torch / transformers / vllm / ray on use.
May import the foundation only; within: pool > factory > backends (vllm, hf, replay) > base, cache, checkpoints
(a checkpoint fetched from ray.storage_path onto a node that lacks it).
"""

from codegen_ray.generation.base import GenerationBackend, resolve_backend_kind, sampling_from_config, vllm_available
from codegen_ray.generation.cache import CachedGenerations, generate_cached, sampling_hash
from codegen_ray.generation.factory import make_backend
from codegen_ray.generation.pool import GenerationPool, PoolStats

__all__ = [
    "CachedGenerations",
    "GenerationBackend",
    "GenerationPool",
    "PoolStats",
    "generate_cached",
    "make_backend",
    "resolve_backend_kind",
    "sampling_from_config",
    "sampling_hash",
    "vllm_available",
]
