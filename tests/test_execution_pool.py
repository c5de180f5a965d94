"""The execution pool: same verdicts as the serial grader (also with a CPU hog loading the machine), concurrency
bounded by the CPUs given, dead actors replaced, persistent failures reported as harness errors."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import pytest

from codegen_ray.config import ExecutionConfig
from codegen_ray.execution.pool import (MAX_BATCH, GradeJob, batch_size, grade_serial, needs_serial_rerun,
                                       pool_concurrency)
from codegen_ray.lcb.grading import LcbGrader
from codegen_ray.types import Outcome, ProgramVerdict
from codegen_ray.types import TestVerdict as Verdict
from execution_support import problem

CFG = ExecutionConfig(timeout_s=0.5, wall_timeout_factor=2.0, memory_mb=256, output_limit_kb=256, num_actors=2,
                      cpus_per_actor=1.0, near_limit_fraction=0.8)
LCB = LcbGrader.from_execution_config(CFG)


SUM = problem("sum", [(f"{a} {b}\n", f"{a + b}\n") for a, b in [(1, 2), (10, 20), (-5, 5), (7, 0)]])
SORT = problem("sort", [("3\n3 1 2\n", "1 2 3\n"), ("1\n9\n", "9\n"), ("4\n4 4 1 0\n", "0 1 4 4\n")])
PROGRAMS = [
    (SUM, "a, b = map(int, input().split())\nprint(a + b)"),  # accepted
    (SUM, "a, b = map(int, input().split())\nprint(a - b)"),  # wrong answer on test 0
    (SUM, "a, b = map(int, input().split())\nprint(a + b if a != 10 else 0)"),  # wrong answer on test 1
    (SUM, "a, b = map(int, input().split())\nprint(a + b)\nif b == 0: raise SystemExit(2)"),  # runtime error, test 3
    (SUM, "print(int(input()))"),  # runtime error
    (SUM, "def f(:"),  # compile error
    (SUM, "while True: pass"),  # time limit
    (SORT, "input()\nprint(*sorted(map(int, input().split())))"),  # accepted
    (SORT, "input()\nprint(*map(int, input().split()))"),  # wrong answer
    (SORT, "x = bytearray(1 << 40)"),  # memory limit
    (SORT, "import sys\nwhile True: sys.stdout.write('y' * 4096)"),  # output limit
]
EXPECTED = [Outcome.ACCEPTED, Outcome.WRONG_ANSWER, Outcome.WRONG_ANSWER, Outcome.RUNTIME_ERROR,
            Outcome.RUNTIME_ERROR, Outcome.COMPILE_ERROR, Outcome.TIME_LIMIT, Outcome.ACCEPTED, Outcome.WRONG_ANSWER,
            Outcome.MEMORY_LIMIT, Outcome.OUTPUT_LIMIT]


def jobs() -> list[GradeJob]:
    return [GradeJob(p, code, i) for i, (p, code) in enumerate(PROGRAMS)]


def comparable(verdicts: list[ProgramVerdict]):
    return [(v.question_id, v.sample_index, v.outcome, v.isolation, tuple((t.index, t.outcome) for t in v.tests))
            for v in verdicts]


def _hog(stop):
    while not stop.is_set():
        pass


def test_pool_concurrency_never_exceeds_cores():
    assert pool_concurrency(ExecutionConfig(num_actors=2, cpus_per_actor=0.5)) == 1
    assert pool_concurrency(ExecutionConfig(num_actors=4, cpus_per_actor=0.5)) == 2
    assert pool_concurrency(ExecutionConfig(num_actors=3, cpus_per_actor=1.0)) == 3
    assert pool_concurrency(ExecutionConfig(num_actors=2, cpus_per_actor=2.0)) == 2


def test_actor_calls_batch_programs_until_the_end():
    assert batch_size(10_000, 2) == MAX_BATCH  # plenty of work: few Ray round trips
    assert 1 < batch_size(40, 2) < MAX_BATCH
    assert batch_size(7, 2) == batch_size(1, 4) == 1  # the tail: one program per call, no actor idles


def test_near_limit_time_limits_are_rerun():
    def verdict(outcome, cpu):
        return ProgramVerdict("q", 0, outcome, (Verdict(0, outcome, cpu_time_s=cpu),), "bubblewrap")

    cfg = ExecutionConfig(timeout_s=2.0, near_limit_fraction=0.8)
    assert needs_serial_rerun(verdict(Outcome.TIME_LIMIT, 1.7), cfg)
    assert not needs_serial_rerun(verdict(Outcome.TIME_LIMIT, 0.1), cfg)  # slept: load did not decide it
    assert not needs_serial_rerun(verdict(Outcome.ACCEPTED, 1.9), cfg)


def test_serial_grading_outcomes():
    verdicts = grade_serial(jobs(), CFG, LCB)
    assert [v.outcome for v in verdicts] == EXPECTED


def test_pool_equals_serial_also_under_cpu_load(ray_session):
    from codegen_ray.execution.pool import ExecutionPool

    serial = comparable(grade_serial(jobs(), CFG, LCB))
    pool = ExecutionPool(CFG, LCB)
    try:
        assert comparable(pool.grade(jobs())) == serial
        stop = multiprocessing.Event()
        hogs = [multiprocessing.Process(target=_hog, args=(stop,), daemon=True) for _ in range(os.cpu_count() or 1)]
        for h in hogs:
            h.start()
        try:
            assert comparable(pool.grade(jobs())) == serial
        finally:
            stop.set()
            for h in hogs:
                h.join()
    finally:
        pool.shutdown()


def test_dead_actor_is_replaced_and_its_job_retried(ray_session):
    from codegen_ray.execution.pool import ExecutionPool

    cfg = ExecutionConfig(timeout_s=2.0, num_actors=1, cpus_per_actor=1.0)
    pool = ExecutionPool(cfg, LcbGrader.from_execution_config(cfg))
    try:
        (pid,) = pool.worker_pids()
        killer = threading.Timer(1.0, lambda: os.kill(pid, signal.SIGKILL))
        killer.start()
        slow = GradeJob(SUM, "import time\ntime.sleep(0.5)\na, b = map(int, input().split())\nprint(a + b)", 0)
        (verdict,) = pool.grade([slow])
        killer.join()
        assert verdict.outcome is Outcome.ACCEPTED and pool.actors_replaced == 1
        assert pool.worker_pids() != [pid]
    finally:
        pool.shutdown()


def test_persistent_actor_failure_is_a_harness_error(ray_session):
    from codegen_ray.execution.pool import ExecutionPool

    cfg = ExecutionConfig(timeout_s=2.0, num_actors=1, cpus_per_actor=1.0)
    pool = ExecutionPool(cfg, LcbGrader.from_execution_config(cfg), max_attempts=1)
    try:
        (pid,) = pool.worker_pids()
        killer = threading.Timer(1.0, lambda: os.kill(pid, signal.SIGKILL))
        killer.start()
        (verdict,) = pool.grade([GradeJob(SUM, "import time\ntime.sleep(3)\nprint(3)", 5)])
        killer.join()
        assert verdict.outcome is Outcome.HARNESS_ERROR and verdict.sample_index == 5
        (after,) = pool.grade([GradeJob(SUM, PROGRAMS[0][1], 0)])
        assert after.outcome is Outcome.ACCEPTED
    finally:
        pool.shutdown()


class _FlakyHarness:
    """A grader whose harness fails ``failures`` times before judging with the LiveCodeBench rules (picklable)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self, problem, code, sample_index, executor):
        self.calls += 1
        if self.calls <= self.failures:
            return ProgramVerdict(problem.question_id, sample_index, Outcome.HARNESS_ERROR,
                                  (Verdict(0, Outcome.HARNESS_ERROR, detail="injected"),), "")
        return LCB(problem, code, sample_index, executor)


def test_the_pool_judges_with_the_grader_it_is_given_and_retries_harness_errors():
    problem, code = PROGRAMS[0]
    flaky = _FlakyHarness(failures=2)
    (verdict,) = grade_serial([GradeJob(problem, code, 0)], CFG, flaky)
    assert flaky.calls == 3 and verdict.outcome is Outcome.ACCEPTED  # two harness errors retried, then judged
    always = _FlakyHarness(failures=10)
    (verdict,) = grade_serial([GradeJob(problem, code, 0)], CFG, always)
    assert always.calls == 3 and verdict.outcome is Outcome.HARNESS_ERROR  # DEFAULT_MAX_ATTEMPTS, never a wrong answer
