"""The execution service behind :class:`~codegen_ray.execution.pool.ExecutionPool`: one manager actor per pool (one
per sweep) that owns the sandbox actors and schedules every caller's programs on them.

Layout::

    ExecutionPool (picklable handle, shared by every trial)  ──►  ExecutionManager (async actor, num_cpus=0)
                                                                     │  SlotGate: one in-flight limit for all
                                                                     │  callers, serial re-runs alone;
                                                                     │  replacement of dead actors
                                                                     ▼
                                             SandboxActor × execution.num_actors (num_cpus=execution.cpus_per_actor,
                                             resources=execution.resources),
                                             each owning one executor (one sandbox), one program at a time

* **One limit for all callers.** At most ``pool_concurrency(exec_cfg)`` actor calls run at once, whoever sent them
  (trials share the manager, so two trials never run more programs than the pool's CPUs).
* **Serial re-runs really run alone.** A re-run (``jobs.needs_serial_rerun``) waits until nothing else runs, and
  while it waits or runs no other batch starts (re-runs are preferred over new batches, so they are not starved).
* **Replacements everyone sees.** Only the manager holds the actors; a dead actor (``RayActorError``:
  ``ActorDiedError``, ``ActorUnavailableError``; ``WorkerCrashedError``) is killed and replaced there, its jobs
  retried (``max_attempts`` in all, then a harness-error verdict), and ``shutdown`` kills whatever actors exist then,
  replacements and actors still starting included.
* **Bounded waits.** An actor that is not ready within ``start_timeout_s`` (the config's
  ``ray.actor_start_timeout_s``; the cluster lacks its CPUs, or its sandbox does not start) ends the wait with a
  :class:`~codegen_ray.errors.HarnessError` naming the resources.
* **A grader that raises is not a dead actor.** The sandbox actor turns an exception from the grader into a
  harness-error verdict carrying the traceback (``jobs.grading_exception_verdict``); any other error of an actor
  call that is not an actor death does the same for its batch. Neither replaces the (healthy) actor.

Ray is imported only when the service is used.
"""

from __future__ import annotations

import asyncio
import logging
import os
import traceback
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Optional

from ..errors import HarnessError, UserError
from ..types import ProgramVerdict
from .base import Executor
from .factory import IsolationFallbackWarning, make_executor
from .jobs import (ProgramGrader, batch_size, close_executor, grade_job,
                   grading_exception_verdict, harness_error_verdict, needs_serial_rerun, pool_concurrency)

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_S = 30.0  # per actor, for its executor to close before the actor is killed


@dataclass(frozen=True)
class ActorInfo:
    """What a sandbox actor reports once its executor is built: ``error`` is set when it could not be."""

    isolation: str
    error: str
    pid: int


@dataclass(frozen=True)
class WorkItem:
    """One program of an actor call: ``problem_index`` into the call's problems."""

    problem_index: int
    code: str
    sample_index: int


@dataclass(frozen=True)
class ServiceStats:
    actors: int
    replaced: int  # actors that died and were replaced
    in_flight: int  # actor calls running now
    max_in_flight: int  # the limit for all callers together
    batches: int  # actor calls finished


class SandboxActor:
    """Owns one executor (one sandbox). Runs one program at a time. Ray actor class (see :func:`actor_classes`)."""

    def __init__(self, exec_cfg: Any, grader: ProgramGrader):
        self._error = ""
        self._executor: Optional[Executor] = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", IsolationFallbackWarning)  # the driver warns, once
                self._executor = make_executor(exec_cfg, cpus=exec_cfg.cpus_per_actor)  # what Ray reserved for it
        except UserError as exc:
            self._error = str(exc)
        self._grader = grader

    def ready(self) -> ActorInfo:
        iso = self._executor.isolation.value if self._executor is not None else ""
        return ActorInfo(iso, self._error, os.getpid())

    def sandbox_pid(self) -> Optional[int]:
        return getattr(self._executor, "sandbox_pid", None)

    def run_uid(self) -> Optional[int]:
        """The uid this actor's programs run under (tests look for leftover processes with it)."""
        return getattr(self._executor, "run_uid", None)

    def grade(self, problem: Any, code: str, sample_index: int) -> ProgramVerdict:
        if self._executor is None:
            raise UserError(self._error)
        try:
            return grade_job(problem, code, sample_index, self._executor, self._grader)
        except Exception as exc:  # noqa: BLE001 - the grader's own failure: a harness error, the sandbox stays
            text = traceback.format_exc()
            log.error("grading %s/%d raised (a harness error):\n%s", problem.question_id, sample_index, text)
            return grading_exception_verdict(problem.question_id, sample_index, self._executor.isolation.value,
                                             exc, text)

    def grade_batch(self, items: list[WorkItem], *problems: Any) -> list[ProgramVerdict]:
        """Several programs in one call."""
        return [self.grade(problems[it.problem_index], it.code, it.sample_index) for it in items]

    def shutdown(self) -> None:
        if self._executor is not None:
            close_executor(self._executor)


class SlotGate:
    """Who may send an actor call now (asyncio, one event loop): at most ``limit`` calls at once, each on an idle
    actor; an exclusive holder runs with nothing else running, and waiting exclusive holders go first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.idle: deque[Any] = deque()
        self.running = 0
        self.exclusive = False
        self.exclusive_waiting = 0
        self.broken: Optional[str] = None
        self._cond = asyncio.Condition()

    def _can_start(self, exclusive: bool) -> bool:
        if self.exclusive or not self.idle:
            return False
        if exclusive:
            return self.running == 0
        return self.exclusive_waiting == 0 and self.running < self.limit

    async def acquire(self, exclusive: bool = False) -> Any:
        async with self._cond:
            self.exclusive_waiting += int(exclusive)
            try:
                await self._cond.wait_for(lambda: self.broken is not None or self._can_start(exclusive))
            finally:
                self.exclusive_waiting -= int(exclusive)
                self._cond.notify_all()  # a withdrawn exclusive waiter may unblock shared ones
            if self.broken is not None:
                raise HarnessError(self.broken)
            self.running += 1
            self.exclusive = exclusive
            return self.idle.popleft()

    async def release(self, actor: Optional[Any], exclusive: bool = False) -> None:
        """Give the slot back; ``actor`` (None: it is gone) becomes idle."""
        async with self._cond:
            if actor is not None and self.broken is None:
                self.idle.append(actor)
            self.running -= 1
            if exclusive:
                self.exclusive = False
            self._cond.notify_all()

    async def add(self, actor: Any) -> None:
        async with self._cond:
            self.idle.append(actor)
            self._cond.notify_all()

    async def close(self, reason: str) -> None:
        async with self._cond:
            self.broken = reason
            self.idle.clear()
            self._cond.notify_all()


@dataclass
class _Lease:
    """A slot of the gate held by one worker, and the actor it runs on."""

    actor: Any
    exclusive: bool
    held: bool = True


@dataclass
class _Call:
    """One caller's ``grade`` request in the manager."""

    items: list[WorkItem]
    question_ids: list[str]
    problem_refs: list[Any]
    results: list[Optional[ProgramVerdict]]
    attempts: list[int] = field(default_factory=list)


class ExecutionManager:
    """Owns the sandbox actors and schedules every caller's programs on them (async Ray actor class)."""

    def __init__(self, exec_cfg: Any, grader_box: list[Any], max_attempts: int, start_timeout_s: float) -> None:
        self.exec_cfg = exec_cfg
        self._grader_ref = grader_box[0]  # an ObjectRef: the manager never unpickles the grader
        self.max_attempts = max_attempts
        self.start_timeout_s = float(start_timeout_s)
        self._actors: list[tuple[Any, ActorInfo]] = []
        self._starting: list[Any] = []
        self._gate = SlotGate(pool_concurrency(exec_cfg))
        self._replaced = 0
        self._batches = 0
        self._closed = False
        self.isolation = ""

    # ------------------------------------------------------------------------------------------------ actors
    async def start(self) -> list[ActorInfo]:
        """Start ``exec_cfg.num_actors`` sandbox actors; each must be ready within ``start_timeout_s`` seconds."""
        n = int(self.exec_cfg.num_actors)
        results = await asyncio.gather(*(self._start_actor(f"{n} execution actor(s)") for _ in range(n)),
                                       return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        started = [r for r in results if not isinstance(r, BaseException)]
        if errors:
            for handle, _info in started:
                _kill(handle)
            raise next((e for e in errors if isinstance(e, UserError)), errors[0])  # each names all n actors
        self._actors = list(started)
        self.isolation = started[0][1].isolation
        for handle, _info in started:
            await self._gate.add(handle)
        return [info for _h, info in started]

    async def _start_actor(self, what: str) -> tuple[Any, ActorInfo]:
        if self._closed:
            raise HarnessError("the execution service was shut down")
        from ray.exceptions import RayActorError, WorkerCrashedError

        cpus = float(self.exec_cfg.cpus_per_actor)
        handle = actor_classes()[0].options(num_cpus=cpus, resources=dict(self.exec_cfg.resources), max_restarts=0,
                                            max_task_retries=0).remote(self.exec_cfg, self._grader_ref)
        self._starting.append(handle)
        timeout = self.start_timeout_s
        try:
            info: ActorInfo = await asyncio.wait_for(_awaitable(handle.ready.remote()), timeout)
        except asyncio.TimeoutError:
            _kill(handle)
            raise HarnessError(self._not_started_message(what, timeout)) from None
        except (RayActorError, WorkerCrashedError) as exc:
            _kill(handle)
            raise HarnessError(f"an execution actor died while starting ({what}): {_first_line(exc)}") from None
        finally:
            self._starting = [h for h in self._starting if h is not handle]
        if self._closed:
            _kill(handle)
            raise HarnessError("the execution service was shut down")
        if info.error:
            _kill(handle)
            raise UserError(info.error)
        return handle, info

    def _not_started_message(self, what: str, timeout: float) -> str:
        import ray

        total = ray.cluster_resources().get("CPU", 0.0)
        available = ray.available_resources().get("CPU", 0.0)
        cpus = float(self.exec_cfg.cpus_per_actor)
        custom = "".join(f" + {amount:g} {name}" for name, amount in sorted(self.exec_cfg.resources.items()))
        return (f"execution: could not start {what} of {cpus:g} CPU{custom} each within {timeout:g} s "
                f"(execution.num_actors={self.exec_cfg.num_actors} x execution.cpus_per_actor={cpus:g} CPU, "
                f"ray.actor_start_timeout_s={timeout:g}); the Ray cluster has {total:g} CPU, {available:g} "
                "available now. Lower execution.num_actors or execution.cpus_per_actor, add CPUs, or raise "
                "ray.actor_start_timeout_s if the sandbox is slow to start")

    async def _replace(self, dead: Any) -> Any:
        """Kill ``dead``, start its replacement (every caller uses it from now on) and return it."""
        _kill(dead)
        self._actors = [(h, i) for h, i in self._actors if h is not dead]
        try:
            handle, info = await self._start_actor("a replacement execution actor")
        except BaseException as exc:
            if not self._actors and not self._closed:
                await self._gate.close(f"no execution actor is left: {_first_line(exc)}")
            raise
        self._actors.append((handle, info))
        self._replaced += 1
        log.warning("execution actor replaced (%d so far)", self._replaced)
        return handle

    # ------------------------------------------------------------------------------------------------- grading
    async def grade(self, items: list[WorkItem], question_ids: list[str],
                    problem_refs: list[Any]) -> list[ProgramVerdict]:
        """Verdicts in the order of ``items``; ``problem_refs`` are ObjectRefs (the actors resolve them)."""
        call = _Call(items, question_ids, problem_refs, [None] * len(items), [0] * len(items))
        await self._run(call, list(range(len(items))), alone=False)
        rerun = [i for i, v in enumerate(call.results) if v is not None and needs_serial_rerun(v, self.exec_cfg)]
        if rerun:
            log.info("re-running %d time-limit verdict(s) alone", len(rerun))
            await self._run(call, rerun, alone=True)
        missing = sum(v is None for v in call.results)
        if missing:
            raise RuntimeError(f"internal error: {missing} jobs without a verdict")
        return [v for v in call.results if v is not None]

    async def _run(self, call: _Call, indices: list[int], alone: bool) -> None:
        pending = deque(indices)
        if alone:  # one slot, held with nothing else running until every re-run of this call is done
            await self._worker(call, pending, 1, exclusive=True)
            return
        parallel = self._gate.limit
        outcomes = await asyncio.gather(*(self._worker(call, pending, parallel, exclusive=False)
                                          for _ in range(min(parallel, len(indices)))), return_exceptions=True)
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        if errors:
            raise errors[0]

    async def _worker(self, call: _Call, pending: deque[int], parallel: int, exclusive: bool) -> None:
        """Take a slot, run a batch from ``pending``, repeat; a shared slot is given back after each batch (so
        callers interleave), an exclusive one only when ``pending`` is empty. On an error ``pending`` is emptied:
        the other workers of this call stop after their batch."""
        lease: Optional[_Lease] = None
        try:
            while pending:
                if lease is None:
                    lease = _Lease(await self._gate.acquire(exclusive), exclusive)
                    if not pending:
                        break
                batch = [pending.popleft() for _ in range(min(batch_size(len(pending), parallel), len(pending)))]
                lease.actor = await self._run_batch(call, lease, batch, pending)
                if not exclusive:
                    await self._give_back(lease)
                    lease = None
        except BaseException:
            pending.clear()
            raise
        finally:
            if lease is not None:
                await self._give_back(lease)

    async def _give_back(self, lease: "_Lease") -> None:
        if lease.held:
            lease.held = False
            alive = any(h is lease.actor for h, _i in self._actors)  # a dead actor was dropped by _replace
            await self._gate.release(lease.actor if alive else None, lease.exclusive)

    async def _give_back_when_done(self, ref: Any, lease: "_Lease") -> None:
        """The caller stopped waiting (cancelled), but the actor is busy until ``ref`` ends: free the slot then."""
        try:
            await _awaitable(ref)
        except BaseException:  # noqa: BLE001 - whatever it ended with, the actor is free (or dead) now
            pass
        lease.held = True
        await self._give_back(lease)

    async def _run_batch(self, call: _Call, lease: "_Lease", batch: list[int], pending: deque[int]) -> Any:
        """Run ``batch`` on the lease's actor; returns the actor to keep using (its replacement if it died)."""
        from ray.exceptions import RayActorError, RayTaskError, WorkerCrashedError

        positions: dict[int, int] = {}
        args: list[Any] = []
        for i in batch:
            p = call.items[i].problem_index
            if p not in positions:
                positions[p] = len(args)
                args.append(call.problem_refs[p])
        work = [WorkItem(positions[call.items[i].problem_index], call.items[i].code, call.items[i].sample_index)
                for i in batch]
        actor = lease.actor
        ref = actor.grade_batch.remote(work, *args)  # top-level refs: Ray resolves them in the actor
        try:
            verdicts = await _awaitable(ref)
        except asyncio.CancelledError:
            lease.held = False
            asyncio.get_running_loop().create_task(self._give_back_when_done(ref, lease))
            raise
        except (RayActorError, WorkerCrashedError) as exc:  # the actor is dead: replace it, retry its jobs
            log.warning("execution actor died on jobs %s: %s", batch, _first_line(exc))
            for i in reversed(batch):
                call.attempts[i] += 1
                if call.attempts[i] < self.max_attempts:
                    pending.appendleft(i)
                else:
                    call.results[i] = harness_error_verdict(
                        call.question_ids[call.items[i].problem_index], call.items[i].sample_index, self.isolation,
                        f"execution actor died {call.attempts[i]} times: {_first_line(exc)}")
            return await self._replace(actor)
        except Exception as exc:  # noqa: BLE001 - not an actor death: a harness error; the actor stays
            cause = exc.cause if isinstance(exc, RayTaskError) and exc.cause is not None else exc
            if isinstance(cause, UserError):
                raise cause from None
            log.error("execution actor call failed (a harness error, the actor is kept): %s", exc)
            for i in batch:
                call.results[i] = grading_exception_verdict(
                    call.question_ids[call.items[i].problem_index], call.items[i].sample_index, self.isolation,
                    cause, str(exc))
            return actor
        self._batches += 1
        for i, verdict in zip(batch, verdicts):
            call.results[i] = verdict
        return actor

    # ------------------------------------------------------------------------------------------ introspection
    def actor_infos(self) -> list[ActorInfo]:
        return [info for _h, info in self._actors]

    def actor_handles(self) -> list[Any]:
        return [h for h, _i in self._actors]

    async def call_each(self, method: str) -> list[Any]:
        """``method()`` of every actor (``sandbox_pid``, ``run_uid``), in actor order."""
        return list(await asyncio.gather(*(_awaitable(getattr(h, method).remote()) for h, _i in self._actors)))

    def stats(self) -> ServiceStats:
        return ServiceStats(actors=len(self._actors), replaced=self._replaced, in_flight=self._gate.running,
                            max_in_flight=self._gate.limit, batches=self._batches)

    async def shutdown(self) -> None:
        """Close every actor's executor and kill the actor: those in use, replacements, and any still starting."""
        self._closed = True
        await self._gate.close("the execution service was shut down")
        handles = [h for h, _i in self._actors] + list(self._starting)
        self._actors, self._starting = [], []

        async def close(handle: Any) -> None:
            try:
                await asyncio.wait_for(_awaitable(handle.shutdown.remote()), SHUTDOWN_WAIT_S)
            except BaseException:  # noqa: BLE001 - dead, hung or still starting: killed below
                pass
            _kill(handle)

        await asyncio.gather(*(close(h) for h in handles))


async def _awaitable(ref: Any) -> Any:
    return await ref


def _kill(handle: Any) -> None:
    import ray

    try:
        ray.kill(handle, no_restart=True)
    except Exception:  # noqa: BLE001 - already gone
        pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_ACTOR_CLASSES: Optional[tuple[Any, Any]] = None


def actor_classes() -> tuple[Any, Any]:
    """The Ray actor classes (sandbox actor, manager), built on first use so importing this module does not
    import ray."""
    global _ACTOR_CLASSES
    if _ACTOR_CLASSES is None:
        import ray

        _ACTOR_CLASSES = (ray.remote(SandboxActor), ray.remote(ExecutionManager))
    return _ACTOR_CLASSES
