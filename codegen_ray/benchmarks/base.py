"""The benchmark interface: what the sweep and ``codegen-ray grade`` need from a benchmark, and nothing else.

A :class:`Benchmark` is built from a :class:`~codegen_ray.config.SweepConfig`
(:func:`codegen_ray.benchmarks.benchmark_for`) and answers, for its problems:

* **load** -- :meth:`Benchmark.load_problems`: the problem records (each has a ``question_id``);
* **prompt** -- :meth:`Benchmark.build_prompts` (and :meth:`Benchmark.stop_sequences` the generation should add);
* **extract** -- :meth:`Benchmark.extract_program`: a model's raw completion -> the program text to grade;
* **grade** -- :meth:`Benchmark.grader` (run under :meth:`Benchmark.execution_config`): a picklable :class:`~codegen_ray.execution.pool.ProgramGrader` that runs one
  program in the sandbox (an :class:`~codegen_ray.execution.base.Executor`) and returns a
  :class:`~codegen_ray.types.ProgramVerdict`; pass@k is computed from those verdicts with the one unbiased estimator;
* **files** -- :meth:`Benchmark.write_sample_results`: per-checkpoint results in the benchmark's own tool's format;
* **describe** -- :attr:`Benchmark.title`, :meth:`Benchmark.source_label`, :meth:`Benchmark.key_data` (what of the
  config changes what is measured), :meth:`Benchmark.selection_end_date`, :meth:`Benchmark.statements` (for the
  contamination check) and :meth:`Benchmark.count_tests`.

Grading a samples file in the benchmark's own format (``codegen-ray grade --benchmark NAME``) is
:meth:`Benchmark.grade_file`, a class method: it needs no sweep config.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Optional, Protocol, Sequence

from ..types import Completion, Prompt, ProgramVerdict


@dataclass(frozen=True)
class GradeFileRequest:
    """``codegen-ray grade`` arguments, typed (argparse stays in the CLI). ``None``: the benchmark's default."""

    samples: Path
    output: Optional[Path]
    problems: Optional[Path]
    exec_cfg: Any  # config.ExecutionConfig
    workers: int
    timeout_s: Optional[float]


class GradeFileReport(Protocol):
    """What ``grade_file`` returns: ``describe()`` is what the CLI prints; ``ok`` false -> exit status 1 (harness
    errors remain: nothing was scored as a wrong answer, no result file was written)."""

    @property
    def ok(self) -> bool: ...

    def describe(self) -> str: ...


class Benchmark(abc.ABC):
    """One benchmark, configured for one sweep (see the module docstring). Instances must pickle: the sweep's Tune
    trials receive them."""

    name: ClassVar[str]  # benchmark.name
    title: ClassVar[str]  # for people: the report's heading
    cfg: Any  # the SweepConfig it was built from

    # ------------------------------------------------------------------------------------------------- problems
    @abc.abstractmethod
    def load_problems(self) -> list[Any]:
        """The problems to evaluate on, each with a ``question_id``. Raises UserError on bad input."""

    @abc.abstractmethod
    def statements(self, problems: Sequence[Any]) -> dict[str, str]:
        """``question_id -> text`` a training row must not copy (the contamination check)."""

    @abc.abstractmethod
    def count_tests(self, problems: Sequence[Any]) -> int:
        """Test runs a program gets at most, summed over ``problems`` (the plan's estimate)."""

    # -------------------------------------------------------------------------------------------------- prompts
    @abc.abstractmethod
    def build_prompts(self, problems: Sequence[Any]) -> list[Prompt]:
        """One prompt per problem, in order."""

    def stop_sequences(self) -> tuple[str, ...]:
        """Stop strings the generation adds to ``generation.stop`` (none by default)."""
        return ()

    @abc.abstractmethod
    def extract_program(self, problem: Any, completion: str) -> str:
        """The program to grade, from one raw completion."""

    # -------------------------------------------------------------------------------------------------- grading
    @abc.abstractmethod
    def grader(self) -> Any:
        """The :class:`~codegen_ray.execution.pool.ProgramGrader` of this benchmark under this config."""

    def execution_config(self) -> Any:
        """The ``ExecutionConfig`` the execution pool runs this benchmark's programs under: ``execution.timeout_s``
        is the CPU-time limit the pool's near-limit re-run rule compares with (default: ``cfg.execution``)."""
        return self.cfg.execution

    # ---------------------------------------------------------------------------------------------------- files
    @abc.abstractmethod
    def sample_results_path(self, directory: Path, stem: str) -> Path:
        """Where :meth:`write_sample_results` writes a checkpoint's results (removed when the evaluation fails)."""

    @abc.abstractmethod
    def write_sample_results(self, directory: Path, stem: str, problems: Sequence[Any],
                             completions: Sequence[Sequence[Completion]], codes: Sequence[Sequence[str]],
                             verdicts: Sequence[Sequence[ProgramVerdict]]) -> Path:
        """A checkpoint's samples and verdicts in the benchmark's own results format (written atomically)."""

    # ---------------------------------------------------------------------------------------------- describing
    @abc.abstractmethod
    def source_label(self) -> str:
        """Where the problems come from, for the plan, the report and MLflow."""

    @abc.abstractmethod
    def key_data(self) -> dict[str, Any]:
        """The configuration that changes what is measured (hashed into the evaluation key)."""

    def selection_end_date(self) -> Optional[str]:
        """Problems dated up to this day select the best checkpoint, later ones report it; None: no split."""
        return None

    # ------------------------------------------------------------------------------------------------------ CLI
    @classmethod
    @abc.abstractmethod
    def grade_file(cls, request: GradeFileRequest) -> GradeFileReport:
        """``codegen-ray grade --benchmark NAME``: grade a samples file in the benchmark's own format."""
