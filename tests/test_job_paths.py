"""Where a sweep submitted with ``ray job submit`` writes: Ray runs the job's driver inside its temporary copy of the
working directory, so relative output paths resolve under ``ray.storage_path`` (a local one) or Ray's default storage
``~/ray_results`` instead (``codegen_ray.sweep.durable_paths``). Outside a job nothing changes. The end-to-end check,
a real job on a real `ray start` cluster, is ``tests/test_ray_runtime.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen_ray.config import load_config
from codegen_ray.sweep import durable_paths, running_as_ray_job
from codegen_ray.tracking import resolve_tracking_uri

JOB_ENV = "RAY_JOB_CONFIG_JSON_ENV_VAR"  # what Ray's job supervisor sets for the driver it starts


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv(JOB_ENV, raising=False)
    return tmp_path / "home"


@pytest.fixture
def in_job(home, monkeypatch) -> Path:
    monkeypatch.setenv(JOB_ENV, '{"runtime_env": {"working_dir": "gcs://_ray_pkg_0.zip"}, "metadata": {}}')
    return home


def test_outside_a_job_nothing_moves(home):
    cfg = load_config(None, [])
    assert not running_as_ray_job()
    assert durable_paths(cfg) is cfg
    assert cfg.output.root == "results" and cfg.tracking.tracking_uri is None


def test_in_a_job_relative_outputs_go_under_ray_results(in_job, caplog):
    cfg = durable_paths(load_config(None, []))
    base = in_job / "ray_results"
    assert cfg.output.root == str(base / "results")
    assert resolve_tracking_uri(cfg) == f"sqlite:///{base / 'mlflow.db'}"
    assert cfg.ray.storage_path is None  # Tune's files stay under output.root/ray, now durable too
    assert f"relative paths resolve under {base}" in caplog.text
    assert durable_paths(cfg) is cfg  # idempotent: the CLI and run_sweep both call it


def test_in_a_job_a_local_storage_path_is_the_base(in_job, tmp_path):
    shared = tmp_path / "nfs" / "ray"
    cfg = durable_paths(load_config(None, [f"ray.storage_path={shared}", "tracking.tracking_uri=sqlite:///runs.db"]))
    assert cfg.output.root == str(shared / "results")
    assert cfg.tracking.tracking_uri == f"sqlite:///{shared / 'runs.db'}"
    assert cfg.ray.storage_path == str(shared)


def test_in_a_job_a_relative_storage_path_lies_under_ray_results(in_job):
    cfg = durable_paths(load_config(None, ["ray.storage_path=shared"]))
    assert cfg.ray.storage_path == str(in_job / "ray_results" / "shared")
    assert cfg.output.root == str(in_job / "ray_results" / "shared" / "results")


def test_in_a_job_remote_storage_keeps_local_outputs_under_ray_results(in_job, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "mlruns")  # a relative file store, from the environment
    cfg = durable_paths(load_config(None, ["ray.storage_path=s3://bucket/prefix"]))
    assert cfg.ray.storage_path == "s3://bucket/prefix"
    assert cfg.output.root == str(in_job / "ray_results" / "results")
    assert cfg.tracking.tracking_uri == str(in_job / "ray_results" / "mlruns")


def test_in_a_job_absolute_paths_and_servers_are_used_as_given(in_job, tmp_path):
    cfg = load_config(None, [f"output.root={tmp_path / 'out'}", "tracking.tracking_uri=http://mlflow.internal:5000"])
    assert durable_paths(cfg) is cfg
