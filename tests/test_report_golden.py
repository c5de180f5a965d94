"""The report files on a fixed, designed input compared with golden copies under ``tests/golden/report``.

The input is built by hand (no Ray, no model): a base model, two variants with several checkpoints each, one failed
evaluation, training curves, a contamination summary, a timeline of when each training and evaluation ran, and both
a selection/report split with n=1 (exact McNemar) and a run without split with n=3 (paired bootstrap).
``summary.json``, ``report.md``, the terminal table and the four PNG plots must stay byte-identical: any change to
what the report says or draws shows up here.

Regenerate the golden files on purpose only (a deliberate change to the report):
``CODEGEN_RAY_WRITE_GOLDEN=1 python -m pytest tests/test_report_golden.py``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from codegen_ray.contamination import ContaminationSummary
from codegen_ray.report import (CheckpointResult, SweepReportInput, TimelineBar, TrainingCurve, WorkKind, analyse,
                                apply_split, format_table, split_by_date, write_report)
from codegen_ray.types import Problem, WorkInterval, checkpoint_dir_name

GOLDEN = Path(__file__).parent / "golden" / "report"
FILES = ("summary.json", "report.md", "table.txt", "pass1_vs_step.png", "loss_curves.png", "solved_matrix.png",
         "timeline.png")
QIDS = [f"abc{300 + i}_a" for i in range(24)]


def problems() -> list[Problem]:
    return [Problem(question_id=q, question_title=q, question_content=f"statement {q}", platform="atcoder",
                    contest_id=q[:6], contest_date=f"2024-{7 + i // 6:02d}-{1 + i % 6:02d}T00:00:00",
                    difficulty="easy", starter_code="", public_tests=(), private_tests=())
            for i, q in enumerate(QIDS)]


def result(variant: str, step: int, epoch: int, per: dict[str, float], n: int, val_loss, **kw) -> CheckpointResult:
    solved = sum(1 for v in per.values() if v > 0)
    pass_at = {1: sum(per.values()) / len(per)}
    if n >= 3:
        pass_at[3] = sum(1.0 if v > 0 else 0.0 for v in per.values()) / len(per)
    return CheckpointResult(
        variant=variant, checkpoint="base" if variant == "base" else checkpoint_dir_name(step, epoch), step=step,
        epoch=epoch, val_loss=val_loss, train_loss=None if val_loss is None else round(val_loss + 0.125, 4),
        pass_at=pass_at, solved=solved, total=len(per), per_problem=per, backend="hf", isolation="bubblewrap", **kw)


def designed_input(with_split: bool) -> SweepReportInput:
    n = 1 if with_split else 3
    rng = random.Random(20241130 + n)
    levels = [i / n for i in range(n + 1)]

    def per(skill: float) -> dict[str, float]:
        return {q: (rng.choice(levels[1:]) if rng.random() < skill else 0.0) for q in QIDS}

    results = [result("base", 0, 0, per(0.25), n, None)]
    for variant, skills in (("deep", (0.2, 0.35, 0.3, 0.4)), ("diverse", (0.3, 0.5, 0.55, 0.45))):
        for i, skill in enumerate(skills):
            step = 10 * (i + 1)
            results.append(result(variant, step, 1 + i // 2, per(skill), n, round(2.0 - 0.25 * i - len(variant) / 40, 4)))
    results.append(CheckpointResult(variant="diverse", checkpoint=checkpoint_dir_name(50, 3), step=50, epoch=3,
                                    val_loss=1.0, train_loss=0.9, status="failed",
                                    failure="generation failed: RuntimeError: engine died"))
    split = split_by_date(problems(), "2024-08-03") if with_split else None
    if split is not None:
        results = apply_split(results, split)
    curves = [TrainingCurve(variant=v, steps=list(range(1, 41)),
                            train_loss=[round(2.5 - k * 0.03 - off, 4) for k in range(40)],
                            val_steps=[10, 20, 30, 40], val_loss=[round(2.0 - 0.25 * i - off, 4) for i in range(4)])
              for v, off in (("deep", 0.1), ("diverse", 0.15))]
    contamination = ContaminationSummary(ngram=13, rows_checked={"deep": 150, "diverse": 200},
                                         rows_flagged={"deep": 2, "diverse": 0}, problems_hit={"deep": 1, "diverse": 0},
                                         statements=len(QIDS), dropped=with_split, artifact="contamination.jsonl")
    t0 = 1_796_018_400.0  # 2026-11-30T06:00:00Z, the run's volatile start below
    timeline = [TimelineBar(WorkKind.TRAINING, v, f"train {v}", WorkInterval(t0 + 2, t0 + end))
                for v, end in (("deep", 300.0), ("diverse", 260.0))]
    for i, r in enumerate(sorted(results, key=lambda r: (not r.is_base, r.variant, r.step))):
        start = t0 + 310 + 35 * i + (60 if i >= 6 else 0)  # a gap with nothing running after the sixth evaluation
        label = "eval base model" if r.is_base else f"eval {r.variant} step {r.step}"
        timeline.append(TimelineBar(WorkKind.EVALUATION, r.variant, label, WorkInterval(start, start + 50),
                                    reused=r.variant == "deep"))
    return SweepReportInput(
        results=results, curves=curves, config_hash="0123456789ab", num_samples=n, alpha=0.05,
        bootstrap_samples=2000, bootstrap_seed=7, split=split, contamination=contamination,
        run_info={"model": "builtin:tiny-qwen2", "benchmark": "builtin:atcoder-mini", "problems": len(QIDS),
                  "variants": ["deep", "diverse"]},
        volatile={"started_at": "2026-11-30T06:00:00", "wall_seconds": 12.5}, timeline=timeline,
    )


@pytest.mark.parametrize("with_split", [True, False], ids=["split-n1", "nosplit-n3"])
def test_report_files_match_golden(tmp_path, with_split):
    inp = designed_input(with_split)
    files = write_report(tmp_path, inp)
    (tmp_path / "table.txt").write_text(format_table(inp.results, analyse(inp).best_by_variant, inp.split),
                                        encoding="utf-8")
    assert {p.name for p in files.plots} == set(FILES[3:])
    golden = GOLDEN / ("split-n1" if with_split else "nosplit-n3")
    if os.environ.get("CODEGEN_RAY_WRITE_GOLDEN") == "1":
        golden.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            (golden / name).write_bytes((tmp_path / name).read_bytes())
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (golden / name).read_bytes(), f"{name} differs from {golden / name}"
