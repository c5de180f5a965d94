"""What a sweep returns (:class:`SweepResult`), and the latest-run copies of its summary and report."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..fileio import atomic_write_text


@dataclass
class SweepResult:
    run_key: str
    output_dir: Path
    results: list[Any]  # report.CheckpointResult
    best: dict[str, Any]
    summary_path: Path
    report_path: Path
    table: str
    mlflow_parent_run_id: Optional[str]
    counters: dict[str, int]

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.results)

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame([dataclasses.asdict(r) for r in self.results])


def copy_latest(src: Path, dst: Path) -> None:
    atomic_write_text(dst, src.read_text(encoding="utf-8"))
