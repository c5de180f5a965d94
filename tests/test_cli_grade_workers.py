"""``codegen-ray grade`` grades on every core it may use unless --workers says otherwise."""

from __future__ import annotations

import os

import pytest

from codegen_ray import cli


@pytest.mark.parametrize("argv_workers, expected", [([], None), (["--workers", "3"], 3)])
def test_grade_uses_every_usable_core_by_default(monkeypatch, tmp_path, argv_workers, expected):
    import codegen_ray.lcb.grade_cli as grade_cli

    seen = {}

    class Report:
        ok = True  # no persistent harness errors

        def describe(self) -> str:
            return "ok"

    def fake_grade_samples(problems, samples, output, exec_cfg, workers):
        seen["workers"] = workers
        return Report()

    monkeypatch.setattr(grade_cli, "grade_samples", fake_grade_samples)
    argv = ["grade", "--problems", str(tmp_path / "p.jsonl"), "--samples", str(tmp_path / "s.jsonl"),
            "--output", str(tmp_path / "o.json"), *argv_workers]
    assert cli.main(argv) == 0
    assert seen["workers"] == (expected or len(os.sched_getaffinity(0)))
