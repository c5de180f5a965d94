"""The Ray runtime of a sweep: joining a cluster (token auth) or starting a private instance, where a submitted job's
outputs go, and quiet logging."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

from ..config import SweepConfig
from ..errors import ConfigError
from ..tracking import configured_tracking_uri, rebase_tracking_uri

log = logging.getLogger(__name__)

# Ray's job supervisor sets this in the environment of the driver process it starts for `ray job submit` (and only
# there: not in the job's tasks and actors).
RAY_JOB_ENV_VAR = "RAY_JOB_CONFIG_JSON_ENV_VAR"
RAY_DEFAULT_STORAGE = "~/ray_results"  # Ray Train/Tune's storage when no storage_path is given


def running_as_ray_job() -> bool:
    """Whether this process is the entrypoint of a job submitted with ``ray job submit``."""
    return RAY_JOB_ENV_VAR in os.environ


def _local_storage(cfg: SweepConfig) -> Optional[Path]:
    """``ray.storage_path`` as a local path (``~`` expanded), or None when unset or remote (``s3://``, ``gs://``...)."""
    storage = cfg.ray.storage_path
    if not storage or ("://" in storage and not storage.startswith("file://")):
        return None
    return Path(storage.removeprefix("file://")).expanduser()


def job_output_base(cfg: SweepConfig) -> Path:
    """Where a submitted job's relative paths resolve: ``ray.storage_path`` when it is a local (shared) path, else
    Ray's default storage ``~/ray_results`` on the node that runs the job's driver (a relative storage path lies
    under it too)."""
    default = Path(RAY_DEFAULT_STORAGE).expanduser()
    storage = _local_storage(cfg)
    return default if storage is None else default / storage  # an absolute storage path replaces the default


def durable_paths(cfg: SweepConfig) -> SweepConfig:
    """``cfg`` with the paths a sweep writes made durable when it runs as a submitted Ray job.

    ``ray job submit --working-dir .`` runs the driver inside Ray's temporary copy of that directory, which Ray deletes
    after the job: a relative ``output.root``, a relative local ``ray.storage_path`` and a relative MLflow store (the
    default ``sqlite:///mlflow.db``) would vanish with it. Inside a job they resolve under :func:`job_output_base`
    instead, and a warning says where. Outside a job, or with absolute paths, ``cfg`` comes back unchanged.
    """
    if not running_as_ray_job():
        return cfg
    base = job_output_base(cfg)
    changes: dict[str, Any] = {}
    if not Path(cfg.output.root).expanduser().is_absolute():
        changes["output"] = dataclasses.replace(cfg.output, root=str(base / cfg.output.root))
    storage = _local_storage(cfg)
    if storage is not None and not storage.is_absolute():
        changes["ray"] = dataclasses.replace(cfg.ray, storage_path=str(base))
    uri = configured_tracking_uri(cfg)
    if rebase_tracking_uri(uri, base) != uri:
        changes["tracking"] = dataclasses.replace(cfg.tracking, tracking_uri=rebase_tracking_uri(uri, base))
    if not changes:
        return cfg
    cfg = dataclasses.replace(cfg, **changes)
    log.warning("codegen-ray: running as a Ray job, whose working directory Ray deletes when the job ends: relative "
                "paths resolve under %s (output.root: %s; MLflow: %s; ray.storage_path: %s)", base, cfg.output.root,
                configured_tracking_uri(cfg), cfg.ray.storage_path or f"{cfg.output.root}/ray")
    return cfg


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
