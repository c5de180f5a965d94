"""``ray.storage_path: s3://bucket/prefix`` against a real S3-API server on localhost (moto's server, which speaks
the S3 REST protocol; the sweep's pyarrow and Ray reach it through ``AWS_ENDPOINT_URL``, as they would reach AWS).

The sweep runs as a user runs it, ``python experiments/sweep.py`` in a subprocess with the endpoint and credentials
in its environment, twice:

1. a fresh run: every checkpoint lands in the bucket (adapter, meta, optimizer state), and the local copies the
   evaluation read are byte for byte the bucket's objects;
2. the local ``output.root`` and the MLflow database are deleted (a new driver machine), and the same command runs
   again. It resumes from the bucket alone: no checkpoint object is written again, no training step runs (the new
   MLflow database has no train-loss history), the adapters it evaluates are the bucket's bytes, and every
   checkpoint generates the same text (greedy decoding) and gets the same score as in the first run.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ray, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
BUCKET, PREFIX = "codegen-ray", "sweeps"
# The default sweep cut to one variant of 16 rows (2 optimizer steps, a checkpoint after each) and 2 problems.
SMALL = [
    'data.variants=[{name: deep, path: "builtin:deep", max_samples: 16}]',
    "training.epochs=1",
    "training.save_steps=1",
    "training.max_seq_len=256",
    "benchmark.question_ids=[abc901_a, abc902_a]",
    "benchmark.selection_end_date=null",
    "generation.max_tokens=16",
    "execution.num_actors=1",
]


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3-API server on a free localhost port, with one empty bucket; yields the client environment."""
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
    client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket=BUCKET)
    try:
        yield env, client
    finally:
        server.stop()


def _objects(client) -> dict[str, tuple[str, object]]:
    """key -> (ETag, LastModified) of every object in the bucket."""
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = (obj["ETag"], obj["LastModified"])
    return out


def _sweep(tmp: Path, env: dict[str, str], overrides: list[str], log_name: str) -> str:
    full_env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    full_env.update(env, RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, str(REPO / "experiments" / "sweep.py"), *overrides], cwd=tmp,
                          env=full_env, capture_output=True, text=True, timeout=900)
    (tmp / log_name).write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    return proc.stdout


def _scores(results: Path) -> dict[str, tuple[float, dict]]:
    summary = json.loads((results / "livecodebench" / "summary.json").read_text())
    assert not summary["failed"]
    return {r["key"]: (r["pass@1"], r["per_problem"]) for r in [summary["base"], *summary["checkpoints"]]}


def _generations(results: Path) -> dict[tuple[str, str], str]:
    """(checkpoint, question) -> generated text (greedy decoding: equal adapters give equal text)."""
    out = {}
    for path in (results / "livecodebench" / "generations").rglob("*.jsonl"):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            out[row["checkpoint"], row["question_id"]] = row["text"]
    return out


TRAIN_LOSS_QUERY = """
import json, sys
from mlflow import MlflowClient

client = MlflowClient(tracking_uri=sys.argv[1])
exp = client.get_experiment_by_name("codegen_ray-default")
[train] = client.search_runs([exp.experiment_id], filter_string="attributes.run_name = 'train-deep'")
print(json.dumps([[m.step, m.value] for m in client.get_metric_history(train.info.run_id, "train_loss")]))
"""


def _train_loss_history(tracking_uri: str) -> list:
    """The train-deep run's train_loss history, read in a fresh process (MLflow keeps a database engine per URI for the
    life of a process: here, it would go on reading the deleted database)."""
    proc = subprocess.run([sys.executable, "-c", TRAIN_LOSS_QUERY, tracking_uri], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def s3_runs(s3_server, tmp_path_factory, cache_dir):
    env, client = s3_server
    tmp = tmp_path_factory.mktemp("s3")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    overrides = SMALL + [f"ray.storage_path=s3://{BUCKET}/{PREFIX}", f"output.root={tmp / 'results'}",
                         f"tracking.tracking_uri={uri}", f"model.cache_dir={cache_dir}"]
    _sweep(tmp, env, overrides, "first.log")
    first = {"objects": _objects(client), "scores": _scores(tmp / "results"),
             "generations": _generations(tmp / "results"), "train_loss": _train_loss_history(uri),
             "local": {p.relative_to(tmp / "results"): p.read_bytes()
                       for p in (tmp / "results" / "training").glob("*/deep/checkpoints/*/adapter_model.safetensors")}}
    shutil.rmtree(tmp / "results")
    for lost in ("mlflow.db", "mlruns"):
        shutil.rmtree(tmp / lost, ignore_errors=True) if (tmp / lost).is_dir() else (tmp / lost).unlink(missing_ok=True)
    assert not (tmp / "results").exists() and not (tmp / "mlflow.db").exists()
    _sweep(tmp, env, overrides, "second.log")
    second = {"objects": _objects(client), "scores": _scores(tmp / "results"),
              "generations": _generations(tmp / "results"), "train_loss": _train_loss_history(uri)}
    return {"tmp": tmp, "client": client, "first": first, "second": second}


def _checkpoint_objects(objects: dict) -> dict[str, dict[str, tuple]]:
    """checkpoint directory name -> {file name: (ETag, LastModified)} of the Ray Train run's checkpoints."""
    out: dict[str, dict[str, tuple]] = {}
    for key, value in objects.items():
        parts = key.split("/")
        if len(parts) == 4 and parts[0] == PREFIX and parts[1].startswith("deep-") and \
                parts[2].startswith("checkpoint-step-"):
            out.setdefault(parts[2], {})[parts[3]] = value
    return out


def test_checkpoints_land_in_the_bucket(s3_runs):
    ckpts = _checkpoint_objects(s3_runs["first"]["objects"])
    evaluated = {k.split("/", 1)[1] for k in s3_runs["first"]["scores"] if k != "base"}
    assert len(evaluated) == 2 and set(ckpts) == evaluated
    for files in ckpts.values():
        assert {"adapter_model.safetensors", "adapter_config.json", "meta.json"} <= set(files)
    assert s3_runs["first"]["train_loss"], "the first run trained and logged its steps"


def test_evaluated_adapters_are_the_bucket_objects(s3_runs):
    client, local = s3_runs["client"], s3_runs["first"]["local"]
    assert len(local) == 2
    keys = {k: k for k in s3_runs["first"]["objects"] if k.endswith("/adapter_model.safetensors")}
    for rel, data in local.items():
        name = rel.parent.name
        [key] = [k for k in keys if k.split("/")[2] == name]
        assert client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data
    # and after the rerun (nothing local was left), the adapters it evaluated were fetched from the bucket
    tmp = s3_runs["tmp"]
    for path in (tmp / "results" / "training").glob("*/deep/checkpoints/*/adapter_model.safetensors"):
        [key] = [k for k in keys if k.split("/")[2] == path.parent.name]
        assert client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == path.read_bytes()


def test_rerun_from_the_bucket_alone_retrains_nothing(s3_runs):
    first, second = s3_runs["first"], s3_runs["second"]
    assert _checkpoint_objects(second["objects"]) == _checkpoint_objects(first["objects"])  # none rewritten or added
    assert second["train_loss"] == []  # no optimizer step ran: the fresh MLflow database got no training metric
    assert second["scores"] == first["scores"]
    assert len(first["generations"]) == 3 * 2 and second["generations"] == first["generations"]
