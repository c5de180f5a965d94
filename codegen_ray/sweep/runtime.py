"""The Ray runtime of a sweep: joining a cluster (token auth) or starting a private instance, and quiet logging."""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..config import SweepConfig
from ..errors import ConfigError

log = logging.getLogger(__name__)


def prepare_ray_auth(cfg: SweepConfig) -> None:
    """`ray start` (Ray >= 2.59) enables token auth and writes ~/.ray/auth_token, but a driver sends the token only
    when RAY_AUTH_MODE=token is set *before ray is imported*; without it, joining that cluster fails as "cannot
    connect". (Under `ray job submit` the job's environment already carries it.)"""
    if cfg.ray.address and "RAY_AUTH_MODE" not in os.environ and (Path.home() / ".ray" / "auth_token").is_file():
        if "ray" in sys.modules:
            log.warning("ray was imported before the sweep: set RAY_AUTH_MODE=token yourself to join a token-auth "
                        "cluster")
        os.environ["RAY_AUTH_MODE"] = "token"


@contextmanager
def ray_runtime(cfg: SweepConfig, verbose: bool) -> Iterator[None]:
    """Start (or join) Ray for the sweep; shut it down afterwards only if we started it."""
    import ray

    if ray.is_initialized():
        yield
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_TRAIN_V2_ENABLED", "1")
    # Ctrl-C must reach us as KeyboardInterrupt (Tune would otherwise swallow it and return a partial grid):
    # we then shut Ray down, and everything finished so far stays on disk for the rerun.
    os.environ.setdefault("TUNE_DISABLE_SIGINT_HANDLER", "1")
    env = {k: os.environ[k] for k in ("CODEGEN_RAY_CACHE", "VLLM_CPU_KVCACHE_SPACE", "MLFLOW_TRACKING_URI")
           if k in os.environ}
    env.update({"TOKENIZERS_PARALLELISM": "false", "RAY_USAGE_STATS_ENABLED": "0"})
    kwargs: dict[str, Any] = dict(
        include_dashboard=False,
        log_to_driver=verbose,
        logging_level=logging.INFO if verbose else logging.ERROR,
        runtime_env={"env_vars": env},
    )
    if cfg.ray.address:
        kwargs["address"] = cfg.ray.address
    else:
        # A private Ray of our own, always: a bare ray.init() first looks for a running (or long dead) cluster via
        # RAY_ADDRESS and <ray temp dir>/ray_current_cluster, and then refuses num_cpus.
        kwargs.update(address="local", num_cpus=cfg.ray.num_cpus)
    try:
        ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise ConfigError("ray.address", f"cannot reach Ray at {cfg.ray.address!r}: {err}") from None
    try:
        yield
    finally:
        ray.shutdown()


def configure_logging(verbose: bool) -> None:
    if verbose:
        logging.basicConfig(level=logging.INFO)
        return
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    for name in ("ray", "ray.tune", "ray.train", "mlflow", "transformers", "alembic", "urllib3", "filelock"):
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # the legacy reporter honours verbose=0 (no banners)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
