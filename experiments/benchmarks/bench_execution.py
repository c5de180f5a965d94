"""Execution benchmark: the bubblewrap fork server vs a fresh interpreter per test, and serial vs pool grading.

Mode ``executors`` (default): the same >= 200 program x test runs (accepted, wrong, crashing, compile errors, a few
time limits) through (a) the fork-server executor and (b) the fresh-subprocess executor, interleaved run by run so
both see the same machine load. Prints runs/s, median harness overhead per run (the caller's wall time of
``executor.run`` minus the program's own CPU time) and verdict agreement (must be 100%).

Mode ``pool``: 1,000 program x test runs graded serially (``grade_serial``), with the full ``ExecutionPool``, and
with the pool while CPU hogs load every core. Asserts identical verdicts (every test's outcome) and prints times.

    .venv/bin/python experiments/benchmarks/bench_execution.py                 # executors
    .venv/bin/python experiments/benchmarks/bench_execution.py --mode pool     # serial vs pool vs pool+hog
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from codegen_ray.config import ExecutionConfig  # noqa: E402
from codegen_ray.execution.base import Limits  # noqa: E402
from codegen_ray.lcb.grading import GradingOptions, grade_test  # noqa: E402
from codegen_ray.types import Problem, TestCase, TestType  # noqa: E402

MOD = 10**9 + 7


def _problem(qid: str, cases: list[tuple[str, str]]) -> Problem:
    return Problem(question_id=qid, question_title=qid, question_content="", platform="atcoder", contest_id="bench",
                   contest_date="2024-01-01T00:00:00", starter_code="", difficulty="easy",
                   public_tests=tuple(TestCase(i, o, TestType.STDIN) for i, o in cases), private_tests=())


def build_problems(rng: random.Random, tests_per_problem: int = 10) -> dict[str, tuple[Problem, list[str]]]:
    """Problems with tests, and programs for each: correct (several styles), wrong, crashing, not compiling,
    too slow on the big tests."""
    out: dict[str, tuple[Problem, list[str]]] = {}
    cases = []
    for _ in range(tests_per_problem):
        a, b = rng.randint(-10**9, 10**9), rng.randint(-10**9, 10**9)
        cases.append((f"{a} {b}\n", f"{a + b}\n"))
    out["sum"] = (_problem("sum", cases), [
        "a, b = map(int, input().split())\nprint(a + b)",
        "import sys\na, b = map(int, sys.stdin.buffer.read().split())\nsys.stdout.write(f'{a + b}\\n')",
        "a, b = map(int, open(0).read().split())\nprint(a - b)",  # wrong
        "a, b = map(int, input().split())\nprint(a + b if a > 0 else [][0])",  # crashes on half the tests
        "a, b = map(int, input().split()\nprint(a + b)",  # compile error
    ])
    cases = []
    for k in range(tests_per_problem):
        n = 10 if k < tests_per_problem - 2 else 20000
        xs = [rng.randint(0, 10**6) for _ in range(n)]
        cases.append((f"{n}\n{' '.join(map(str, xs))}\n", " ".join(map(str, sorted(xs))) + "\n"))
    out["sort"] = (_problem("sort", cases), [
        "input()\nprint(*sorted(map(int, input().split())))",
        "import sys\ndata = sys.stdin.read().split()\nprint(' '.join(sorted(data[1:], key=int)))",
        "input()\nprint(*sorted(input().split()))",  # wrong (string order) on most tests
        "n = int(input())\nxs = list(map(int, input().split()))\nfor i in range(n):\n"
        "    for j in range(n - 1 - i):\n        if xs[j] > xs[j + 1]: xs[j], xs[j + 1] = xs[j + 1], xs[j]\n"
        "print(*xs)",  # bubble sort: too slow on the two big tests
        "input()\nprint(*sorted(map(int, input().split())), end='')\nexit(1)",  # runtime error (exit status)
    ])
    cases = []
    for _ in range(tests_per_problem):
        n = rng.randint(1, 20000)
        cases.append((f"{n}\n", f"{sum(i * i for i in range(n)) % MOD}\n"))
    out["squares"] = (_problem("squares", cases), [
        "n = int(input())\nprint(sum(i * i for i in range(n)) % 1000000007)",
        "n = int(input())\nprint((n - 1) * n * (2 * n - 1) // 6 % 1000000007)",
        "n = int(input())\nprint(sum(i * i for i in range(n + 1)) % 1000000007)",  # wrong
        "import sys\nsys.setrecursionlimit(100000)\ndef f(k): return 0 if k == 0 else (k - 1) ** 2 + f(k - 1)\n"
        "print(f(int(input())) % 1000000007)",
        "n = int(input())\nprint(undefined + n)",  # NameError
    ])
    words = ["apple", "pear", "fig", "kiwi", "plum", "lime"]
    cases = []
    for _ in range(tests_per_problem):
        ws = [rng.choice(words) for _ in range(rng.randint(1, 50))]
        cases.append((" ".join(ws) + "\n", f"{len(set(ws))}\n"))
    out["distinct"] = (_problem("distinct", cases), [
        "print(len(set(input().split())))",
        "import collections\nprint(len(collections.Counter(input().split())))",
        "print(len(input().split()))",  # wrong
        "import numpy\nprint(len(numpy.unique(input().split())))",  # no numpy: runtime error
        "print(len(set(input().split())))\nimport os\nos._exit(0)",  # os._exit drops the buffered line: wrong
    ])
    cases = []
    for k in range(tests_per_problem):
        n = rng.randint(1, 22) if k < tests_per_problem - 2 else rng.randint(2000, 3000)
        a, b = 0, 1
        for _ in range(n):
            a, b = b, (a + b) % MOD
        cases.append((f"{n}\n", f"{a}\n"))
    out["fib"] = (_problem("fib", cases), [
        "n = int(input())\na, b = 0, 1\nfor _ in range(n): a, b = b, (a + b) % 1000000007\nprint(a)",
        "from functools import lru_cache\nimport sys\nsys.setrecursionlimit(10000)\n@lru_cache(None)\n"
        "def f(k): return k if k < 2 else (f(k - 1) + f(k - 2)) % 1000000007\nprint(f(int(input())))",
        "n = int(input())\na, b = 1, 1\nfor _ in range(n): a, b = b, (a + b) % 1000000007\nprint(a)",  # wrong
        "def f(k): return k if k < 2 else f(k - 1) + f(k - 2)\nprint(f(int(input())) % 1000000007)",  # slow on big n
        "n = int(input())\nprint([0, 1][n])",  # IndexError mostly
    ])
    return out


def all_runs(problems) -> list[tuple[Problem, int, str]]:
    return [(p, i, code) for p, codes in problems.values() for code in codes for i in range(len(p.tests))]


_TICK = os.sysconf("SC_CLK_TCK")


def _tree_cpu_s(root: int) -> float:
    """CPU seconds used so far by ``root`` and every descendant, live or already reaped (utime+stime+cutime+cstime of
    each live process in the tree)."""
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15]) / _TICK
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


def _self_cpu_s() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _children_cpu_s() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class Timed:
    """Wraps an executor: records (caller wall time, program CPU time) of every run."""

    def __init__(self, inner):
        self.inner = inner
        self.isolation = inner.isolation
        self.samples: list[tuple[float, float]] = []

    def run(self, source, stdin, limits):
        t0 = time.perf_counter()
        result = self.inner.run(source, stdin, limits)
        self.samples.append((time.perf_counter() - t0, result.cpu_time_s))
        return result


def bench_executors(args) -> None:
    from codegen_ray.execution.bubblewrap import ForkServerExecutor
    from codegen_ray.execution.subprocess_executor import SubprocessExecutor

    rng = random.Random(args.seed)
    runs = all_runs(build_problems(rng))
    options = GradingOptions(limits=Limits(cpu_time_s=args.timeout, wall_time_s=2 * args.timeout + 1,
                                           memory_mb=1024, output_limit_bytes=8 << 20))
    fork, plain = Timed(ForkServerExecutor()), Timed(SubprocessExecutor())
    fork.inner.start()
    grade_test(runs[0][0], 0, runs[0][2], fork, options)  # warm both (not counted)
    grade_test(runs[0][0], 0, runs[0][2], plain, options)
    fork.samples.clear()
    plain.samples.clear()
    total = {"fork": 0.0, "plain": 0.0}
    per_run = {"fork": [], "plain": []}
    verdicts = {"fork": [], "plain": []}
    # Load-independent view of the overhead: CPU burnt by the harness and the sandbox machinery per run (everything
    # except the program's own CPU). Measured in separate passes so the two executors' CPU does not mix.
    infra = {}
    sandbox = fork.inner.sandbox_pid
    for name, ex in (("fork", fork), ("plain", plain)):
        n_before = len(ex.samples)
        c0 = _self_cpu_s() + (_tree_cpu_s(sandbox) if name == "fork" else _children_cpu_s())
        for problem, index, code in runs[: args.cpu_runs]:
            grade_test(problem, index, code, ex, options)
        c1 = _self_cpu_s() + (_tree_cpu_s(sandbox) if name == "fork" else _children_cpu_s())
        program = sum(c for _, c in ex.samples[n_before:])
        infra[name] = 1000 * (c1 - c0 - program) / (len(ex.samples) - n_before)
        del ex.samples[n_before:]
    assert fork.inner.sandbox_pid == sandbox, "the sandbox restarted during the CPU pass"
    for problem, index, code in runs:  # interleaved: both executors see the same load
        for name, ex in (("fork", fork), ("plain", plain)):
            t0 = time.perf_counter()
            verdicts[name].append(grade_test(problem, index, code, ex, options).outcome)
            per_run[name].append(time.perf_counter() - t0)
            total[name] += per_run[name][-1]
    fork.inner.close()
    agree = sum(a == b for a, b in zip(verdicts["fork"], verdicts["plain"]))
    outcomes = sorted({o.value for o in verdicts["fork"]})
    counts = {o: sum(v.value == o for v in verdicts["fork"]) for o in outcomes}
    print(f"runs: {len(runs)} program x test (outcomes: {counts}); CPU limit {args.timeout} s; "
          f"{os.cpu_count()} cores; load average now {os.getloadavg()[0]:.2f}")
    rows = []
    for name, ex, label in (("fork", fork, "(a) bubblewrap fork server"), ("plain", plain, "(b) fresh subprocess")):
        overhead = [1000 * (w - c) for w, c in ex.samples]
        quick = [t for t, v in zip(per_run[name], verdicts[name]) if v.value != "time_limit"]
        rows.append((label, len(runs) / total[name], len(quick) / sum(quick), statistics.median(overhead),
                     statistics.quantiles(overhead, n=10)[-1], statistics.median(1000 * w for w, _ in ex.samples),
                     infra[name]))
    print(f"{'executor':30} {'runs/s':>7} {'runs/s w/o TLE':>15} {'median overhead ms':>19} {'p90 overhead ms':>16} "
          f"{'median run ms':>14} {'harness+sandbox CPU ms/run':>27}")
    for label, rps, rps_quick, med, p90, run_ms, cpu_ms in rows:
        print(f"{label:30} {rps:7.1f} {rps_quick:15.1f} {med:19.2f} {p90:16.2f} {run_ms:14.2f} {cpu_ms:27.2f}")
    print("(overhead = caller's wall time of executor.run minus the program's CPU time; it includes waiting for a "
          "core when the machine is loaded. harness+sandbox CPU = CPU of everything but the program, per run.)")
    print(f"speed-up (a)/(b): {rows[0][1] / rows[1][1]:.2f}x runs/s ({rows[0][2] / rows[1][2]:.2f}x without the "
          f"time-limit runs); median overhead ratio (b)/(a): {rows[1][3] / rows[0][3]:.1f}x; harness+sandbox CPU "
          f"ratio (b)/(a): {rows[1][6] / rows[0][6]:.1f}x")
    print(f"verdict agreement: {agree}/{len(runs)} = {100 * agree / len(runs):.1f}%")
    if agree != len(runs):
        for (p, i, code), a, b in zip(runs, verdicts["fork"], verdicts["plain"]):
            if a != b:
                print("DISAGREE", p.question_id, i, a, b, code.splitlines()[0])
        raise SystemExit(1)


def _hog(stop) -> None:
    while not stop.is_set():
        pass


def bench_pool(args) -> None:
    import ray

    from codegen_ray.execution.pool import ExecutionPool, GradeJob, grade_serial

    rng = random.Random(args.seed)
    problems = build_problems(rng)
    jobs = []
    copies = max(1, args.runs // len(all_runs(problems)))
    for copy in range(copies):
        for problem, codes in problems.values():
            for k, code in enumerate(codes):
                jobs.append(GradeJob(problem, code + f"\n# copy {copy}", copy * 100 + k))
    n_runs = sum(len(j.problem.tests) for j in jobs)
    cores = os.cpu_count() or 1
    cfg = ExecutionConfig(timeout_s=args.timeout, wall_timeout_factor=2.0, num_actors=cores, cpus_per_actor=1.0,
                          stop_at_first_failure=False)

    def key(verdicts):
        return [(v.question_id, v.sample_index, v.outcome, tuple((t.index, t.outcome) for t in v.tests))
                for v in verdicts]

    t0 = time.perf_counter()
    serial = grade_serial(jobs, cfg)
    t_serial = time.perf_counter() - t0
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False, configure_logging=False)
    pool = ExecutionPool(cfg)
    try:
        t0 = time.perf_counter()
        pooled = pool.grade(jobs)
        t_pool = time.perf_counter() - t0
        stop = multiprocessing.Event()
        hogs = [multiprocessing.Process(target=_hog, args=(stop,), daemon=True) for _ in range(cores)]
        for h in hogs:
            h.start()
        try:
            t0 = time.perf_counter()
            loaded = pool.grade(jobs)
            t_loaded = time.perf_counter() - t0
        finally:
            stop.set()
            for h in hogs:
                h.join()
        isolation = pool.isolation.value
    finally:
        pool.shutdown()
        ray.shutdown()
    outcomes = {}
    for v in serial:
        for t in v.tests:
            outcomes[t.outcome.value] = outcomes.get(t.outcome.value, 0) + 1
    print(f"{len(jobs)} programs, {n_runs} program x test runs (outcomes {outcomes}); isolation {isolation}; "
          f"pool: {cfg.num_actors} actors x {cfg.cpus_per_actor} CPU; {cores} cores; CPU hogs: {cores}")
    print(f"{'mode':28} {'seconds':>8} {'runs/s':>8}")
    for label, secs in (("serial", t_serial), ("pool", t_pool), ("pool + CPU hog on every core", t_loaded)):
        print(f"{label:28} {secs:8.1f} {n_runs / secs:8.1f}")
    same_pool = key(pooled) == key(serial)
    same_loaded = key(loaded) == key(serial)
    print(f"identical verdicts: pool == serial: {same_pool}; pool under load == serial: {same_loaded}")
    if not (same_pool and same_loaded):
        for a, b, c in zip(key(serial), key(pooled), key(loaded)):
            if not a == b == c:
                print("DIFFER", a, b, c)
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["executors", "pool"], default="executors")
    parser.add_argument("--timeout", type=float, default=1.0, help="CPU-time limit per run, seconds")
    parser.add_argument("--runs", type=int, default=1000, help="pool mode: program x test runs (approximate)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cpu-runs", type=int, default=100, help="executors mode: runs in the CPU-accounting pass")
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if args.mode == "executors":
        bench_executors(args)
    else:
        bench_pool(args)


if __name__ == "__main__":
    main()
