"""Train one data variant: rows → split → tokens → a Ray Train ``TorchTrainer`` of LoRA workers → checkpoints.

:func:`train_variant` is what a sweep's Tune function trainable calls, once per variant. It is idempotent on its
``output_dir``: a finished run (``training_complete.json``) is returned as is, an interrupted one resumes from its
latest checkpoint (Ray Train restores the run from the snapshot under the same storage path and name).

Layout of ``output_dir``::

    run.json                      fingerprint of what this run trains (:mod:`.identity`; a different one in the same
                                  dir is refused) and when its training started (a resumed run keeps that time)
    data/{train,val,test}.jsonl   the split, for inspection;  data/report.json: counts
    checkpoints/checkpoint-step-{S}-epoch-{E}/   adapter_model.safetensors, adapter_config.json, meta.json, ...
    training_complete.json        the TrainingResult (marker of a finished run)
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from ..config import SweepConfig, VariantConfig
from ..fileio import atomic_write_text
from ..errors import ConfigError, DataError, UserError
from ..types import CHECKPOINT_RE, CheckpointRef, WorkInterval
from .data import LoadReport, load_variant_rows, split_rows, write_splits
from .identity import training_key
from .tokenize import check_chat_template, pad_token_id, tokenize_examples
from .lora import check_target_modules, resolve_dtype
from .saved import forwarding_callback
from .worker import META_FILE, STATE_FILE, WorkerSpec, train_loop_per_worker

log = logging.getLogger(__name__)

COMPLETE_MARKER = "training_complete.json"
RUN_FILE = "run.json"
CHECKPOINTS_DIR = "checkpoints"
RESULT_VERSION = 1


@dataclass(frozen=True)
class LogRecord:
    step: int
    epoch: int
    loss: float
    lr: float
    tokens_per_s: float


@dataclass(frozen=True)
class ValRecord:
    step: int
    epoch: int
    val_loss: Optional[float]


@dataclass
class TrainingResult:
    variant: str
    checkpoints: list[CheckpointRef]  # sorted by step
    history: list[LogRecord]  # every log_every steps (and at checkpoints)
    val_history: list[ValRecord]  # one per checkpoint
    split_sizes: dict[str, int]
    num_zero_label_dropped: int  # samples with no trainable token left after truncation (train + val)
    num_bad_rows_skipped: int
    num_excluded: int  # rows dropped because their source was in exclude_sources
    hyperparameters: dict[str, Any]  # resolved: training.*, lora.*, model dtype
    output_dir: str
    config_hash: str
    wall_s: float = 0.0
    reused: bool = False  # this call returned an already finished run from disk (nothing trained)
    interval: Optional[WorkInterval] = None  # when the training ran (None in markers written before it was recorded)

    @property
    def final_checkpoint(self) -> CheckpointRef:
        return self.checkpoints[-1]

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["version"] = RESULT_VERSION
        out.pop("reused")
        return out

    @staticmethod
    def from_json(data: dict[str, Any]) -> "TrainingResult":
        data = dict(data)
        data.pop("version", None)
        data["checkpoints"] = [CheckpointRef(**c) for c in data["checkpoints"]]
        data["history"] = [LogRecord(**r) for r in data["history"]]
        data["val_history"] = [ValRecord(**r) for r in data["val_history"]]
        data["interval"] = WorkInterval.from_dict(data.get("interval"))
        return TrainingResult(**data)


# ------------------------------------------------------------------------------------------------------- helpers
def run_fingerprint(cfg: SweepConfig, variant: VariantConfig, exclude_sources: frozenset[str]) -> str:
    """What determines a variant's training (:func:`.identity.training_identity`): the sweep's training key too."""
    return training_key(cfg, variant, exclude_sources)


def storage_run_name(variant: str, fingerprint: str) -> str:
    """The Ray Train run's name under ``ray.storage_path``; its checkpoints are ``<storage>/<name>/<checkpoint>``."""
    return f"{variant}-{fingerprint}"


def storage_uri(storage_path: str) -> str:
    """``ray.storage_path`` as a URI or absolute path any node can open with pyarrow (``~`` expanded, a relative local
    path made absolute against this process's cwd), without a trailing slash."""
    if "://" in storage_path:
        return storage_path.rstrip("/")
    return str(Path(storage_path).expanduser().resolve())


def absolute_tracking_uri(uri: Optional[str]) -> Optional[str]:
    """Workers run in other directories: make a relative sqlite / file store absolute against this process's cwd."""
    if not uri:
        return uri
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(uri[len("sqlite:///"):]).resolve())
    if "://" not in uri and not uri.startswith("/"):
        return str(Path(uri).resolve())
    return uri


def _resolved_hyperparameters(cfg: SweepConfig, variant: VariantConfig, dtype: str) -> dict[str, Any]:
    hp = {f"training.{k}": v for k, v in dataclasses.asdict(cfg.training_for(variant)).items()}
    hp.update({f"lora.{k}": v for k, v in dataclasses.asdict(cfg.lora).items()})
    hp["model.dtype"] = dtype
    return hp


def check_model(model_path: str, cfg: SweepConfig) -> None:
    """Fail before Ray starts: every LoRA target module exists in the model (checked on the meta device: no weights
    loaded)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(model_path, trust_remote_code=cfg.model.trust_remote_code)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, trust_remote_code=cfg.model.trust_remote_code)
    check_target_modules(model, cfg.lora.target_modules, cfg.model.name_or_path)


def _read_checkpoints(ckpt_root: Path, variant: str, config_hash: str) -> list[CheckpointRef]:
    refs = []
    if not ckpt_root.is_dir():
        return refs
    for d in ckpt_root.iterdir():
        m = CHECKPOINT_RE.match(d.name)
        if not (m and d.is_dir() and (d / META_FILE).is_file()):
            continue
        meta = json.loads((d / META_FILE).read_text())
        if meta.get("config_hash") != config_hash:
            continue
        refs.append(CheckpointRef(variant=variant, step=meta["step"], epoch=meta["epoch"], adapter_path=str(d),
                                  train_loss=meta.get("train_loss"), val_loss=meta.get("val_loss")))
    return sorted(refs, key=lambda r: r.step)


# -------------------------------------------------------------------------------------------------------- public
def _tune_callbacks() -> list:
    """Inside a Tune trial (the sweep), forward each checkpoint's metrics to Tune (progress, ResultGrid)."""
    try:
        from ray.tune.integration.ray_train import TuneReportCallback

        return [TuneReportCallback()]
    except (ImportError, RuntimeError):  # RuntimeError: not in a Tune session
        return []


def read_training_result(output_dir: Path) -> TrainingResult:
    """The result of a finished :func:`train_variant` run in ``output_dir`` (FileNotFoundError if it did not finish)."""
    marker = Path(output_dir) / COMPLETE_MARKER
    return TrainingResult.from_json(json.loads(marker.read_text()))


def train_variant(
    cfg: SweepConfig,
    variant: VariantConfig,
    output_dir: Path,
    *,
    model_path: str,
    exclude_sources: frozenset[str] = frozenset(),
    mlflow_run_id: str | None = None,
    tracking_uri: str | None = None,
    progress: bool = False,
    started_at: float | None = None,
    on_checkpoint: Optional[Callable[[CheckpointRef], None]] = None,
) -> TrainingResult:
    """LoRA-fine-tune ``model_path`` on ``variant``'s data with a Ray Train ``TorchTrainer`` (Ray must be initialised).

    Returns the finished run without training when ``output_dir`` already holds one with the same fingerprint;
    resumes from the latest checkpoint when it holds an interrupted one. ``exclude_sources`` are ``ChatExample.source``
    values (``file:line``) to leave out (e.g. contaminated rows). With ``mlflow_run_id``, rank 0 logs train_loss / lr /
    tokens_per_s per log step and val_loss per checkpoint into that run.

    ``on_checkpoint`` (picklable) is called with each checkpoint as soon as Ray Train has persisted it, while
    training goes on (:mod:`.saved`); checkpoints of an earlier, interrupted run and of a finished run are not
    announced (they are in the result).

    The result's ``interval`` is when the training ran: from ``started_at`` (epoch seconds: when the caller began this
    variant's work, e.g. opened its MLflow run; default now) or, for a run resumed from an interrupted one, from the
    interrupted run's start, to the moment the result is recorded.
    """
    t_start = time.perf_counter()
    started_at = time.time() if started_at is None else started_at
    if cfg.training_for(variant).packing:
        raise ConfigError("training.packing", "sequence packing is not implemented; set it to false (micro-batches "
                          "are padded to their longest sequence)")
    output_dir = Path(output_dir).expanduser().resolve()
    exclude_sources = frozenset(exclude_sources)
    fingerprint = run_fingerprint(cfg, variant, exclude_sources)
    marker = output_dir / COMPLETE_MARKER
    run_file = output_dir / RUN_FILE
    if run_file.is_file():
        run_info = json.loads(run_file.read_text())
        previous = run_info.get("fingerprint")
        if previous != fingerprint:
            raise UserError(
                f"{output_dir} holds a training run of variant {variant.name!r} with a different configuration "
                f"(fingerprint {previous} != {fingerprint}); use a new output directory or delete it"
            )
        if marker.is_file():
            result = read_training_result(output_dir)
            result.reused = True
            log.info("variant %s: training already complete in %s", variant.name, output_dir)
            return result
        started_at = run_info.get("started_at", started_at)  # resumed: the training began in the interrupted run
    output_dir.mkdir(parents=True, exist_ok=True)
    run_file.write_text(json.dumps({"variant": variant.name, "fingerprint": fingerprint, "started_at": started_at},
                                   indent=2))

    # ---- data
    load_report = LoadReport(source=variant.path)
    rows = load_variant_rows(cfg, variant, load_report)
    kept = [r for r in rows if r.source not in exclude_sources]
    num_excluded = len(rows) - len(kept)
    if not kept:
        raise DataError(load_report.source, f"variant {variant.name!r}: every row was excluded")
    splits = split_rows(kept, cfg.data)
    write_splits(splits, output_dir / "data")

    # ---- tokens
    from transformers import AutoTokenizer

    tc = cfg.training_for(variant)
    tokenizer = AutoTokenizer.from_pretrained(model_path, trust_remote_code=cfg.model.trust_remote_code)
    check_chat_template(tokenizer, cfg.model.name_or_path)
    train_tok, train_rep = tokenize_examples(tokenizer, splits.train, tc.max_seq_len, "train")
    val_tok, val_rep = tokenize_examples(tokenizer, splits.val, tc.max_seq_len, "val")
    if not train_tok:
        raise DataError(load_report.source, f"variant {variant.name!r}: no training sample has a trainable token "
                        f"within training.max_seq_len={tc.max_seq_len}")
    (output_dir / "data" / "report.json").write_text(json.dumps({
        "source": load_report.source, "rows_read": load_report.rows_read, "bad_rows_skipped": load_report.num_bad,
        "bad_rows": [str(b) for b in load_report.bad_rows[:100]], "capped_from": load_report.capped_from,
        "excluded": num_excluded, "split_sizes": splits.sizes,
        "truncated": {"train": train_rep.truncated, "val": val_rep.truncated},
        "zero_label_dropped": train_rep.zero_label_dropped + val_rep.zero_label_dropped,
    }, indent=2))
    check_model(model_path, cfg)

    # ---- Ray Train
    import ray
    from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    dtype = resolve_dtype(cfg.model.dtype, tc.use_gpu)
    local_model = Path(model_path).expanduser()
    spec = WorkerSpec(
        variant=variant.name,
        model_path=str(local_model.resolve()) if local_model.exists() else model_path,
        dtype=dtype,
        trust_remote_code=cfg.model.trust_remote_code,
        lora=dataclasses.asdict(cfg.lora),
        training=dataclasses.asdict(tc),
        train_data=ray.put(train_tok),
        val_data=ray.put(val_tok),
        pad_id=pad_token_id(tokenizer),
        config_hash=fingerprint,
        mlflow_run_id=mlflow_run_id,
        tracking_uri=absolute_tracking_uri(tracking_uri),
        progress=progress,
    )
    resources = {**tc.resources_per_worker, "CPU": tc.cpus_per_worker}
    if tc.use_gpu:
        resources["GPU"] = tc.gpus_per_worker
    if cfg.ray.storage_path:
        storage, name = cfg.ray.storage_path, storage_run_name(variant.name, fingerprint)
    else:
        storage, name = str(output_dir), CHECKPOINTS_DIR
    callbacks = _tune_callbacks()
    run_uri = f"{storage_uri(cfg.ray.storage_path)}/{name}" if cfg.ray.storage_path else None
    if on_checkpoint is not None:
        callbacks.append(forwarding_callback(variant.name, on_checkpoint, output_dir / CHECKPOINTS_DIR, run_uri))
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config={"spec": spec},
        scaling_config=ScalingConfig(num_workers=tc.num_workers, use_gpu=tc.use_gpu, resources_per_worker=resources),
        run_config=RunConfig(
            name=name,
            storage_path=storage,
            failure_config=FailureConfig(max_failures=tc.max_failures),
            checkpoint_config=CheckpointConfig(num_to_keep=None),
            callbacks=callbacks,
        ),
    )
    fit_result = trainer.fit()
    if fit_result.error is not None:
        raise fit_result.error
    ckpt_root = output_dir / CHECKPOINTS_DIR
    if cfg.ray.storage_path:  # copy from shared storage so every run's checkpoints also sit under output_dir
        for ckpt, _metrics in fit_result.best_checkpoints or []:
            dest = ckpt_root / Path(ckpt.path).name
            if not (dest / META_FILE).is_file():
                tmp = dest.with_name(dest.name + ".tmp")
                shutil.rmtree(tmp, ignore_errors=True)
                ckpt.to_directory(str(tmp))
                tmp.replace(dest)
    checkpoints = _read_checkpoints(ckpt_root, variant.name, fingerprint)
    if run_uri is not None:  # where a generation actor on a node without output_dir fetches each one from
        checkpoints = [dataclasses.replace(c, storage_uri=f"{run_uri}/{c.name}") for c in checkpoints]
    if not checkpoints:
        raise RuntimeError(f"variant {variant.name}: training finished without a checkpoint under {ckpt_root}")
    state = json.loads((Path(checkpoints[-1].adapter_path) / STATE_FILE).read_text())
    result = TrainingResult(
        variant=variant.name,
        checkpoints=checkpoints,
        history=[LogRecord(**r) for r in state["history"]],
        val_history=[ValRecord(**r) for r in state["val_history"]],
        split_sizes=splits.sizes,
        num_zero_label_dropped=train_rep.num_zero_label_dropped + val_rep.num_zero_label_dropped,
        num_bad_rows_skipped=load_report.num_bad,
        num_excluded=num_excluded,
        hyperparameters=_resolved_hyperparameters(cfg, variant, dtype),
        output_dir=str(output_dir),
        config_hash=fingerprint,
        wall_s=time.perf_counter() - t_start,
        interval=WorkInterval(started_at, time.time()),
    )
    atomic_write_text(marker, json.dumps(result.to_json(), indent=2))
    return result
