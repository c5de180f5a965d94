"""MLflow tracking: one parent run per sweep, nested runs per variant (training) and per checkpoint (evaluation).

Runs are found again by tags (``codegen_ray.run_key`` on the parent, ``codegen_ray.trial`` on children), so rerunning
an interrupted sweep reuses them instead of creating duplicates. A child run's start and end are the recorded times of
its work (``start_time`` when it is created, ``end_time`` when it ends; both in epoch seconds here, milliseconds in
MLflow), never the moment the driver logged it; a run reused by a later sweep keeps them. Everything goes through :class:`mlflow.MlflowClient`
with an explicit tracking URI: no global active-run state, usable from any process (Ray workers included).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from .config import SweepConfig

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
TAG_RUN_KEY = "codegen_ray.run_key"
TAG_TRIAL = "codegen_ray.trial"
TAG_KIND = "codegen_ray.kind"
PARENT_TAG = "mlflow.parentRunId"


def configured_tracking_uri(cfg: SweepConfig) -> str:
    """Config first, then $MLFLOW_TRACKING_URI, then ``sqlite:///mlflow.db`` (relative paths left as they are)."""
    return cfg.tracking.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def rebase_tracking_uri(uri: str, base: Path) -> str:
    """A relative sqlite database (``sqlite:///mlflow.db``) or file store (``mlruns``) made absolute under ``base``;
    any other URI (absolute paths, servers, ``databricks``) unchanged."""
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri[len(prefix):].startswith("/"):
        return prefix + str(base / uri[len(prefix):])
    scheme_less = ":" not in uri and not uri.startswith(("/", "~", "databricks")) and uri != "uc"
    return str(base / uri) if scheme_less else uri


def resolve_tracking_uri(cfg: SweepConfig) -> str:
    """Config first, then $MLFLOW_TRACKING_URI, then ``sqlite:///mlflow.db`` in the working directory.

    A relative sqlite path is made absolute here so Ray workers (other working directories) write the same file.
    """
    uri = configured_tracking_uri(cfg)
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri[len(prefix):].startswith("/"):
        uri = prefix + str(Path(uri[len(prefix):]).resolve())
    return uri


# MLflow 3's UI opens an experiment of this kind in its model-training view (not the GenAI traces overview).
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
NOTE_TAG = "mlflow.note.content"  # the experiment's description in the UI


@dataclass(frozen=True)
class BenchmarkLabel:
    """The benchmark as the experiment's description names it (the sweep fills it in from ``benchmarks``; tracking
    does not import benchmark code)."""

    title: str  # e.g. LiveCodeBench, HumanEval
    source: str  # where its problems came from
    selection_end_date: Optional[str] = None  # the selection/report split, if the benchmark has one

    @classmethod
    def livecodebench(cls, cfg: SweepConfig) -> "BenchmarkLabel":
        return cls("LiveCodeBench", cfg.benchmark.source, cfg.benchmark.selection_end_date)


def experiment_tags(cfg: SweepConfig, bench: Optional[BenchmarkLabel] = None) -> dict[str, str]:
    """The experiment's kind and its description: what the runs are and how to compare them (``bench`` default:
    LiveCodeBench as ``cfg.benchmark`` configures it)."""
    bench = bench or BenchmarkLabel.livecodebench(cfg)
    split = bench.selection_end_date
    pass1 = (f"Pass@1 on the report problems (dated after {split}), which played no part in choosing the best "
             "checkpoint; the metrics ending in `_all` are on all problems, `selection_pass1` on the problems dated "
             f"up to {split} that chose the best") if split else "Pass@1 on all benchmark problems"
    note = f"""LoRA fine-tuning sweeps by codegen_ray: which training data, and which checkpoint, writes better programs?
Latest sweep: model `{cfg.model.name_or_path}`, data variants {", ".join(f"`{v.name}`" for v in cfg.data.variants)},
benchmark {bench.title} `{bench.source}`, generation backend `{cfg.generation.backend}`.

**Runs.** One parent run per sweep, `sweep-<evaluation key>`: the config as params and `config.yaml`, the best
checkpoint per variant (`best_pass1.<variant>`, tag `best_checkpoint`), and `report.md`, `summary.json` and plots as
artifacts. Nested under it: `train-<variant>` (train loss, learning rate, tokens/s per step; val loss per
checkpoint) and one `eval-<variant>-<checkpoint>` per evaluated checkpoint plus `eval-base` for the base model
(tags `variant`, `step`, `epoch`, `checkpoint`, `is_best`, `status`).

**Main metric** `pass_at_1`: {pass1}. A failed evaluation has status FAILED, tag `failure` and no metric.

**Compare.** Select the `eval-*` runs of a sweep, press Compare, and plot `pass_at_1` against the `step` tag grouped by
`variant` (or use the Chart view). Whether a difference is significant (paired McNemar / bootstrap tests, Wilson
intervals) is in the parent run's `report/report.md`."""
    return {EXPERIMENT_KIND_TAG: EXPERIMENT_KIND, NOTE_TAG: note}


def git_commit(path: Path) -> Optional[str]:
    try:
        out = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


@dataclass
class Tracker:
    """Thin wrapper over MlflowClient holding the sweep's parent run."""

    tracking_uri: str
    experiment_id: str
    parent_run_id: str

    # ------------------------------------------------------------------------------------------------ creation
    @classmethod
    def start(cls, cfg: SweepConfig, run_key: str, config_text: str,
              bench: Optional[BenchmarkLabel] = None) -> "Tracker":
        client = _client(resolve_tracking_uri(cfg))
        exp = client.get_experiment_by_name(cfg.tracking.experiment)
        exp_id = exp.experiment_id if exp is not None else client.create_experiment(
            cfg.tracking.experiment, artifact_location=_artifact_location(resolve_tracking_uri(cfg)))
        for key, value in experiment_tags(cfg, bench).items():
            client.set_experiment_tag(exp_id, key, value)
        found = client.search_runs(
            [exp_id], filter_string=f"tags.`{TAG_RUN_KEY}` = '{run_key}' and tags.`{TAG_KIND}` = 'sweep'",
            max_results=1,
        )
        if found:
            run_id = found[0].info.run_id
            client.update_run(run_id, status="RUNNING")
        else:
            name = cfg.tracking.run_name or f"sweep-{run_key}"
            run = client.create_run(exp_id, run_name=name, tags={TAG_RUN_KEY: run_key, TAG_KIND: "sweep"})
            run_id = run.info.run_id
            params = cfg.flat_params()
            _log_params(client, run_id, params)
            client.log_text(run_id, config_text, "config.yaml")
            commit = git_commit(Path(__file__).resolve().parent)
            if commit:
                client.set_tag(run_id, "git_commit", commit)
        return cls(resolve_tracking_uri(cfg), exp_id, run_id)

    @property
    def client(self):
        return _client(self.tracking_uri)

    def child(self, trial: str, run_name: str, tags: Mapping[str, Any], params: Mapping[str, Any] = (),
              start_time: Optional[float] = None) -> str:
        """Find or create the nested run for ``trial`` (e.g. ``train/deep`` or ``eval/deep/checkpoint-...``); a
        created run starts at ``start_time`` (epoch seconds; default now), a found one keeps its start."""
        client = self.client
        found = self._find_child(trial)
        if found is not None:
            run_id = found.info.run_id
        else:
            all_tags = {PARENT_TAG: self.parent_run_id, TAG_TRIAL: trial, **{k: str(v) for k, v in tags.items()}}
            run_id = client.create_run(self.experiment_id, run_name=run_name, tags=all_tags,
                                       start_time=_ms(start_time)).info.run_id
            if params:
                _log_params(client, run_id, {k: str(v) for k, v in dict(params).items()})
        for k, v in tags.items():
            client.set_tag(run_id, k, str(v))
        return run_id

    def timed_child(self, trial: str, run_name: str, tags: Mapping[str, Any], start_time: float) -> str:
        """The nested run for ``trial``, for work that ran from ``start_time`` (epoch seconds). MLflow cannot move a
        run's start, so a run found with another start (its work was done again since, e.g. a failed evaluation
        retried) is deleted and created anew; a run of the same work (reused) is returned untouched."""
        found = self._find_child(trial)
        if found is not None and found.info.start_time != _ms(start_time):
            self.client.delete_run(found.info.run_id)
        return self.child(trial, run_name, tags, start_time=start_time)

    def run_start(self, run_id: str) -> float:
        """When the run started (epoch seconds)."""
        return self.client.get_run(run_id).info.start_time / 1000

    def _find_child(self, trial: str):
        found = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`{PARENT_TAG}` = '{self.parent_run_id}' and tags.`{TAG_TRIAL}` = '{trial}'",
            max_results=1,
        )
        return found[0] if found else None

    # ------------------------------------------------------------------------------------------------- logging
    def log_metrics(self, run_id: str, metrics: Mapping[str, Optional[float]], step: int | None = None) -> None:
        from mlflow.entities import Metric

        import time

        now = int(time.time() * 1000)
        batch = [
            Metric(key=k, value=float(v), timestamp=now, step=step or 0)
            for k, v in metrics.items()
            if v is not None and not (isinstance(v, float) and math.isnan(v))
        ]
        if batch:
            self.client.log_batch(run_id, metrics=batch)

    def log_artifact(self, run_id: str, path: Path, artifact_path: str | None = None) -> None:
        self.client.log_artifact(run_id, str(path), artifact_path)

    def log_table(self, run_id: str, rows: list[dict[str, Any]], artifact_file: str) -> None:
        self.client.log_table(run_id, data=_columns(rows), artifact_file=artifact_file)

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        for k, v in tags.items():
            self.client.set_tag(run_id, k, str(v))

    def finish(self, run_id: str, status: str = "FINISHED", end_time: Optional[float] = None) -> None:
        """End the run at ``end_time`` (epoch seconds: when its work ended; default now)."""
        self.client.set_terminated(run_id, status=status, end_time=_ms(end_time))


def _artifact_location(uri: str) -> Optional[str]:
    """With a sqlite store, artifacts go next to the database (``mlruns/`` beside ``mlflow.db``), not into whatever
    the working directory happens to be; other stores keep their server's default."""
    prefix = "sqlite:///"
    if uri.startswith(prefix):
        return (Path(uri[len(prefix):]).parent / "mlruns").as_uri()
    return None


def _ms(seconds: Optional[float]) -> Optional[int]:
    """Epoch seconds as MLflow's epoch milliseconds (``None``: MLflow takes now)."""
    return None if seconds is None else int(round(seconds * 1000))


def _client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _log_params(client, run_id: str, params: Mapping[str, str]) -> None:
    from mlflow.entities import Param

    items = [Param(k, (v if len(v) <= 6000 else v[:5997] + "...")) for k, v in params.items()]
    for i in range(0, len(items), 90):
        client.log_batch(run_id, params=items[i:i + 90])


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    keys: list[str] = []
    for row in rows:
        for k in row:
            if k not in keys:
                keys.append(k)
    return {k: [_plain(row.get(k)) for row in rows] for k in keys}


def _plain(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    return value
