"""Writing the report into a directory: ``summary.json``, ``report.md`` and the plots, all from one analysis."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..fileio import atomic_write_text
from .comparisons import SweepAnalysis, analyse
from .markdown import REPORT_MD, render_report_md
from .plots import write_plots
from .results import SweepReportInput
from .summary import SUMMARY_JSON, write_summary_json


@dataclass(frozen=True)
class ReportFiles:
    report_md: Optional[Path]
    summary_json: Optional[Path]
    plots: tuple[Path, ...]



def write_report_md(
    directory: str | Path, inp: SweepReportInput, analysis: Optional[SweepAnalysis] = None, with_plots: bool = True
) -> ReportFiles:
    """Write ``report.md`` (and, unless ``with_plots`` is false, the PNG plots it links) into ``directory``."""
    directory = Path(directory)
    an = analysis or analyse(inp)
    plots = write_plots(directory, inp, an) if with_plots else []
    text = render_report_md(inp, an, [p.name for p in plots])
    md = atomic_write_text(directory / REPORT_MD, text)
    return ReportFiles(report_md=md, summary_json=None, plots=tuple(plots))


def write_report(directory: str | Path, inp: SweepReportInput) -> ReportFiles:
    """``summary.json``, ``report.md`` and the plots into ``directory``, all from one analysis."""
    directory = Path(directory)
    an = analyse(inp)
    summary = write_summary_json(directory / SUMMARY_JSON, inp, an)
    files = write_report_md(directory, inp, an)
    return ReportFiles(report_md=files.report_md, summary_json=summary, plots=files.plots)
