"""Pipelined against sequential evaluation: the same sweep twice per round in one invocation, once with
``ray.pipeline=false`` (every checkpoint evaluated after all training) and once with ``ray.pipeline=true`` (each
checkpoint evaluated as soon as it is saved, the base model at once), alternating which goes first.

Each run is ``python experiments/sweep.py`` in a subprocess from a cold start: a fresh output root and MLflow
database, nothing reused (the builtin model's cache is shared: it is built once, before the first round). Prints
each run's wall time, how long evaluation overlapped training (from the report's timeline), the machine's load
average, and the ratio pipelined / sequential (median over rounds). Both modes must give the same results table
(the script fails otherwise): pipelining changes when work runs, never what it measures.

    .venv/bin/python experiments/benchmarks/bench_pipeline.py                      # the embedded default, 1 round
    .venv/bin/python experiments/benchmarks/bench_pipeline.py --rounds 2 -- training.epochs=2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(mode: str, work: Path, overrides: list[str], cache_dir: Path) -> dict:
    root = work / mode
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    cmd = [sys.executable, str(REPO / "experiments" / "sweep.py"), *overrides,
           f"ray.pipeline={'true' if mode == 'pipelined' else 'false'}", f"output.root={root / 'results'}",
           f"tracking.tracking_uri=sqlite:///{root / 'mlflow.db'}", f"model.cache_dir={cache_dir}"]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    with open(root / "log.txt", "w") as log:
        rc = subprocess.run(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"{mode} sweep failed (exit {rc}); see {root / 'log.txt'}")
    summary = json.loads(next((root / "results").glob("*/summary.json")).read_text())
    bars = summary["volatile"]["timeline"]
    train_end = max(b["finished_at"] for b in bars if b["kind"] == "training")
    overlap = sum(max(0.0, min(b["finished_at"], train_end) - b["started_at"]) for b in bars
                  if b["kind"] == "evaluation")
    table = sorted((c["variant"], c["checkpoint"], c["status"], c["pass@1"], json.dumps(c["per_problem"], sort_keys=True))
                   for c in summary["checkpoints"])
    return {"wall": wall, "overlap": overlap, "table": table, "load": os.getloadavg()[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--workdir", default=None, help="where the runs' outputs go (default: a temporary directory)")
    ap.add_argument("overrides", nargs="*", help="config overrides for both modes (key=value)")
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_pipeline-")).resolve()
    cache_dir = work / "model-cache"
    print(f"outputs under {work}; cpus={os.cpu_count()}", flush=True)
    walls: dict[str, list[float]] = {"sequential": [], "pipelined": []}
    tables = []
    for r in range(args.rounds):
        order = ["sequential", "pipelined"] if r % 2 == 0 else ["pipelined", "sequential"]
        for mode in order:
            res = _run(mode, work, args.overrides, cache_dir)
            walls[mode].append(res["wall"])
            tables.append(res["table"])
            print(f"round {r + 1} {mode:10s}: {res['wall']:7.1f} s wall; evaluation during training "
                  f"{res['overlap']:6.1f} s (summed over trials); load average {res['load']:.1f}", flush=True)
    if any(t != tables[0] for t in tables):
        raise SystemExit("the modes gave different results tables")
    seq, pipe = statistics.median(walls["sequential"]), statistics.median(walls["pipelined"])
    print(f"median wall: sequential {seq:.1f} s, pipelined {pipe:.1f} s; pipelined / sequential = {pipe / seq:.3f}")
    print(f"results tables identical across {len(tables)} runs")


if __name__ == "__main__":
    main()
