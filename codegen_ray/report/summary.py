"""``summary.json``: the machine-readable result of a sweep, deterministic apart from its ``volatile`` key."""

from __future__ import annotations

import enum
import json
import math
from pathlib import Path
from typing import Any, Mapping, Optional

from ..fileio import atomic_write_text
from ..stats import Interval
from .comparisons import Comparison, SweepAnalysis, analyse
from .results import CheckpointResult, SelectionSplit, SweepReportInput
from .timeline import timeline_to_dicts

SUMMARY_SCHEMA = "codegen_ray.summary/1"
VOLATILE_KEY = "volatile"  # timestamps and durations: the only part of summary.json that differs between equal runs
SUMMARY_JSON = "summary.json"



def _num(x: Optional[float]) -> Optional[float]:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _interval(iv: Optional[Interval]) -> Optional[list[float]]:
    return None if iv is None else [iv.low, iv.high]


def result_to_dict(r: CheckpointResult, alpha: float, split: Optional[SelectionSplit] = None) -> dict[str, Any]:
    d: dict[str, Any] = {
        "key": r.key,
        "variant": r.variant,
        "checkpoint": r.checkpoint,
        "step": r.step,
        "epoch": r.epoch,
        "status": r.status.value,
        "failure": r.failure,
        "train_loss": _num(r.train_loss),
        "val_loss": _num(r.val_loss),
        "pass@1": _num(r.pass1),
        "pass_at": {str(k): _num(v) for k, v in sorted(r.pass_at.items())},
        "solved": r.solved if r.ok else None,
        "total": r.total if r.ok else None,
        "pass1_wilson": _interval(r.wilson(alpha)) if r.ok else None,
        "selection_pass1": _num(r.selection_pass1),
        "report_pass1": _num(r.report_pass1),
        "backend": r.backend,
        "isolation": r.isolation,
        "per_problem": {q: _num(v) for q, v in sorted(r.per_problem.items())},
    }
    if split is not None and r.ok:
        d["selection_pass1_wilson"] = _interval(r.wilson(alpha, split.selection_ids))
        d["report_pass1_wilson"] = _interval(r.wilson(alpha, split.report_ids))
    return d


def _comparison_to_dict(c: Comparison) -> dict[str, Any]:
    t = c.test
    return {
        "a": c.a,
        "b": c.b,
        "a_key": c.a_key,
        "b_key": c.b_key,
        "test": t.test,
        "problems": t.n,
        "problem_set": c.problem_set,
        "skipped_problems": c.skipped_problems,
        "mean_a": _num(t.mean_a),
        "mean_b": _num(t.mean_b),
        "difference": _num(t.difference),
        "b01": t.b01,
        "b10": t.b10,
        "p_value": _num(t.p_value),
        "p_holm": _num(c.p_holm),
        "alpha": t.alpha,
        "significant": t.significant,
        "difference_ci": _interval(t.ci),
        "bootstrap_samples": t.n_boot,
        "sentence": c.sentence,
    }


def build_summary(inp: SweepReportInput, analysis: Optional[SweepAnalysis] = None) -> dict[str, Any]:
    """The deterministic part of ``summary.json`` (everything except the ``volatile`` field)."""
    an = analysis or analyse(inp)
    best_keys = {r.key for r in an.best_by_variant.values()}
    base = inp.base_result
    checkpoints = []
    for r in inp.variant_results:
        d = result_to_dict(r, inp.alpha, inp.split)
        d["is_best"] = r.key in best_keys
        checkpoints.append(d)
    return {
        "schema": SUMMARY_SCHEMA,
        "config_hash": inp.config_hash,
        "run_info": _jsonable(inp.run_info),
        "statistics": {
            "alpha": inp.alpha,
            "num_samples": inp.num_samples,
            "test": "exact McNemar" if inp.num_samples == 1 else "paired bootstrap",
            "bootstrap_samples": inp.bootstrap_samples if inp.num_samples > 1 else None,
            "bootstrap_seed": inp.bootstrap_seed if inp.num_samples > 1 else None,
            "interval": "Wilson score",
            "multiple_comparisons": "p_holm: Holm-adjusted over the comparisons of the same list",
        },
        "selection": None
        if inp.split is None
        else {
            "description": inp.split.description,
            "selection_problems": sorted(inp.split.selection_ids),
            "report_problems": sorted(inp.split.report_ids),
        },
        "best_rule": "highest Pass@1 on the selection problems (all problems without a split); ties: earlier step, "
        "then lower val loss; base model and failed evaluations never chosen",
        "base": None if base is None else result_to_dict(base, inp.alpha, inp.split),
        "checkpoints": checkpoints,
        "failed": sorted(r.key for r in inp.results if not r.ok),
        "best_by_variant": {v: r.key for v, r in an.best_by_variant.items()},
        "best_overall": None if an.best_overall is None else an.best_overall.key,
        "comparisons": [_comparison_to_dict(c) for c in an.comparisons],
        # with a split: the same tests on all problems (the selection problems that chose the best included)
        "comparisons_all_problems": [_comparison_to_dict(c) for c in an.comparisons_all],
        "contamination": None if inp.contamination is None else inp.contamination.to_dict(),
        "curves": {
            c.variant: {
                "steps": list(c.steps),
                "train_loss": [_num(x) for x in c.train_loss],
                "val_steps": list(c.val_steps),
                "val_loss": [_num(x) for x in c.val_loss],
            }
            for c in sorted(inp.curves, key=lambda c: c.variant)
        },
    }


def _jsonable(value: Any) -> Any:
    """Plain JSON values (non-finite floats → null; paths, enums → strings), dict keys as strings."""
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    return str(value)


def dumps_summary(summary: Mapping[str, Any]) -> str:
    return json.dumps(_jsonable(summary), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def write_summary_json(
    path: str | Path, inp: SweepReportInput, analysis: Optional[SweepAnalysis] = None
) -> Path:
    """Write ``summary.json`` atomically, keys sorted. Timestamps and durations (``inp.volatile``) go under the
    top-level ``"volatile"`` key only (the timeline's bars among them, under ``"timeline"``); :func:`load_summary`
    drops it by default, so equal runs compare equal."""
    summary = build_summary(inp, analysis)
    volatile = dict(inp.volatile)
    if inp.timeline:
        volatile["timeline"] = timeline_to_dicts(inp.timeline)
    summary[VOLATILE_KEY] = _jsonable(volatile)
    return atomic_write_text(path, dumps_summary(summary))


def load_summary(path: str | Path, include_volatile: bool = False) -> dict[str, Any]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not include_volatile:
        data.pop(VOLATILE_KEY, None)
    return data
