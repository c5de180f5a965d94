"""Shared fixtures: one local Ray instance per test session, the builtin tiny model built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """Builtin assets (the tiny model) are built here once per test session."""
    env = os.environ.get("CODEGEN_RAY_TEST_CACHE")
    path = Path(env) if env else tmp_path_factory.mktemp("codegen_ray_cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def tiny_model_path(cache_dir) -> Path:
    from codegen_ray.assets.tiny_model import ensure_tiny_model

    return ensure_tiny_model(cache_dir)


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray instance shared by every integration test (ray.init costs 10-30 s here)."""
    import ray

    if not ray.is_initialized():
        # address="local": a private instance even while a `ray start` cluster (or a dead one's
        # ray_current_cluster file) exists on the machine; a bare ray.init() would try to join it.
        ray.init(address="local", num_cpus=4, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()
