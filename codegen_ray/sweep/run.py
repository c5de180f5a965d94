"""The study in one call: plan, train every variant, evaluate every checkpoint (overlapping training by default:
:mod:`.pipeline`), report and track."""

from __future__ import annotations

import time

from ..config import SweepConfig
from .keys import SweepPaths
from .outputs import write_outputs
from .pipeline import run_stages
from .plan import plan_sweep
from .result import SweepResult
from .runtime import configure_logging, durable_paths, ray_runtime


def run_sweep(cfg: SweepConfig, verbose: bool = False, progress: bool = True) -> SweepResult:
    """Train every variant, evaluate every checkpoint (and the base model), pick the best, report and track."""
    started = time.time()
    cfg = durable_paths(cfg)  # as a submitted Ray job: relative outputs outside Ray's temporary working directory
    plan = plan_sweep(cfg)
    paths = SweepPaths.for_plan(plan)
    configure_logging(verbose)
    with ray_runtime(cfg, verbose):
        tracker = start_tracking(cfg, paths)
        trainings, evaluations = run_stages(plan, paths, tracker, progress=progress, verbose=verbose)
        return write_outputs(plan, paths, trainings, evaluations, tracker, started)


def start_tracking(cfg: SweepConfig, paths: SweepPaths):
    if not cfg.tracking.enabled:
        return None
    from ..benchmarks import benchmark_for
    from ..tracking import BenchmarkLabel, Tracker

    bench = benchmark_for(cfg)
    label = BenchmarkLabel(bench.title, bench.source_label(), bench.selection_end_date())
    return Tracker.start(cfg, paths.eval_key, cfg.to_yaml(), label)
