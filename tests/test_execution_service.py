"""One execution service per sweep, shared by every trial (``codegen_ray.execution.service`` behind
``ExecutionPool``), and time limits that load could have decided.

Each test grades designed programs whose verdicts are known, from several Ray tasks holding pickled copies of one
pool (as the sweep's evaluation trials do), with graders from ``tests/faults.py`` that wrap the real LiveCodeBench
grader and record what the pool made them do:

* one in-flight limit for all trials: with the default 2 actors x 0.5 CPU, two trials never run two programs, also
  after the actor they use is killed; its one replacement is what every trial and the driver see, and shutdown
  kills it (no leaked actor);
* a serial re-run runs alone: no program of another trial runs while it does;
* actors whose CPUs cannot be had end the wait with an error naming them;
* a grader that raises gives a harness error carrying its traceback; no actor is replaced, no sandbox restarted;
* a program starved of CPU until the wall-clock backstop stops it is re-run alone and accepted (under CPU hogs);
  an infinite loop and a sleep stay time limits.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import threading
import time

import pytest

from codegen_ray.config import ExecutionConfig
from codegen_ray.errors import HarnessError
from codegen_ray.execution.factory import limits_from_config
from codegen_ray.execution.pool import GradeJob, needs_serial_rerun
from codegen_ray.lcb.grading import LcbGrader
from codegen_ray.types import Outcome, ProgramVerdict
from codegen_ray.types import TestVerdict as Verdict
from execution_support import problem

pytestmark = [pytest.mark.ray]


SUM = problem("sum", [("1 2\n", "3\n"), ("10 20\n", "30\n")])
ADD = "a, b = map(int, input().split())\nprint(a + b)"
SLOW_ADD = "import time\ntime.sleep(0.3)\n" + ADD  # accepted; takes a while, so programs overlap when allowed
LOOP = "while True: pass"


def _hog(stop):
    while not stop.is_set():
        pass


class CpuHogs:
    """One busy process per core while the block runs."""

    def __enter__(self) -> "CpuHogs":
        self.stop = multiprocessing.Event()
        self.procs = [multiprocessing.Process(target=_hog, args=(self.stop,), daemon=True)
                      for _ in range(os.cpu_count() or 1)]
        for p in self.procs:
            p.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for p in self.procs:
            p.join()


def test_wall_clock_time_limits_are_rerun_like_near_limit_cpu_ones():
    cfg = ExecutionConfig(timeout_s=2.0, wall_timeout_factor=3.0, near_limit_fraction=0.8)
    backstop = limits_from_config(cfg).wall_time_s  # 3 * 2 + 1 = 7 s

    def verdict(outcome, cpu, wall):
        return ProgramVerdict("q", 0, outcome, (Verdict(0, outcome, cpu_time_s=cpu, wall_time_s=wall),), "bubblewrap")

    assert backstop == 7.0
    assert needs_serial_rerun(verdict(Outcome.TIME_LIMIT, 0.05, backstop), cfg)  # starved (or slept) to the backstop
    assert needs_serial_rerun(verdict(Outcome.TIME_LIMIT, 2.0, 2.4), cfg)  # the CPU-time limit
    assert not needs_serial_rerun(verdict(Outcome.ACCEPTED, 0.05, backstop), cfg)
    assert not needs_serial_rerun(verdict(Outcome.WRONG_ANSWER, 1.9, 6.9), cfg)


def test_one_in_flight_limit_and_one_replacement_for_all_trials(ray_session, tmp_path):
    """The default 2 actors x 0.5 CPU is one CPU: one program at a time, however many trials send programs, also
    after the actor running them is killed. Its one replacement is what every trial and the driver use, and
    shutdown kills it."""
    import ray
    from faults import PoolProbe, grade_in_trials, probe_state

    from codegen_ray.execution.pool import ExecutionPool

    cfg = ExecutionConfig(timeout_s=2.0, num_actors=2, cpus_per_actor=0.5)
    pool = ExecutionPool(cfg, PoolProbe(LcbGrader.from_execution_config(cfg), tmp_path))
    killed: list[int] = []
    done = threading.Event()

    def kill_a_working_actor() -> None:  # once a trial's program runs in it
        while not killed and not done.is_set():
            busy = [int(pid) for pid, n in probe_state(tmp_path)["running"].items() if n]
            if busy:
                os.kill(busy[0], 9)
                killed.append(busy[0])
            time.sleep(0.05)

    try:
        assert pool.max_in_flight == 1
        before = pool.worker_pids()
        killer = threading.Thread(target=kill_a_working_actor, daemon=True)
        killer.start()
        slow = "import time\ntime.sleep(1.0)\n" + ADD
        trials = [[GradeJob(SUM, slow, 10 * t + i) for i in range(4)] for t in range(2)]
        results = grade_in_trials(pool, trials)
        done.set()
        killer.join()
        assert killed, "no program was seen running"
        assert [[v.outcome for v in vs] for vs in results] == [[Outcome.ACCEPTED] * 4] * 2, [  # the job was retried
            (v.sample_index, v.outcome.value, [t.detail for t in v.tests]) for vs in results for v in vs if v.outcome is not Outcome.ACCEPTED]
        assert [[v.sample_index for v in vs] for vs in results] == [[j.sample_index for j in t] for t in trials]
        assert probe_state(tmp_path)["max_running"] == 1
        assert killed[0] in before and pool.actors_replaced == 1  # one death, one replacement, seen by the driver
        after = pool.worker_pids()  # the driver talks to the live actors only
        assert len(after) == 2 and killed[0] not in after and len(set(after) - set(before)) == 1
        ((more,),) = grade_in_trials(pool, [[GradeJob(SUM, ADD, 99)]])  # a later trial uses them
        assert more.outcome is Outcome.ACCEPTED and pool.worker_pids() == after
        handles = pool.actor_handles()
    finally:
        pool.shutdown()
    for handle in handles:  # nothing leaked: the replacement is dead too
        with pytest.raises(ray.exceptions.RayActorError):
            ray.get(handle.ready.remote(), timeout=120)


def test_a_serial_rerun_runs_alone_while_other_trials_wait(ray_session, tmp_path):
    """Trial A's infinite loop hits the CPU-time limit and is re-run; trial B's stream of programs (two at a time
    otherwise) does not run while the re-run does."""
    from faults import PoolProbe, grade_in_trials, probe_state

    from codegen_ray.execution.pool import ExecutionPool

    cfg = ExecutionConfig(timeout_s=0.5, wall_timeout_factor=20.0, num_actors=2, cpus_per_actor=1.0)
    pool = ExecutionPool(cfg, PoolProbe(LcbGrader.from_execution_config(cfg), tmp_path))
    try:
        a, b = grade_in_trials(pool, [[GradeJob(SUM, LOOP, 0)], [GradeJob(SUM, SLOW_ADD, i) for i in range(1, 31)]])
    finally:
        pool.shutdown()
    assert [v.outcome for v in a] == [Outcome.TIME_LIMIT]
    assert [v.outcome for v in b] == [Outcome.ACCEPTED] * 30
    state = probe_state(tmp_path)
    assert state["attempts"]["sum/0"] == 2  # the loop was re-run ...
    assert state["violations"] == []  # ... alone
    assert state["max_running"] == 2  # and otherwise both actors worked


@pytest.mark.timeout(300)
def test_actors_whose_cpus_cannot_be_had_end_the_wait_with_an_error_naming_them(ray_session):
    from codegen_ray.execution.pool import ExecutionPool

    cfg = ExecutionConfig(num_actors=2, cpus_per_actor=64.0)  # the test session's Ray has 4 CPUs
    with pytest.raises(HarnessError) as info:
        ExecutionPool(cfg, LcbGrader.from_execution_config(cfg), start_timeout_s=3.0)
    message = str(info.value)
    assert "execution.num_actors=2" in message and "execution.cpus_per_actor=64 CPU" in message
    assert "the Ray cluster has 4 CPU" in message and "ray.actor_start_timeout_s=3" in message


def test_a_grader_that_raises_is_a_harness_error_with_its_traceback_and_no_actor_is_replaced(ray_session):
    from faults import RaisingGrader

    from codegen_ray.execution.pool import ExecutionPool

    cfg = ExecutionConfig(timeout_s=2.0, num_actors=2, cpus_per_actor=1.0)
    pool = ExecutionPool(cfg, RaisingGrader(LcbGrader.from_execution_config(cfg), marker="# grader-bug"))
    try:
        workers, sandboxes = pool.worker_pids(), pool.sandbox_pids()
        jobs = [GradeJob(SUM, ADD, 0), GradeJob(SUM, ADD + "\n# grader-bug", 1), GradeJob(SUM, "print(0)", 2),
                GradeJob(SUM, ADD, 3)]
        verdicts = pool.grade(jobs)
        assert [v.outcome for v in verdicts] == [Outcome.ACCEPTED, Outcome.HARNESS_ERROR, Outcome.WRONG_ANSWER,
                                                 Outcome.ACCEPTED]
        detail = verdicts[1].tests[-1].detail
        assert detail.startswith("grading raised ValueError: injected grading bug on sum/1")
        assert "Traceback (most recent call last)" in detail and "raise ValueError" in detail
        assert pool.actors_replaced == 0 and pool.worker_pids() == workers and pool.sandbox_pids() == sandboxes
    finally:
        pool.shutdown()


@pytest.mark.skipif(os.geteuid() != 0, reason="starving the sandboxed program needs root (its throw-away run uid)")
@pytest.mark.skipif(platform.machine() not in ("x86_64", "aarch64"), reason="clock_nanosleep number unknown here")
def test_programs_starved_to_the_wall_clock_backstop_are_rerun_and_accepted(ray_session, tmp_path):
    """Under CPU hogs, each program's first run gets no CPU at all once it has started (SIGSTOP: the extreme of a
    starving load) until the wall-clock backstop ends it. The re-run alone accepts the correct programs; a real
    infinite loop and a real sleep stay time limits."""
    from faults import StarveFirstAttempt, probe_state

    from codegen_ray.execution.pool import ExecutionPool

    cfg = ExecutionConfig(timeout_s=1.0, wall_timeout_factor=3.0, memory_mb=256, num_actors=2, cpus_per_actor=1.0)
    backstop = limits_from_config(cfg).wall_time_s
    one = problem("one", [("2 3\n", "5\n")])
    correct = ["import time\ntime.sleep(1.0)\na, b = map(int, input().split())\nprint(a + b)",
               "import time\ntime.sleep(1.0)\nprint(sum(map(int, input().split())) + sum(range(10**5)) * 0)",
               "import sys, time\ntime.sleep(1.0)\nsys.stdout.write(str(sum(map(int, sys.stdin.read().split()))))"]
    hopeless = ["import time\ntime.sleep(1.0)\nwhile True: pass", "import time\ntime.sleep(1.0)\ntime.sleep(10**6)"]
    jobs = [GradeJob(one, code, i) for i, code in enumerate(correct + hopeless)]
    pool = ExecutionPool(cfg, StarveFirstAttempt(LcbGrader.from_execution_config(cfg), tmp_path))
    try:
        with CpuHogs():
            verdicts = pool.grade(jobs)
    finally:
        pool.shutdown()
    first = probe_state(tmp_path)["first"]
    # Every first run was a time limit from the wall-clock backstop, with almost no CPU used ...
    assert sorted(first) == [f"one/{i}" for i in range(len(jobs))]
    for key, run in first.items():
        assert run["outcome"] == "time_limit" and run["detail"].startswith("wall-clock time limit"), (key, run)
        assert run["wall_time_s"] >= backstop and run["cpu_time_s"] < 0.5 * cfg.timeout_s, (key, run)
    # ... and the re-run decided: the starved correct programs are accepted, the loop and the sleep are not.
    assert [v.outcome for v in verdicts] == [Outcome.ACCEPTED] * 3 + [Outcome.TIME_LIMIT] * 2
    assert probe_state(tmp_path)["attempts"] == {f"one/{i}": 2 for i in range(len(jobs))}
