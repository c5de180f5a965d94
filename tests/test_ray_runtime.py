"""Without an address the sweep starts a private Ray of its own, whatever clusters exist or once existed: a stale
``ray_current_cluster`` file (a `ray start` cluster that died) must not stop the default run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ray, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent

SCRIPT = """
from codegen_ray.config import load_config
from codegen_ray.sweep import ray_runtime
cfg = load_config(None, ["ray.num_cpus=1"])
with ray_runtime(cfg, verbose=False):
    import ray
    print("CPUS", ray.cluster_resources()["CPU"])
"""


def test_stale_current_cluster_file_does_not_stop_a_run_without_address():
    tmp = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))  # short: Ray's socket paths live under it
    try:
        (tmp / "ray").mkdir()
        (tmp / "ray" / "ray_current_cluster").write_text("127.0.0.1:1")  # a cluster that is long gone
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
        env.update(RAY_TMPDIR=str(tmp), RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=str(REPO))
        proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp, env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "CPUS 1.0" in proc.stdout
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
