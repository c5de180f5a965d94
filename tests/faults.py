"""Fault injection for the tests: failures the library has no parameter for, injected from outside, and probes
that watch what the execution service does (graders wrapping a real one, at the bottom).

:func:`crash_once_after_checkpoints` is a Ray Train loop that runs the real one
(``codegen_ray.train.worker.train_loop_per_worker``) and raises once, on every worker, right after the given number
of checkpoints were reported: the way a node loss in the middle of training looks to Ray Train. A test puts it in
place of the real loop with ``monkeypatch.setattr("codegen_ray.train.trainer.train_loop_per_worker", ...)``. The
marker file (written by rank 0 before raising) makes the failure happen once: the restarted workers find it and run
to the end.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable


def crash_once_after_checkpoints(after: int, marker: Path) -> Callable[[dict[str, Any]], None]:
    import ray.cloudpickle

    # Ray workers cannot import this test helper by name: send its code along with the loop.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    return functools.partial(_crashing_loop, after=after, marker=str(marker))


def _crashing_loop(config: dict[str, Any], after: int, marker: str) -> None:
    from codegen_ray.train import worker

    session = worker.RaySession()
    report = session.report
    reported = 0

    def report_then_maybe_crash(metrics: dict[str, Any], checkpoint_dir: Any, name: str) -> None:
        nonlocal reported
        report(metrics, checkpoint_dir, name)
        reported += 1
        if reported != after or Path(marker).exists():
            return
        if session.rank == 0:
            Path(marker).parent.mkdir(parents=True, exist_ok=True)
            Path(marker).write_text("failed once\n")
        raise RuntimeError(f"injected failure after checkpoint {reported} (test)")

    session.report = report_then_maybe_crash  # type: ignore[method-assign]
    worker.run_worker(config["spec"], session)


# ------------------------------------------------------------------------------------------- execution service probes
# Graders that wrap a real grader (they are pickled by value into the pool's actors) and record, in a directory shared
# by every actor of this machine, what the pool made them do; and a way to grade from several Ray tasks at once, as
# the sweep's evaluation trials do.


def _by_value() -> None:
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _locked_state(state_dir: str, change: Callable[[dict[str, Any]], Any]) -> Any:
    """Apply ``change`` to the JSON state in ``state_dir`` under an exclusive lock; returns what it returns."""
    import fcntl
    import json

    path = Path(state_dir) / "state.json"
    with open(Path(state_dir) / "state.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads(path.read_text()) if path.exists() else {
            "running": {}, "max_running": 0, "alone": False, "attempts": {}, "violations": [], "first": {}}
        result = change(state)
        path.write_text(json.dumps(state))
        return result


def probe_state(state_dir: Path) -> dict[str, Any]:
    return _locked_state(str(state_dir), lambda state: dict(state))


class PoolProbe:
    """Counts the programs being graded at once over all live actors (``max_running``; ``running`` maps an actor's
    pid to its programs running now, and an actor that died is forgotten) and, for a job graded a second time (the
    pool's serial re-run, or a retry after its actor died), records a violation if any other program runs while it
    does."""

    def __init__(self, inner: Any, state_dir: Path) -> None:
        _by_value()
        self.inner, self.state_dir = inner, str(state_dir)

    def __call__(self, problem: Any, code: str, sample_index: int, executor: Any) -> Any:
        import os

        key, me = f"{problem.question_id}/{sample_index}", str(os.getpid())

        def enter(state: dict[str, Any]) -> bool:
            state["running"] = {pid: n for pid, n in state["running"].items() if n and _alive(int(pid))}
            others = sum(state["running"].values())
            attempt = state["attempts"].get(key, 0) + 1
            state["attempts"][key] = attempt
            if state["alone"]:
                state["violations"].append(f"{key} (attempt {attempt}) started during a re-run")
            if attempt > 1 and others:
                state["violations"].append(f"re-run of {key} started with {others} program(s) running")
            state["running"][me] = state["running"].get(me, 0) + 1
            state["max_running"] = max(state["max_running"], others + 1)
            state["alone"] = state["alone"] or attempt > 1
            return attempt > 1

        def leave(state: dict[str, Any]) -> None:
            state["running"][me] -= 1
            if rerun:
                state["alone"] = False

        rerun = _locked_state(self.state_dir, enter)
        try:
            return self.inner(problem, code, sample_index, executor)
        finally:
            _locked_state(self.state_dir, leave)


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


class RaisingGrader:
    """A grader with a bug: raises ``ValueError`` for programs containing ``marker``, judges the others with
    ``inner``."""

    def __init__(self, inner: Any, marker: str) -> None:
        _by_value()
        self.inner, self.marker = inner, marker

    def __call__(self, problem: Any, code: str, sample_index: int, executor: Any) -> Any:
        if self.marker in code:
            raise ValueError(f"injected grading bug on {problem.question_id}/{sample_index}")
        return self.inner(problem, code, sample_index, executor)


# clock_nanosleep (time.sleep) by machine: a process blocked in it has started its program (it is not the test
# process still waiting for its test's descriptors).
NANOSLEEP_SYSCALL = {"x86_64": 230, "aarch64": 115}


def run_uid_processes(uids: "int | set[int]") -> list[int]:
    """Pids of the live processes (zombies included) whose real uid is ``uids`` (one uid or a set): what a sandbox
    left running under its run uid."""
    import os

    wanted = {uids} if isinstance(uids, int) else set(uids)
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as fh:
                    if next(int(ln.split()[1]) for ln in fh if ln.startswith("Uid:")) in wanted:
                        found.append(int(entry))
            except (OSError, StopIteration, ValueError):
                continue
    return found


def _sleeping_in(pid: int, syscall: int) -> bool:
    try:
        with open(f"/proc/{pid}/syscall") as fh:
            return fh.read().split(" ", 1)[0] == str(syscall)
    except OSError:
        return False


class StarveFirstAttempt:
    """The first time a job is graded, its program gets no CPU at all once it has started (every process of the
    executor's run uid blocked in ``time.sleep`` is SIGSTOPped, as a machine load that starves it would): the
    wall-clock backstop ends it. Later attempts (the pool's re-run) run undisturbed. Each first attempt's verdict
    is recorded (``probe_state(...)["first"]``). Needs root (the sandbox's throw-away run uid)."""

    def __init__(self, inner: Any, state_dir: Path) -> None:
        _by_value()
        self.inner, self.state_dir = inner, str(state_dir)

    def __call__(self, problem: Any, code: str, sample_index: int, executor: Any) -> Any:
        import os
        import platform
        import signal
        import threading

        key = f"{problem.question_id}/{sample_index}"

        def count(state: dict[str, Any]) -> int:
            state["attempts"][key] = state["attempts"].get(key, 0) + 1
            return state["attempts"][key]

        if _locked_state(self.state_dir, count) > 1:
            return self.inner(problem, code, sample_index, executor)
        uid, syscall = executor.run_uid, NANOSLEEP_SYSCALL[platform.machine()]
        stop = threading.Event()

        def freeze() -> None:
            while not stop.wait(0.01):
                for pid in run_uid_processes(uid):
                    if _sleeping_in(pid, syscall):
                        try:
                            os.kill(pid, signal.SIGSTOP)
                        except OSError:
                            pass

        watcher = threading.Thread(target=freeze, daemon=True)
        watcher.start()
        try:
            verdict = self.inner(problem, code, sample_index, executor)
        finally:
            stop.set()
            watcher.join()
        test = verdict.tests[-1] if verdict.tests else None

        def record(state: dict[str, Any]) -> None:
            state["first"][key] = {"outcome": verdict.outcome.value, "detail": test.detail if test else "",
                                   "wall_time_s": test.wall_time_s if test else 0.0,
                                   "cpu_time_s": test.cpu_time_s if test else 0.0}

        _locked_state(self.state_dir, record)
        return verdict


def grade_in_trials(pool: Any, job_lists: list[list[Any]]) -> list[list[Any]]:
    """``pool.grade(jobs)`` for each list at once, each from its own Ray task holding a pickled copy of the pool
    (as the sweep's evaluation trials do); the verdict lists in order."""
    import ray

    _by_value()
    trial = ray.remote(num_cpus=0.01)(_grade_in_a_trial)
    return ray.get([trial.remote(pool, jobs) for jobs in job_lists])


def _grade_in_a_trial(pool: Any, jobs: list[Any]) -> list[Any]:
    return pool.grade(jobs)
