"""The report's PNG plots and the whole report directory (matplotlib, Agg canvas; no Ray)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from codegen_ray.report import (
    LOSS_PLOT,
    MATRIX_PLOT,
    PASS1_PLOT,
    CheckpointResult,
    SelectionSplit,
    SweepReportInput,
    TrainingCurve,
    apply_split,
    load_summary,
    write_plots,
    write_report,
)
from codegen_ray.types import checkpoint_dir_name

QIDS = [f"abc{300 + i}_{'abcdefg'[i % 7]}" for i in range(41)]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _results(rng: random.Random, n_samples: int = 1):
    def res(variant, step, epoch, p, checkpoint=None, val_loss=None):
        if n_samples == 1:
            per = {q: 1.0 if rng.random() < p else 0.0 for q in QIDS}
        else:
            per = {q: sum(rng.random() < p for _ in range(n_samples)) / n_samples for q in QIDS}
        return CheckpointResult(
            variant, checkpoint or checkpoint_dir_name(step, epoch), step, epoch, val_loss=val_loss,
            pass_at={1: sum(per.values()) / len(QIDS)}, solved=sum(v > 0 for v in per.values()), total=len(QIDS),
            per_problem=per,
        )

    rs = [res("base", 0, 0, 0.1, checkpoint="base")]
    for variant, ps in (("deep", (0.2, 0.35, 0.3)), ("diverse", (0.15, 0.2, 0.28))):
        rs += [res(variant, 10 * (i + 1), i + 1, p, val_loss=1.5 - 0.1 * i) for i, p in enumerate(ps)]
    rs.append(CheckpointResult("diverse", checkpoint_dir_name(40, 4), 40, 4, status="failed", failure="boom"))
    return rs


def _curves(rng: random.Random):
    return [
        TrainingCurve(v, list(range(1, 31)), [2.0 * 0.96**s + 0.05 * rng.random() for s in range(1, 31)],
                      [10, 20, 30], [1.5, 1.4 + d, 1.42 + d])
        for v, d in (("deep", 0.0), ("diverse", 0.05))
    ]


def _check_png(path):
    import numpy as np
    from matplotlib.image import imread

    assert path.exists()
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 15_000  # a real figure, not an empty canvas
    img = imread(path)
    assert img.shape[0] > 300 and img.shape[1] > 500
    assert float(np.std(img[..., :3])) > 0.05  # lines and colours, not a blank image


def test_plots_with_split(tmp_path):
    rng = random.Random(0)
    split = SelectionSplit(frozenset(QIDS[:20]), frozenset(QIDS[20:]), "first 20 select, rest report")
    inp = SweepReportInput(apply_split(_results(rng), split), _curves(rng), "h", 1, 0.05, 500, 0, split=split)
    paths = write_plots(tmp_path, inp)
    assert [p.name for p in paths] == [PASS1_PLOT, LOSS_PLOT, MATRIX_PLOT]
    for p in paths:
        _check_png(p)
    assert sorted(x.name for x in tmp_path.iterdir()) == sorted([PASS1_PLOT, LOSS_PLOT, MATRIX_PLOT])


def test_plots_without_split_curves_or_base_and_with_samples(tmp_path):
    rng = random.Random(1)
    rs = [r for r in _results(rng, n_samples=5) if not r.is_base]
    inp = SweepReportInput(rs, [], "h", 5, 0.05, 500, 0)
    for p in write_plots(tmp_path, inp):
        _check_png(p)


def test_write_report_directory(tmp_path):
    rng = random.Random(2)
    inp = SweepReportInput(_results(rng), _curves(rng), "h", 1, 0.05, 500, 0, volatile={"finished_at": "now"})
    files = write_report(tmp_path / "report", inp)
    assert files.summary_json.name == "summary.json" and files.report_md.name == "report.md"
    md = files.report_md.read_text()
    for p in files.plots:
        assert f"]({p.name})" in md
        _check_png(p)
    assert load_summary(files.summary_json)["config_hash"] == "h"
    umask = os.umask(0)
    os.umask(umask)
    for f in (files.summary_json, files.report_md, *files.plots):
        assert f.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0o600


def test_plots_do_not_import_pyplot(tmp_path):
    """Library code draws on Figure objects with the Agg canvas: no pyplot, no global backend switch. Checked in
    a fresh interpreter, since other code in this process may have imported pyplot."""
    script = (
        "import random, sys, pathlib\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "import test_report_plots as t\n"
        "t.write_plots(pathlib.Path(sys.argv[1]), t.SweepReportInput(t._results(random.Random(3)), [], 'h', 1, 0.05,"
        " 100, 0))\n"
        "print('pyplot' if 'matplotlib.pyplot' in sys.modules else 'no-pyplot')\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path), str(Path(__file__).parent)],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "no-pyplot"
    assert (tmp_path / PASS1_PLOT).exists()
