"""Building a generation backend by kind: the one module that knows every backend (they import ``base``, never
this module or each other).

Implementations are imported inside :func:`make_backend`, so ``import codegen_ray.generation`` never imports torch,
transformers or vllm. A new backend: a module implementing ``base.GenerationBackend``, a kind in
``base.BACKEND_KINDS`` and ``GenerationConfig.backend``, and a branch here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codegen_ray.generation.base import GenerationBackend, resolve_backend_kind

if TYPE_CHECKING:  # pragma: no cover
    from codegen_ray.config import GenerationConfig


def make_backend(kind: str, model_path: str, gen_cfg: "GenerationConfig", dtype: str) -> GenerationBackend:
    """Build a backend for the base model at ``model_path``. ``kind``: auto | hf | vllm | replay (see
    resolve_backend_kind; replay serves ``gen_cfg.replay_path`` and loads no model).

    ``dtype``: auto | float32 | bfloat16 | float16 (the model section's dtype; auto = bfloat16 on GPU, float32 on CPU).
    """
    resolved = resolve_backend_kind(kind, gen_cfg)
    if resolved == "vllm":
        from codegen_ray.generation.vllm_backend import VllmBackend

        return VllmBackend(model_path, gen_cfg, dtype)
    if resolved == "replay":
        from codegen_ray.generation.replay_backend import ReplayBackend

        return ReplayBackend(model_path, gen_cfg, dtype)
    from codegen_ray.generation.hf_backend import HFBackend

    return HFBackend(model_path, gen_cfg, dtype)
