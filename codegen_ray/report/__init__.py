"""The end of a sweep: pick the best checkpoint per variant, compare them with paired tests, write ``summary.json``,
``report.md`` with PNG plots, and the terminal table.

Pure Python (statsmodels/scipy for statistics, matplotlib's object API for plots, imported lazily); no Ray, no torch.
The sweep turns its Tune results into :class:`CheckpointResult` records, bundles them into a
:class:`SweepReportInput` and calls :func:`write_report` (or the single writers). May import the foundation
(``types``, ``stats``, ``fileio``) and ``contamination`` (its summary record); nothing else of the package.

Modules: ``results`` (records, the split, best-checkpoint selection), ``comparisons`` (paired tests, the analysis),
``summary`` (summary.json), ``table`` (the terminal table), ``plots`` (PNGs), ``markdown`` (report.md), ``files``
(writing them all), ``formatting`` (number formats they share), ``timeline`` (when each training and evaluation ran,
and when nothing did).

Rules, in one place:

* The base model (checkpoint ``"base"``, step 0) is a baseline shared by all variants; it is never the best checkpoint
  of a variant.
* A failed evaluation (``status == "failed"``) is never the best checkpoint, never counts as Pass@1 = 0, and is left
  out of plots and comparisons; the report lists it with its failure reason.
* Best checkpoint per variant (:func:`choose_best`): highest Pass@1 on the selection problems when a
  selection/report split is configured (on all problems otherwise); ties broken by the earlier step, then the lower
  validation loss, then the checkpoint name.
* With a split, the best checkpoints are compared on the *report* problems only, which played no part in choosing
  them, so the reported numbers are not inflated by the selection.
* Comparisons (:func:`compare`): every pair of variants' best checkpoints, and each best checkpoint against the base
  model; exact McNemar on solved/unsolved when one sample per problem (n=1), paired bootstrap over problems of the
  per-problem pass@1 when n>1.
"""

from .comparisons import Comparison, SweepAnalysis, analyse, compare
from .files import ReportFiles, write_report, write_report_md
from .markdown import REPORT_MD, render_report_md
from .plots import (LOSS_PLOT, MATRIX_PLOT, PASS1_PLOT, TIMELINE_PLOT, plot_losses, plot_pass1, plot_solved_matrix,
                    plot_timeline, write_plots)
from .results import (CheckpointResult, EvalStatus, SelectionSplit, SweepReportInput, TrainingCurve, apply_split,
                      choose_best, choose_best_overall, split_by_date)
from .summary import (SUMMARY_JSON, SUMMARY_SCHEMA, VOLATILE_KEY, build_summary, dumps_summary, load_summary,
                      result_to_dict, write_summary_json)
from .table import format_table
from .timeline import Span, TimelineBar, TimelineRow, WorkKind, idle_spans, timeline_rows, timeline_to_dicts

__all__ = [
    "LOSS_PLOT", "MATRIX_PLOT", "PASS1_PLOT", "REPORT_MD", "SUMMARY_JSON", "SUMMARY_SCHEMA", "TIMELINE_PLOT",
    "VOLATILE_KEY", "Span", "TimelineBar", "TimelineRow", "WorkKind", "idle_spans", "plot_timeline",
    "timeline_rows", "timeline_to_dicts",
    "CheckpointResult", "Comparison", "EvalStatus", "ReportFiles", "SelectionSplit", "SweepAnalysis",
    "SweepReportInput", "TrainingCurve", "analyse", "apply_split", "build_summary", "choose_best",
    "choose_best_overall", "compare", "dumps_summary", "format_table", "load_summary", "plot_losses", "plot_pass1",
    "plot_solved_matrix", "render_report_md", "result_to_dict", "split_by_date",
    "write_plots", "write_report", "write_report_md", "write_summary_json",
]
