"""Grading jobs without Ray: the job record (:class:`GradeJob`), the grader protocol (:class:`ProgramGrader`), the
rules every way of grading shares (harness-error retries, which time-limit verdicts are re-run alone, how many
programs run at once, batch sizes), and two ways to grade: one after another (:func:`grade_serial`) and on a
thread pool (:func:`grade_threaded`). The Ray execution service (``service``, ``pool``) applies the same rules.

**Which time-limit verdicts are re-run alone** (:func:`needs_serial_rerun`): a time limit that load could have
decided. A test stopped at or near the CPU-time limit (CPU time >= ``near_limit_fraction`` x ``timeout_s``: CPU
time grows a little under contention), and a test stopped by the wall-clock backstop (wall time >= the backstop,
``wall_timeout_factor * timeout_s + 1 s``): a correct program that a loaded machine starved of CPU reaches the
backstop without using its CPU time. The re-run runs with no other program of the pool running, and its verdict is
final: a program that really loops or sleeps reaches its limit again.
"""

from __future__ import annotations

import logging
import math
import queue
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Optional, Protocol

from ..types import Outcome, ProgramVerdict, TestVerdict
from .base import Executor
from .factory import limits_from_config, make_executor

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 3
MAX_BATCH = 16  # programs per actor call, at most
BATCHES_PER_ACTOR = 4  # while work lasts, each actor gets about this many more calls (load balance)
HARNESS_DETAIL_CHARS = 500  # a harness error's detail, clipped
TRACEBACK_CHARS = 4000  # a grading exception's traceback, clipped (its end: the exception and innermost frames)


@dataclass(frozen=True)
class GradeJob:
    """One program (``code``, the ``sample_index``-th completion) to grade on ``problem``: whatever record the
    pool's grader takes (a LiveCodeBench :class:`~codegen_ray.types.Problem`, a HumanEval problem), with a
    ``question_id``."""

    problem: Any
    code: str
    sample_index: int = 0


class ProgramGrader(Protocol):
    """Judges one program on one problem, running it with ``executor``. It is pickled into the pool's actors. A
    benchmark's rules: ``lcb.grading.LcbGrader``, ``benchmarks.humaneval.HumanEvalGrader``."""

    def __call__(self, problem: Any, code: str, sample_index: int, executor: Executor) -> ProgramVerdict: ...


def needs_serial_rerun(verdict: ProgramVerdict, exec_cfg: Any) -> bool:
    """A time-limit verdict that load could have decided: a test stopped near the CPU-time limit, or stopped by the
    wall-clock backstop (see the module docstring)."""
    if verdict.outcome is not Outcome.TIME_LIMIT:
        return False
    limits = limits_from_config(exec_cfg)
    near_cpu = float(exec_cfg.near_limit_fraction) * limits.cpu_time_s
    return any(t.outcome is Outcome.TIME_LIMIT and (t.cpu_time_s >= near_cpu or t.wall_time_s >= limits.wall_time_s)
               for t in verdict.tests)


def pool_concurrency(exec_cfg: Any) -> int:
    """Programs running at once: never more than the whole CPUs given to the pool, and at least one."""
    cores = int(math.floor(int(exec_cfg.num_actors) * float(exec_cfg.cpus_per_actor) + 1e-9))
    return max(1, min(int(exec_cfg.num_actors), cores))


def batch_size(pending: int, parallel: int) -> int:
    """Programs per actor call: one Ray round trip for several programs while there is plenty of work, down to one
    program per call at the end so no actor idles while another still holds a long batch."""
    return max(1, min(MAX_BATCH, pending // (BATCHES_PER_ACTOR * parallel)))


def harness_error_verdict(question_id: str, sample_index: int, isolation: str, detail: str,
                          max_chars: int = HARNESS_DETAIL_CHARS) -> ProgramVerdict:
    """The verdict of a program the harness could not judge (never a wrong answer). ``detail`` keeps its first
    ``max_chars`` characters, or, for a traceback, see :func:`grading_exception_verdict`."""
    return ProgramVerdict(question_id, sample_index, Outcome.HARNESS_ERROR,
                          (TestVerdict(0, Outcome.HARNESS_ERROR, detail=detail[:max_chars]),), isolation)


def grading_exception_verdict(question_id: str, sample_index: int, isolation: str, exc: BaseException,
                              traceback_text: str) -> ProgramVerdict:
    """A harness error for a grader that raised: the first line says what was raised, the rest is the traceback
    (its last ``TRACEBACK_CHARS`` characters)."""
    head = f"grading raised {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
    tail = traceback_text[-TRACEBACK_CHARS:]
    return harness_error_verdict(question_id, sample_index, isolation, f"{head}\n{tail}",
                                 max_chars=len(head) + 1 + TRACEBACK_CHARS)


def grade_job(problem: Any, code: str, sample_index: int, executor: Executor, grader: ProgramGrader,
              max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> ProgramVerdict:
    """``grader``'s verdict, graded again while the harness (not the program) fails."""
    verdict = grader(problem, code, sample_index, executor)
    for _ in range(max_attempts - 1):
        if verdict.outcome is not Outcome.HARNESS_ERROR:
            break
        log.warning("harness error grading %s/%d, retrying: %s", problem.question_id, sample_index,
                    verdict.tests[-1].detail if verdict.tests else "")
        verdict = grader(problem, code, sample_index, executor)
    return verdict


def grade_serial(jobs: list[GradeJob], exec_cfg: Any, grader: ProgramGrader,
                 executor: Optional[Executor] = None) -> list[ProgramVerdict]:
    """Grade ``jobs`` one after another in this process (no Ray). Same verdicts as the execution pool."""
    own = executor is None
    executor = executor or make_executor(exec_cfg)
    try:
        verdicts = [grade_job(j.problem, j.code, j.sample_index, executor, grader) for j in jobs]
        for i, verdict in enumerate(verdicts):
            if needs_serial_rerun(verdict, exec_cfg):
                verdicts[i] = grade_job(jobs[i].problem, jobs[i].code, jobs[i].sample_index, executor, grader)
        return verdicts
    finally:
        if own:
            close_executor(executor)


def grade_threaded(jobs: list[GradeJob], executors: list[Executor], grader: ProgramGrader,
                   exec_cfg: Any = None) -> list[ProgramVerdict]:
    """Grade ``jobs`` on a thread pool in this process (no Ray), one executor per thread; verdicts in job order.
    Harness errors are retried and time-limit verdicts that load could have decided (:func:`needs_serial_rerun`,
    against ``exec_cfg``'s limits) re-run alone afterwards, as in the pool; with ``exec_cfg`` None nothing is
    re-run."""
    if not executors:
        raise ValueError("at least one executor is needed")
    idle: "queue.Queue[Executor]" = queue.Queue()
    for ex in executors:
        idle.put(ex)

    def run(job: GradeJob) -> ProgramVerdict:
        executor = idle.get()
        try:
            return grade_job(job.problem, job.code, job.sample_index, executor, grader)
        finally:
            idle.put(executor)

    if len(executors) == 1:
        verdicts = [run(j) for j in jobs]
    else:
        with ThreadPoolExecutor(max_workers=len(executors), thread_name_prefix="grade") as tp:
            verdicts = list(tp.map(run, jobs))
    for i, verdict in enumerate(verdicts):  # alone now: nothing else competes for the CPU
        if exec_cfg is not None and needs_serial_rerun(verdict, exec_cfg):
            verdicts[i] = run(jobs[i])
    return verdicts


def close_executor(executor: Any) -> None:
    close = getattr(executor, "close", None)
    if close is not None:
        close()
