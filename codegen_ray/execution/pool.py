"""Grading many programs: a Ray actor pool (:class:`ExecutionPool`), a serial twin (:func:`grade_serial`) and a
thread-pool twin without Ray (:func:`grade_threaded`).

The pool knows how to run programs, not how to judge them: the caller passes a :class:`ProgramGrader` (the
benchmark's rules, e.g. ``lcb.grading.LcbGrader``), which the actors call with their own executor. Both give
identical verdicts for the same jobs:

* each job (one program on one problem) is judged by the grader with an executor from :func:`make_executor`, under
  the limits of the ``ExecutionConfig``;
* a verdict that is a harness error is graded again (up to ``max_attempts``); a dead actor is replaced and its job
  retried; if failures persist the job's outcome is ``Outcome.HARNESS_ERROR`` (never a wrong answer);
* any TIME_LIMIT verdict whose CPU time landed at or above ``near_limit_fraction`` of the limit is re-run alone
  (no other program running in the pool) and the re-run's verdict is final;
* the pool never runs more programs at once than the CPUs it was given (``num_actors * cpus_per_actor``, at least
  one), so programs do not compete for cores and CPU-time verdicts do not depend on load from the pool itself;
* an actor call grades a batch of programs (:func:`batch_size`): Ray is out of the per-program (and per-test) path.

Ray is imported only when a pool is created.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections import deque
from dataclasses import dataclass
from typing import Any, Optional, Protocol

from ..errors import UserError
from ..types import Outcome, ProgramVerdict, TestVerdict
from .base import Executor, Isolation
from .factory import IsolationFallbackWarning, make_executor

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 3
MAX_BATCH = 16  # programs per actor call, at most
BATCHES_PER_ACTOR = 4  # while work lasts, each actor gets about this many more calls (load balance)


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
    """A time-limit verdict whose CPU time was close enough to the limit that load could have decided it."""
    if verdict.outcome is not Outcome.TIME_LIMIT:
        return False
    threshold = float(exec_cfg.near_limit_fraction) * float(exec_cfg.timeout_s)
    return any(t.outcome is Outcome.TIME_LIMIT and t.cpu_time_s >= threshold for t in verdict.tests)


def pool_concurrency(exec_cfg: Any) -> int:
    """Programs running at once: never more than the whole CPUs given to the pool, and at least one."""
    cores = int(math.floor(int(exec_cfg.num_actors) * float(exec_cfg.cpus_per_actor) + 1e-9))
    return max(1, min(int(exec_cfg.num_actors), cores))


def batch_size(pending: int, parallel: int) -> int:
    """Programs per actor call: one Ray round trip for several programs while there is plenty of work, down to one
    program per call at the end so no actor idles while another still holds a long batch."""
    return max(1, min(MAX_BATCH, pending // (BATCHES_PER_ACTOR * parallel)))


def harness_error_verdict(job: GradeJob, isolation: str, detail: str) -> ProgramVerdict:
    return ProgramVerdict(job.problem.question_id, job.sample_index, Outcome.HARNESS_ERROR,
                          (TestVerdict(0, Outcome.HARNESS_ERROR, detail=detail[:500]),), isolation)


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
    """Grade ``jobs`` one after another in this process (no Ray). Same verdicts as :class:`ExecutionPool`."""
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
            _close(executor)


def grade_threaded(jobs: list[GradeJob], executors: list[Executor], grader: ProgramGrader,
                   exec_cfg: Any = None) -> list[ProgramVerdict]:
    """Grade ``jobs`` on a thread pool in this process (no Ray), one executor per thread; verdicts in job order.
    Harness errors are retried and near-limit time-limit verdicts (against ``exec_cfg.timeout_s``) re-run alone
    afterwards, as in the pool; with ``exec_cfg`` None nothing is re-run."""
    import queue
    from concurrent.futures import ThreadPoolExecutor

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


def _close(executor: Any) -> None:
    close = getattr(executor, "close", None)
    if close is not None:
        close()


class _ExecutionActor:
    """Owns one executor (one sandbox). Runs one program at a time."""

    def __init__(self, exec_cfg: Any, grader: ProgramGrader):
        self._error = ""
        self._executor: Optional[Executor] = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", IsolationFallbackWarning)  # the driver re-raises it, once
                self._executor = make_executor(exec_cfg)
        except UserError as exc:
            self._error = str(exc)
        self._grader = grader

    def ready(self) -> tuple[str, str, int]:
        iso = self._executor.isolation.value if self._executor is not None else ""
        return iso, self._error, os.getpid()

    def sandbox_pid(self) -> Optional[int]:
        return getattr(self._executor, "sandbox_pid", None)

    def run_uid(self) -> Optional[int]:
        """The uid this actor's programs run under (tests look for leftover processes with it)."""
        return getattr(self._executor, "run_uid", None)

    def grade(self, problem: Any, code: str, sample_index: int) -> ProgramVerdict:
        if self._executor is None:
            raise UserError(self._error)
        return grade_job(problem, code, sample_index, self._executor, self._grader)

    def grade_batch(self, items: list[tuple[int, str, int]], *problems: Any) -> list[ProgramVerdict]:
        """Several programs in one call: ``(index into problems, code, sample_index)`` each."""
        return [self.grade(problems[p], code, sample_index) for p, code, sample_index in items]

    def shutdown(self) -> None:
        if self._executor is not None:
            _close(self._executor)


class ExecutionPool:
    """``exec_cfg.num_actors`` Ray actors (``num_cpus=exec_cfg.cpus_per_actor`` each), each with its own sandbox,
    judging programs with ``grader``."""

    def __init__(self, exec_cfg: Any, grader: ProgramGrader, max_attempts: int = DEFAULT_MAX_ATTEMPTS):
        import ray

        self.exec_cfg = exec_cfg
        self.grader = grader
        self.max_attempts = max_attempts
        self._remote_cls = ray.remote(num_cpus=float(exec_cfg.cpus_per_actor), max_restarts=0,
                                      max_task_retries=0)(_ExecutionActor)
        self.max_in_flight = pool_concurrency(exec_cfg)
        self.actors_replaced = 0
        self._actors: list[Any] = []
        for _ in range(int(exec_cfg.num_actors)):
            self._actors.append(self._start_actor())
        self.isolation = Isolation(self._isolation_of(self._actors[0]))

    def _start_actor(self) -> Any:
        import ray

        actor = self._remote_cls.remote(self.exec_cfg, self.grader)
        iso, error, _pid = ray.get(actor.ready.remote())
        if error:
            ray.kill(actor)
            raise UserError(error)
        if iso == Isolation.RLIMITS.value and str(self.exec_cfg.isolation) != "rlimits":
            message = ("SANDBOX UNAVAILABLE in an execution actor: untrusted programs run with resource limits ONLY "
                       "(isolation=rlimits). Install bubblewrap on every node, or set "
                       "execution.min_isolation=bubblewrap to refuse.")
            warnings.warn(message, IsolationFallbackWarning, stacklevel=3)
            log.warning(message)
        return actor

    def _isolation_of(self, actor: Any) -> str:
        import ray

        return ray.get(actor.ready.remote())[0]

    def _replace(self, actor: Any) -> Any:
        import ray

        try:
            ray.kill(actor, no_restart=True)
        except Exception:  # noqa: BLE001 - already dead
            pass
        self._actors = [a for a in self._actors if a is not actor]
        new = self._start_actor()
        self._actors.append(new)
        self.actors_replaced += 1
        return new

    def grade(self, jobs: list[GradeJob]) -> list[ProgramVerdict]:
        """Verdicts in the order of ``jobs``."""
        import ray
        from ray.exceptions import RayError

        results: list[Optional[ProgramVerdict]] = [None] * len(jobs)
        attempts = [0] * len(jobs)
        problem_refs: dict[int, Any] = {}

        def submit(actor: Any, batch: list[int]) -> Any:
            refs: dict[int, int] = {}  # id(problem) -> its position among this call's arguments
            args = []
            for i in batch:
                key = id(jobs[i].problem)
                if key not in problem_refs:
                    problem_refs[key] = ray.put(jobs[i].problem)
                if key not in refs:
                    refs[key] = len(args)
                    args.append(problem_refs[key])
            items = [(refs[id(jobs[i].problem)], jobs[i].code, jobs[i].sample_index) for i in batch]
            return actor.grade_batch.remote(items, *args)  # top-level refs: Ray resolves them

        def run(indices: list[int], parallel: int) -> None:
            pending = deque(indices)
            idle = list(self._actors)
            in_flight: dict[Any, tuple[list[int], Any]] = {}
            while pending or in_flight:
                while pending and idle and len(in_flight) < parallel:
                    size = batch_size(len(pending), parallel)
                    batch = [pending.popleft() for _ in range(size)]
                    actor = idle.pop()
                    in_flight[submit(actor, batch)] = (batch, actor)
                done, _ = ray.wait(list(in_flight), num_returns=1)
                for ref in done:
                    batch, actor = in_flight.pop(ref)
                    try:
                        for i, verdict in zip(batch, ray.get(ref)):
                            results[i] = verdict
                        idle.append(actor)
                    except UserError:
                        raise
                    except RayError as exc:
                        log.warning("execution actor failed on jobs %s: %s", batch,
                                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                        idle.append(self._replace(actor))
                        for i in reversed(batch):
                            attempts[i] += 1
                            if attempts[i] < self.max_attempts:
                                pending.appendleft(i)
                            else:
                                results[i] = harness_error_verdict(jobs[i], self.isolation.value,
                                                                   f"execution actor failed {attempts[i]} times: {exc}")

        run(list(range(len(jobs))), self.max_in_flight)
        near = [i for i, v in enumerate(results) if v is not None and needs_serial_rerun(v, self.exec_cfg)]
        if near:
            log.info("re-running %d near-limit time-limit verdicts alone", len(near))
            run(near, 1)
        return [v for v in results if v is not None] if all(v is not None for v in results) else _missing(results)

    def sandbox_pids(self) -> list[Optional[int]]:
        import ray

        return ray.get([a.sandbox_pid.remote() for a in self._actors])

    def run_uids(self) -> list[Optional[int]]:
        import ray

        return ray.get([a.run_uid.remote() for a in self._actors])

    def worker_pids(self) -> list[int]:
        import ray

        return [ray.get(a.ready.remote())[2] for a in self._actors]

    def shutdown(self) -> None:
        import ray

        for actor in self._actors:
            try:
                ray.get(actor.shutdown.remote(), timeout=30)
            except Exception:  # noqa: BLE001
                pass
            try:
                ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001
                pass
        self._actors = []

    def __enter__(self) -> "ExecutionPool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()


def _missing(results: list[Optional[ProgramVerdict]]) -> list[ProgramVerdict]:
    raise RuntimeError(f"internal error: {sum(v is None for v in results)} jobs without a verdict")
