"""Grade externally generated samples, like lcb_runner's custom evaluator (``codegen-ray grade``).

Samples: JSONL, one object per problem, ``{"question_id": ..., "code_list": [programs]}`` or
``{"question_id": ..., "output_list": [raw model outputs]}`` (programs are extracted with :func:`extract_code`).
All input is validated before anything runs; the output is written atomically, so a bad input leaves no file.
"""

from __future__ import annotations

import os
import queue
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ..errors import DataError
from ..execution.base import Executor
from ..types import Outcome, Problem, ProgramVerdict
from .compat import write_eval_all
from .dataset import iter_records, load_problems_file
from .extraction import extract_code
from .grading import GradingOptions, grade_program
from .metrics import PassAtKTable, counts_from_verdicts, pass_at_k_table


@dataclass(frozen=True)
class SampleSet:
    question_id: str
    output_list: tuple[str, ...]
    code_list: tuple[str, ...]
    line: int


@dataclass
class GradeReport:
    pass_at_1: float
    solved: int  # problems with at least one accepted sample
    total: int  # problems graded (those that have samples)
    verdicts: dict[str, list[ProgramVerdict]]  # question_id -> one verdict per sample, in sample order
    pass_at_k: PassAtKTable
    outcome_counts: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # problems in the benchmark without samples
    output_path: Optional[Path] = None
    isolation: str = ""

    def describe(self) -> str:
        """The summary the CLI prints."""
        return self.summary()

    def summary(self) -> str:
        ks = ", ".join(f"pass@{k}={self.pass_at_k.mean[k]:.4f}" for k in self.pass_at_k.ks)
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.outcome_counts.items()))
        lines = [f"pass@1 {self.pass_at_1 * 100:.2f}%  solved {self.solved}/{self.total}  ({ks})",
                 f"outcomes: {counts}  isolation: {self.isolation}"]
        if self.missing:
            lines.append(f"{len(self.missing)} benchmark problem(s) had no samples and were not graded")
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
    for lineno, obj in iter_records(path):  # names file and line for non-UTF-8 bytes, bad JSON, non-objects
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
    pool's rules (``codegen_ray.execution.pool``) when ``exec_cfg`` is given."""
    if not executors:
        raise ValueError("at least one executor is needed")
    grade_one: Callable[..., ProgramVerdict]
    needs_rerun: Callable[[ProgramVerdict], bool] = lambda v: False  # noqa: E731
    try:
        from ..execution.pool import grade_job, needs_serial_rerun
    except ImportError:  # execution pool not installed: plain grading
        def grade_one(problem, code, index, executor):
            return grade_program(problem, code, executor, options, sample_index=index)
    else:
        def grade_one(problem, code, index, executor):
            return grade_job(problem, code, index, executor, options)
        if exec_cfg is not None:
            needs_rerun = lambda v: needs_serial_rerun(v, exec_cfg)  # noqa: E731

    pool: "queue.Queue[Executor]" = queue.Queue()
    for ex in executors:
        pool.put(ex)

    def run(job: tuple[Problem, str, int]) -> ProgramVerdict:
        executor = pool.get()
        try:
            problem, code, index = job
            return grade_one(problem, code, index, executor)
        finally:
            pool.put(executor)

    if len(executors) == 1:
        verdicts = [run(j) for j in jobs]
    else:
        with ThreadPoolExecutor(max_workers=len(executors), thread_name_prefix="lcb-grade") as tp:
            verdicts = list(tp.map(run, jobs))
    for i, verdict in enumerate(verdicts):  # alone now: nothing else competes for the CPU
        if needs_rerun(verdict):
            verdicts[i] = run(jobs[i])
    return verdicts


def grade_samples(
    problems_path: str | os.PathLike,
    samples_path: str | os.PathLike,
    output_path: str | os.PathLike,
    exec_cfg: Any,
    workers: int,
    executor_factory: Optional[Callable[[Any], Executor]] = None,
) -> GradeReport:
    """Grade a samples file against a problems file/directory and write an ``_eval_all.json``-shaped file.

    ``executor_factory(exec_cfg)`` builds one executor per worker (default:
    :func:`codegen_ray.execution.make_executor`)."""
    if workers < 1:
        raise DataError("--workers", f"must be >= 1, got {workers}")
    problem_list = load_problems_file(problems_path)
    problems = {p.question_id: p for p in problem_list}
    samples = read_samples(samples_path, problems)
    options = GradingOptions.from_execution_config(exec_cfg)
    if executor_factory is None:
        from ..execution import make_executor as executor_factory  # type: ignore[no-redef]
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

    graded_problems = [problems[s.question_id] for s in samples]
    write_eval_all(
        output_path,
        graded_problems,
        {s.question_id: list(s.output_list) for s in samples},
        {s.question_id: list(s.code_list) for s in samples},
        verdicts,
    )
    by_qid: dict[str, list[ProgramVerdict]] = {}
    for v in verdicts:
        by_qid.setdefault(v.question_id, []).append(v)
    table = pass_at_k_table(counts_from_verdicts(verdicts), ks=(1, 5, 10))
    iso = getattr(executors[0], "isolation", "")
    return GradeReport(
        pass_at_1=table.mean[1],
        solved=sum(1 for vs in by_qid.values() if any(v.passed for v in vs)),
        total=len(by_qid),
        verdicts=by_qid,
        pass_at_k=table,
        outcome_counts=dict(Counter(v.outcome.value for v in verdicts)),
        missing=sorted(set(problems) - set(by_qid)),
        output_path=Path(output_path),
        isolation=str(getattr(iso, "value", iso)),
    )


__all__ = ["GradeReport", "SampleSet", "grade_jobs", "grade_samples", "read_samples", "Outcome"]
