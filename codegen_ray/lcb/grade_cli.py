"""Grade externally generated samples, like lcb_runner's custom evaluator (``codegen-ray grade``).

Samples: JSONL, one object per problem, ``{"question_id": ..., "code_list": [programs]}`` or
``{"question_id": ..., "output_list": [raw model outputs]}`` (programs are extracted with :func:`extract_code`).
All input is validated before anything runs; the output is written atomically, so a bad input leaves no file.
A sample whose grading hits a persistent harness error (the sandbox failed) is not a wrong answer: such errors are
counted apart, their problems are left out of the score, no output file is written, and the CLI exits with status 1.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ..errors import DataError
from ..execution.base import Executor
from ..types import Outcome, Problem, ProgramVerdict
from .compat import write_eval_all
from ..fileio import iter_jsonl
from .dataset import load_problems_file
from .extraction import extract_code
from .grading import GradingOptions, LcbGrader
from .metrics import PassAtKTable, counts_from_verdicts, pass_at_k_table


@dataclass(frozen=True)
class SampleSet:
    question_id: str
    output_list: tuple[str, ...]
    code_list: tuple[str, ...]
    line: int


@dataclass
class GradeReport:
    """What ``grade_samples`` measured. Problems with a sample that hit a persistent harness error (the sandbox
    failed; not a wrong answer) are not scored: ``pass_at_1``, ``solved``, ``total`` and ``pass_at_k`` cover the other
    problems, the harness errors are counted apart, and no result file is written while any remain."""

    pass_at_1: Optional[float]  # None when no problem could be scored
    solved: int  # scored problems with at least one accepted sample
    total: int  # problems scored (those with samples and no harness error)
    verdicts: dict[str, list[ProgramVerdict]]  # question_id -> one verdict per sample, in sample order
    pass_at_k: Optional[PassAtKTable]
    outcome_counts: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # problems in the benchmark without samples
    output_path: Optional[Path] = None  # None: nothing written (harness errors remain)
    isolation: str = ""
    harness_errors: int = 0  # samples whose grading hit a persistent harness error
    harness_problems: list[str] = field(default_factory=list)  # their problems (left out of the score)

    @property
    def ok(self) -> bool:
        """Every sample was graded (no harness error remains)."""
        return self.harness_errors == 0

    def describe(self) -> str:
        """The summary the CLI prints."""
        return self.summary()

    def summary(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.outcome_counts.items()))
        if self.pass_at_1 is None or self.pass_at_k is None:
            lines = ["pass@1 -  no problem could be scored"]
        else:
            ks = ", ".join(f"pass@{k}={self.pass_at_k.mean[k]:.4f}" for k in self.pass_at_k.ks)
            scope = "" if self.ok else f" on the {self.total} problem(s) without harness errors"
            lines = [f"pass@1 {self.pass_at_1 * 100:.2f}%  solved {self.solved}/{self.total}{scope}  ({ks})"]
        lines.append(f"outcomes: {counts}  isolation: {self.isolation}")
        if self.missing:
            lines.append(f"{len(self.missing)} benchmark problem(s) had no samples and were not graded")
        if not self.ok:
            first = self.verdicts[self.harness_problems[0]]
            detail = next((v.tests[-1].detail for v in first if v.outcome is Outcome.HARNESS_ERROR and v.tests), "")
            shown = ", ".join(self.harness_problems[:10]) + (" ..." if len(self.harness_problems) > 10 else "")
            lines.append(
                f"harness errors: {self.harness_errors} sample(s) in {len(self.harness_problems)} problem(s) could "
                f"not be graded (the sandbox failed; not wrong answers, not scored): {shown}"
                + (f" (first: {detail})" if detail else "")
            )
            lines.append("no result file written (it would read as a score); fix the sandbox and grade again")
        if self.output_path is not None:
            lines.append(f"wrote {self.output_path}")
        return "\n".join(lines)


def _string_list(value: Any, path: Path, line: int, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataError(str(path), f"{key} must be a list of strings", line)
    if not value:
        raise DataError(str(path), f"{key} is empty", line)
    return tuple(value)


def read_samples(path: str | os.PathLike, problems: dict[str, Problem]) -> list[SampleSet]:
    """Parse and validate the samples file; every error names the file and line."""
    path = Path(path)
    if not path.is_file():
        raise DataError(str(path), "no such file")
    out: list[SampleSet] = []
    seen: dict[str, int] = {}
    for lineno, obj in iter_jsonl(path):  # names file and line for non-UTF-8 bytes, bad JSON, non-objects
        if "question_id" not in obj:
            raise DataError(str(path), "missing field question_id", lineno)
        qid = str(obj["question_id"])
        if qid not in problems:
            raise DataError(str(path), f"unknown question_id {qid!r}", lineno)
        if qid in seen:
            raise DataError(str(path), f"question_id {qid!r} repeats line {seen[qid]}", lineno)
        seen[qid] = lineno
        if "code_list" not in obj and "output_list" not in obj:
            raise DataError(str(path), "missing field code_list (or output_list)", lineno)
        if "code_list" in obj:
            codes = _string_list(obj["code_list"], path, lineno, "code_list")
            outputs = _string_list(obj["output_list"], path, lineno, "output_list") if "output_list" in obj else codes
            if len(outputs) != len(codes):
                raise DataError(str(path), "output_list and code_list differ in length", lineno)
        else:
            outputs = _string_list(obj["output_list"], path, lineno, "output_list")
            codes = tuple(extract_code(o) for o in outputs)
        out.append(SampleSet(qid, outputs, codes, lineno))
    if not out:
        raise DataError(str(path), "no samples")
    return out


def grade_jobs(
    jobs: list[tuple[Problem, str, int]],
    executors: list[Executor],
    options: GradingOptions,
    exec_cfg: Any = None,
) -> list[ProgramVerdict]:
    """Grade ``(problem, code, sample_index)`` jobs on a thread pool, one executor per thread; results in job order.

    Harness errors are retried and near-limit time-limit verdicts are re-run alone afterwards, with the execution
    pool's rules (``codegen_ray.execution.pool.grade_threaded``) when ``exec_cfg`` is given."""
    from ..execution.pool import GradeJob, grade_threaded

    return grade_threaded([GradeJob(p, c, i) for p, c, i in jobs], executors, LcbGrader(options), exec_cfg)


def grade_samples(
    problems_path: str | os.PathLike,
    samples_path: str | os.PathLike,
    output_path: str | os.PathLike,
    exec_cfg: Any,
    workers: int,
    executor_factory: Optional[Callable[[Any], Executor]] = None,
) -> GradeReport:
    """Grade a samples file against a problems file/directory and write an ``_eval_all.json``-shaped file (only
    when no persistent harness error remains: see :class:`GradeReport`).

    ``executor_factory(exec_cfg)`` builds one executor per worker (default:
    :func:`codegen_ray.execution.make_executor`, each with this machine's cores shared among the workers)."""
    if workers < 1:
        raise DataError("--workers", f"must be >= 1, got {workers}")
    problem_list = load_problems_file(problems_path)
    problems = {p.question_id: p for p in problem_list}
    samples = read_samples(samples_path, problems)
    options = GradingOptions.from_execution_config(exec_cfg)
    if executor_factory is None:
        from ..execution.factory import cpus_each, make_executor

        executor_factory = functools.partial(make_executor, cpus=cpus_each(workers))
    executors: list[Executor] = []
    try:
        for _ in range(workers):
            executors.append(executor_factory(exec_cfg))
        jobs = [(problems[s.question_id], code, i) for s in samples for i, code in enumerate(s.code_list)]
        verdicts = grade_jobs(jobs, executors, options, exec_cfg)
    finally:
        for ex in executors:
            close = getattr(ex, "close", None)
            if close is not None:
                close()

    by_qid: dict[str, list[ProgramVerdict]] = {}
    for v in verdicts:
        by_qid.setdefault(v.question_id, []).append(v)
    harness = [v for v in verdicts if v.outcome is Outcome.HARNESS_ERROR]
    harness_problems = sorted({v.question_id for v in harness})
    written: Optional[Path] = None
    if not harness:
        graded_problems = [problems[s.question_id] for s in samples]
        written = write_eval_all(
            output_path,
            graded_problems,
            {s.question_id: list(s.output_list) for s in samples},
            {s.question_id: list(s.code_list) for s in samples},
            verdicts,
        )
    unscored = set(harness_problems)
    scored = [v for v in verdicts if v.question_id not in unscored]
    table = pass_at_k_table(counts_from_verdicts(scored), ks=(1, 5, 10)) if scored else None
    scored_by_qid = {q: vs for q, vs in by_qid.items() if q not in unscored}
    iso = getattr(executors[0], "isolation", "")
    return GradeReport(
        pass_at_1=table.mean[1] if table is not None else None,
        solved=sum(1 for vs in scored_by_qid.values() if any(v.passed for v in vs)),
        total=len(scored_by_qid),
        verdicts=by_qid,
        pass_at_k=table,
        outcome_counts=dict(Counter(v.outcome.value for v in verdicts)),
        missing=sorted(set(problems) - set(by_qid)),
        output_path=written,
        isolation=str(getattr(iso, "value", iso)),
        harness_errors=len(harness),
        harness_problems=harness_problems,
    )


__all__ = ["GradeReport", "SampleSet", "grade_jobs", "grade_samples", "read_samples", "Outcome"]
