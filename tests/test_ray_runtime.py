"""Which Ray a sweep uses, and the README's cluster path run as written.

* Without an address the sweep starts a private Ray of its own, whatever clusters exist or once existed: neither a
  stale ``ray_current_cluster`` file (a `ray start` cluster that died) nor a live `ray start` cluster on the same
  machine stops the default run or gets joined; ``--address auto`` joins the live one.
* The README's commands on this machine: ``ray start --head --include-dashboard true`` from the venv (the job server
  comes from the ``cluster`` extra), ``RAY_AUTH_MODE=token``, then ``ray job submit --working-dir . -- python
  experiments/sweep.py --address auto`` with a shortened config. The job succeeds, its results and MLflow runs land
  under ``~/ray_results`` (not in Ray's temporary copy of the working directory, which Ray deletes), its log says
  where, and stopping the cluster stops exactly the processes it started: the test session's own Ray keeps running.

The `ray start` cluster lives in a temporary ``RAY_TMPDIR`` and ``HOME`` with free ports, so the machine's
``/tmp/ray/ray_current_cluster``, ``~/.ray/auth_token`` and ``~/ray_results`` are never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from cluster_support import free_ports

pytestmark = [pytest.mark.ray, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

SCRIPT = """
from codegen_ray.config import load_config
from codegen_ray.sweep import ray_runtime
import sys
cfg = load_config(None, ["ray.num_cpus=1", *sys.argv[1:]])
with ray_runtime(cfg, verbose=False):
    import ray
    print("CPUS", ray.cluster_resources()["CPU"])
    print("GCS", ray.get_runtime_context().gcs_address)
"""

# The job: the default sweep cut to one variant of 8 rows (1 optimizer step, 1 checkpoint) and 2 problems.
JOB_OVERRIDES = [
    'data.variants=[{name: deep, path: "builtin:deep", max_samples: 8}]',
    "training.epochs=1",
    "training.max_seq_len=256",
    "benchmark.question_ids=[abc901_a, abc902_a]",
    "benchmark.selection_end_date=null",
    "generation.max_tokens=16",
    "execution.num_actors=1",
]


def _base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(RAY_TMPDIR=str(tmp), RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=str(REPO))
    return env


def _run_script(env: dict[str, str], cwd: Path, *overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT, *overrides], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_stale_current_cluster_file_does_not_stop_a_run_without_address():
    tmp = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))  # short: Ray's socket paths live under it
    try:
        (tmp / "ray").mkdir()
        (tmp / "ray" / "ray_current_cluster").write_text("127.0.0.1:1")  # a cluster that is long gone
        proc = _run_script(_base_env(tmp), tmp)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "CPUS 1.0" in proc.stdout
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------------------- a live `ray start` cluster
def _processes() -> dict[int, tuple[int, str, str]]:
    """pid -> (session id, command line, working directory) of every live process we may inspect (zombies have
    exited already: only their parent's wait is missing)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()  # state, ppid, pgrp, session, ...
            if fields[0] in ("Z", "X"):
                continue
            sid = int(fields[3])
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except (OSError, IndexError, ValueError):
            continue
        out[int(entry.name)] = (sid, cmd, cwd)
    return out


class RayStartCluster:
    """`ray start --head --include-dashboard true` from the venv, in its own session, RAY_TMPDIR and HOME."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="rc", dir="/tmp"))  # short: Ray's socket paths live under it
        self.home = self.tmp / "home"
        self.home.mkdir()
        self.env = _base_env(self.tmp)
        # As the README says: the venv's bin first on PATH (the job's `python` is the venv's), token auth for every
        # Ray command of the shell.
        self.env.update(HOME=str(self.home), PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                        RAY_AUTH_MODE="token")
        (gcs, dashboard, client, agent_http, agent_grpc, runtime_env_agent, metrics, node_manager,
         object_manager) = free_ports(9)
        self.gcs_port, self.dashboard_url = gcs, f"http://127.0.0.1:{dashboard}"
        self.start_cmd = [
            str(VENV_BIN / "ray"), "start", "--head", "--include-dashboard", "true", "--num-cpus", "2",
            "--port", str(gcs), "--dashboard-port", str(dashboard), "--ray-client-server-port", str(client),
            "--dashboard-agent-listen-port", str(agent_http), "--dashboard-agent-grpc-port", str(agent_grpc),
            "--runtime-env-agent-port", str(runtime_env_agent), "--metrics-export-port", str(metrics),
            "--node-manager-port", str(node_manager), "--object-manager-port", str(object_manager),
        ]
        self.sid: int | None = None

    def start(self) -> None:
        token = subprocess.run([str(VENV_BIN / "ray"), "get-auth-token", "--generate"], cwd=self.tmp, env=self.env,
                               capture_output=True, text=True, timeout=300)
        assert token.returncode == 0 and (self.home / ".ray" / "auth_token").is_file(), token.stderr[-3000:]
        log = open(self.tmp / "ray-start.log", "w")
        proc = subprocess.Popen(self.start_cmd, cwd=self.tmp, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.sid = proc.pid  # its session: every process `ray start` spawns, and their workers, stay in it
        rc = proc.wait(timeout=600)
        log.close()
        assert rc == 0, (self.tmp / "ray-start.log").read_text()[-3000:]

    def own_processes(self) -> dict[int, str]:
        """What this cluster started: its session, plus job drivers (Ray starts them in a new session, inside the
        job's working directory under this cluster's temp dir)."""
        tmp = str(self.tmp)
        return {pid: cmd for pid, (sid, cmd, cwd) in _processes().items()
                if pid != os.getpid() and (sid == self.sid or cwd.startswith(tmp) or tmp in cmd)}

    def stop(self, grace_s: float = 10.0) -> dict[int, str]:
        """SIGTERM to exactly our processes (as `ray stop` does to every Ray process on the machine), SIGKILL to what
        is left after ``grace_s`` (`ray stop` waits 16 s; gcs_server often needs that); returns what was killed."""
        targets = self.own_processes()
        for pid in targets:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.time() + grace_s
        while time.time() < deadline and self.own_processes():
            time.sleep(0.5)
        left = self.own_processes()
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.time() + 10
        while time.time() < deadline and self.own_processes():
            time.sleep(0.2)
        return left

    def ray_cli(self, *args: str, timeout: float = 600, env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess:
        return subprocess.run([str(VENV_BIN / "ray"), *args], cwd=REPO, env=env or self.env, capture_output=True,
                              text=True, timeout=timeout)


@pytest.fixture(scope="module")
def ray_start_cluster(ray_session):
    """A live `ray start` cluster beside the test session's own Ray (which must not notice it)."""
    cluster = RayStartCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.tmp, ignore_errors=True)


def test_live_ray_start_cluster_is_not_joined_without_address(ray_start_cluster):
    c = ray_start_cluster
    assert (c.tmp / "ray" / "ray_current_cluster").is_file()  # what a bare ray.init() would join
    proc = _run_script(c.env, c.tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "CPUS 1.0" in proc.stdout  # a private Ray of 1 CPU, not the 2-CPU cluster
    assert f":{c.gcs_port}" not in proc.stdout


def test_address_auto_joins_the_live_cluster(ray_start_cluster):
    c = ray_start_cluster
    proc = _run_script(c.env, c.tmp, "ray.address=auto")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "CPUS 2.0" in proc.stdout
    assert f":{c.gcs_port}" in proc.stdout


def test_readme_job_submission_keeps_results_and_mlflow_runs(ray_start_cluster, cache_dir):
    from mlflow import MlflowClient

    c = ray_start_cluster
    # Without RAY_AUTH_MODE=token the job client sends no token and the cluster turns it away.
    no_token = c.ray_cli("job", "list", "--address", c.dashboard_url, timeout=300,
                         env={k: v for k, v in c.env.items() if k != "RAY_AUTH_MODE"})
    assert no_token.returncode != 0, no_token.stdout[-2000:]
    entrypoint = ["python", "experiments/sweep.py", "--address", "auto", *JOB_OVERRIDES,
                  f"model.cache_dir={cache_dir}"]
    proc = c.ray_cli("job", "submit", "--address", c.dashboard_url, "--working-dir", ".", "--", *entrypoint)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "succeeded" in out, out[-5000:]

    # Where the job's relative output.root and default MLflow database went, as its log says.
    durable = c.home / "ray_results"
    assert f"relative paths resolve under {durable}" in out
    assert f"results: {durable / 'results'}" in out and f"MLflow: sqlite:///{durable / 'mlflow.db'}" in out
    summary = json.loads((durable / "results" / "livecodebench" / "summary.json").read_text())
    evaluated = [summary["base"], *summary["checkpoints"]]
    assert all(r["status"] == "ok" and r["total"] == 2 for r in evaluated) and not summary["failed"]
    saved = sorted(p.parent.name for p in (durable / "results" / "training").glob(
        "*/deep/checkpoints/*/adapter_model.safetensors"))
    assert saved and saved == sorted(r["checkpoint"] for r in summary["checkpoints"])
    client = MlflowClient(tracking_uri=f"sqlite:///{durable / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("codegen_ray-default").experiment_id], max_results=50)
    by_name = {r.info.run_name: r for r in runs}
    assert {"train-deep", "eval-base", *(f"eval-deep-{name}" for name in saved)} <= set(by_name)
    assert all(r.info.status == "FINISHED" for r in runs)
    assert all("pass_at_1" in by_name[f"eval-deep-{name}"].data.metrics for name in saved)

    # The job ran inside Ray's temporary copy of the working directory, and left nothing there.
    copies = [d for d in (c.tmp / "ray").glob("session_2*/runtime_resources/working_dir_files/_ray_pkg_*")
              if d.is_dir()]
    assert copies and all((d / "experiments" / "sweep.py").is_file() for d in copies)
    for d in copies:
        assert not [p.name for p in d.iterdir() if p.name in ("results", "mlflow.db", "mlruns")]


def test_stopping_the_cluster_stops_only_its_processes(ray_start_cluster, ray_session):
    c = ray_start_cluster
    ours = c.own_processes()
    assert any("gcs_server" in cmd for cmd in ours.values()) and any("raylet" in cmd for cmd in ours.values())
    c.stop()
    assert not c.own_processes()
    # The test session's Ray, started before the cluster, still runs tasks.
    assert ray_session.get(ray_session.remote(lambda: 41).remote(), timeout=120) + 1 == 42
