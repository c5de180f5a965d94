"""Execution benchmark: this executor against commit efab7e1's, side by side in one invocation.

Every mode alternates the executors it compares, so machine load hits all of them; each prints the load average.

Mode ``lcb`` (default): the LiveCodeBench-like workload -- accepted AtCoder-style stdin programs, 6 small tests
each -- graded like ``codegen-ray grade`` does (``grade_jobs``: a thread and an executor per worker, this
executor's ``prepare_ahead`` resolved from ``auto`` for that many workers). Batches of 100 and 300 programs,
alternated between (a) this executor with 2 workers, (b) efab7e1's executor with 2 workers, (c) this executor
with 1 worker and (d) the same with prepare-ahead never on, ``--rounds`` times; the marginal time per program is
(median time of 300 - median time of 100) / 200. Prints marginal ms per program, the speed-up (b)/(a), the scaling
(c)/(a) and (d)/(a), each with its ceiling on this machine's cores (the 1-worker time over the time (a) would take
with every core busy at its CPU per program), and the median harness overhead per
test (caller's wall time of a test minus the program's own CPU time, one worker, executors alternated program by
program: this executor with prepare-ahead on -- what ``auto`` gives one worker here -- and off, and efab7e1's).

Mode ``io``: heavy I/O tests (5 MB stdin, 1 MB stdout each) through each executor, alternated program by program.
Prints the CPU of everything (harness process + sandbox process tree) and the wall time, each divided by the
program's own CPU time.

Mode ``executors``: >= 200 program x test runs with every kind of verdict (accepted, wrong, crashing, compile
errors, a few time limits) through (a) this fork server, (b) efab7e1's and (c) a fresh interpreter per run,
interleaved run by run; runs/s, median overhead, harness CPU per run, verdict agreement (must be 100%).

Mode ``pool``: 1,000 program x test runs graded serially with efab7e1's executor and with this one (prepare-ahead
off, and on), with the Ray ``ExecutionPool``, and with the pool while CPU hogs load every core. Asserts identical
verdicts (every test's outcome) and prints times.

    .venv/bin/python experiments/benchmarks/bench_execution.py                   # lcb
    .venv/bin/python experiments/benchmarks/bench_execution.py --mode io
    .venv/bin/python experiments/benchmarks/bench_execution.py --mode executors
    .venv/bin/python experiments/benchmarks/bench_execution.py --mode pool
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from execution_workloads import (Timed, all_runs, build_problems, children_cpu_s, heavy_io_problem,  # noqa: E402
                                 lcb_workload, self_cpu_s, tree_cpu_s)

from codegen_ray.config import ExecutionConfig  # noqa: E402
from codegen_ray.execution.base import Limits  # noqa: E402
from codegen_ray.lcb.grading import GradingOptions, LcbGrader, grade_program, grade_test  # noqa: E402
from codegen_ray.types import Outcome  # noqa: E402

NEW, OLD = "this executor", "efab7e1 executor"


def _executors(kind: str, n: int, prepare_ahead: str = "auto") -> list:
    """``n`` executors of ``kind``; this executor's ``prepare_ahead`` resolved as ``codegen-ray grade`` does for ``n``
    workers (auto: on with >= 2 cores per worker)."""
    if kind == NEW:
        from codegen_ray.execution.bubblewrap import ForkServerExecutor
        from codegen_ray.execution.factory import cpus_each, prepare_ahead_for

        ahead = prepare_ahead_for(prepare_ahead, cpus_each(n))
        out = [ForkServerExecutor(prepare_ahead=ahead) for _ in range(n)]
    else:
        from reference_executor import ForkServerExecutor  # type: ignore[no-redef]

        out = [ForkServerExecutor() for _ in range(n)]
    for ex in out:
        ex.start()
    return out


def _ahead(executors) -> str:
    return "prepare-ahead " + ("on" if executors[0].prepare_ahead else "off")


def _load() -> str:
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def _options(timeout: float) -> GradingOptions:
    return GradingOptions(limits=Limits(cpu_time_s=timeout, wall_time_s=3 * timeout + 1, memory_mb=1024,
                                        output_limit_bytes=8 << 20))


# ------------------------------------------------------------------------------------------------------------ lcb
def bench_lcb(args) -> None:
    from codegen_ray.lcb.grade_cli import grade_jobs

    small, large = args.small, args.large
    jobs = lcb_workload(large)
    options = _options(args.timeout)
    new, old, one = _executors(NEW, 2), _executors(OLD, 2), _executors(NEW, 1)
    off = _executors(NEW, 1, prepare_ahead="never")
    conditions = {f"(a) {NEW}, 2 workers": new, f"(b) {OLD}, 2 workers": old, f"(c) {NEW}, 1 worker": one,
                  f"(d) {NEW}, 1 worker, no ahead": off}
    print(f"(a): {_ahead(new)}, (c): {_ahead(one)} (execution.prepare_ahead=auto, as codegen-ray grade resolves it); "
          f"(d): {_ahead(off)}")
    print(f"workload: {large} accepted programs x {len(jobs[0][0].tests)} tests (builtin AtCoder-style problems); "
          f"{os.cpu_count()} cores; {_load()}", flush=True)
    for executors in conditions.values():  # warm-up, not counted
        grade_jobs(jobs[:8], executors, options)
    times: dict[tuple[str, int], list[float]] = {(c, n): [] for c in conditions for n in (small, large)}
    cpu: dict[tuple[str, int], list[float]] = {(c, n): [] for c in conditions for n in (small, large)}

    def all_cpu(executors) -> float:
        return self_cpu_s() + sum(tree_cpu_s(ex.sandbox_pid) for ex in executors)

    for r in range(args.rounds):
        order = list(conditions) if r % 2 == 0 else list(reversed(conditions))
        for n in (small, large):
            for name in order:
                c0, t0 = all_cpu(conditions[name]), time.perf_counter()
                verdicts = grade_jobs(jobs[:n], conditions[name], options)
                times[(name, n)].append(time.perf_counter() - t0)
                cpu[(name, n)].append(all_cpu(conditions[name]) - c0)
                bad = [v for v in verdicts if v.outcome is not Outcome.ACCEPTED]
                if bad:
                    raise SystemExit(f"{name}: {len(bad)} programs not accepted, e.g. {bad[0]}")
        print(f"round {r + 1}/{args.rounds} done; {_load()}", flush=True)
    marginal, marginal_cpu = {}, {}
    print(f"{'condition':40} {'s/' + str(small):>8} {'s/' + str(large):>8} {'marginal ms/program':>20} "
          f"{'programs/s':>11} {'CPU ms/program':>15}")
    for name in conditions:
        t_small, t_large = statistics.median(times[(name, small)]), statistics.median(times[(name, large)])
        marginal[name] = 1000 * (t_large - t_small) / (large - small)
        c_small, c_large = statistics.median(cpu[(name, small)]), statistics.median(cpu[(name, large)])
        marginal_cpu[name] = 1000 * (c_large - c_small) / (large - small)
        print(f"{name:40} {t_small:8.2f} {t_large:8.2f} {marginal[name]:20.2f} {1000 / marginal[name]:11.1f} "
              f"{marginal_cpu[name]:15.2f}")
    a, b, c, d = (marginal[n] for n in conditions)
    ca, cb, cc, cd = (marginal_cpu[n] for n in conditions)
    cores = os.cpu_count() or 1
    print(f"speed-up (b)/(a): {b / a:.2f}x per program (marginal wall time); CPU per program (b)/(a): {cb / ca:.2f}x")
    # (a) can take no less wall time than its CPU per program spread over every core: the scaling's ceiling here
    print(f"scaling 1 -> 2 workers (c)/(a): {c / a:.2f}x (ceiling on {cores} cores, (c) / ((a)'s CPU / {cores}): "
          f"{cores * c / ca:.2f}x; (c) keeps {cc / c:.2f} cores busy); the same without prepare-ahead (d)/(a): "
          f"{d / a:.2f}x (ceiling {cores * d / ca:.2f}x; (d) keeps {cd / d:.2f} cores busy)")
    print("(CPU = this process, every thread, + each executor's whole sandbox process tree)")
    _overhead(jobs[: args.overhead_programs], {f"{NEW} ({_ahead(one)})": one[0], f"{NEW} ({_ahead(off)})": off[0],
                                               OLD: old[0]}, options)
    print(_load())
    for ex in new + old + one + off:
        ex.close()


def _overhead(jobs, executors: dict, options) -> None:
    """Per-test harness overhead, one worker, executors alternated program by program."""
    timed = {name: Timed(ex) for name, ex in executors.items()}
    for problem, code, index in jobs:
        for t in timed.values():
            grade_program(problem, code, t, options, index)
    for name, t in timed.items():
        over = sorted(1000 * (w - c) for w, c in t.samples)
        print(f"{name}: median harness overhead per test {statistics.median(over):.2f} ms (p90 "
              f"{over[int(0.9 * len(over))]:.2f} ms), median test wall {statistics.median(1000 * w for w, _ in t.samples):.2f}"
              f" ms, median program CPU {statistics.median(1000 * c for _, c in t.samples):.2f} ms "
              f"({len(over)} tests)")


# ------------------------------------------------------------------------------------------------------------- io
def bench_io(args) -> None:
    rng = random.Random(args.seed)
    problem, code = heavy_io_problem(rng, args.io_tests)
    options = GradingOptions(limits=Limits(cpu_time_s=20.0, wall_time_s=60.0, memory_mb=2048,
                                           output_limit_bytes=8 << 20))
    stdin_mb = sum(len(t.input) for t in problem.tests) / len(problem.tests) / 2**20
    stdout_mb = sum(len(t.output) for t in problem.tests) / len(problem.tests) / 2**20
    print(f"{len(problem.tests)} tests of {stdin_mb:.1f} MB stdin, {stdout_mb:.2f} MB stdout; one worker; {_load()}",
          flush=True)
    executors = {NEW: _executors(NEW, 1)[0], OLD: _executors(OLD, 1)[0]}
    totals = {name: [0.0, 0.0, 0.0] for name in executors}  # all CPU, wall, program CPU
    for r in range(args.rounds + 1):
        for name, ex in executors.items():
            c0, t0 = self_cpu_s() + tree_cpu_s(ex.sandbox_pid), time.perf_counter()
            verdict = grade_program(problem, code, ex, options)
            wall = time.perf_counter() - t0
            cpu = self_cpu_s() + tree_cpu_s(ex.sandbox_pid) - c0
            assert verdict.outcome is Outcome.ACCEPTED, verdict
            if r:  # the first round warms up
                for i, v in enumerate((cpu, wall, sum(t.cpu_time_s for t in verdict.tests))):
                    totals[name][i] += v
    print(f"{'executor':18} {'program CPU ms/test':>20} {'all CPU / program CPU':>22} {'wall / program CPU':>19}")
    n = args.rounds * len(problem.tests)
    for name, (cpu, wall, prog) in totals.items():
        print(f"{name:18} {1000 * prog / n:20.1f} {cpu / prog:22.3f} {wall / prog:19.3f}")
    print(f"(all CPU = this process, every thread, + the sandbox's whole process tree; {_load()})")
    for ex in executors.values():
        ex.close()


# ------------------------------------------------------------------------------------------------------ executors
def bench_executors(args) -> None:
    from codegen_ray.execution.subprocess_executor import SubprocessExecutor

    rng = random.Random(args.seed)
    runs = all_runs(build_problems(rng))
    options = _options(args.timeout)
    sides = {NEW: Timed(_executors(NEW, 1)[0]), OLD: Timed(_executors(OLD, 1)[0]),
             "fresh subprocess": Timed(SubprocessExecutor())}
    for t in sides.values():  # warm (not counted)
        grade_test(runs[0][0], 0, runs[0][2], t, options)
        t.samples.clear()
    # Load-independent view: CPU burnt by the harness and the sandbox per run (everything but the program's CPU),
    # in separate passes so the executors' CPU does not mix.
    infra = {}
    for name, t in sides.items():
        box = getattr(t.inner, "sandbox_pid", None)
        before = self_cpu_s() + (tree_cpu_s(box) if box else children_cpu_s())
        for problem, index, code in runs[: args.cpu_runs]:
            grade_test(problem, index, code, t, options)
        after = self_cpu_s() + (tree_cpu_s(box) if box else children_cpu_s())
        infra[name] = 1000 * (after - before - sum(c for _, c in t.samples)) / len(t.samples)
        t.samples.clear()
    per_run = {name: [] for name in sides}
    verdicts = {name: [] for name in sides}
    for problem, index, code in runs:  # interleaved: every executor sees the same load
        for name, t in sides.items():
            t0 = time.perf_counter()
            verdicts[name].append(grade_test(problem, index, code, t, options).outcome)
            per_run[name].append(time.perf_counter() - t0)
    counts = {o.value: sum(v is o for v in verdicts[NEW]) for o in set(verdicts[NEW])}
    print(f"runs: {len(runs)} program x test (outcomes: {dict(sorted(counts.items()))}); CPU limit {args.timeout} s; "
          f"{os.cpu_count()} cores; {_load()}")
    print(f"{'executor':18} {'runs/s':>7} {'runs/s w/o TLE':>15} {'median overhead ms':>19} {'median run ms':>14} "
          f"{'harness+sandbox CPU ms/run':>27}")
    for name, t in sides.items():
        quick = [s for s, v in zip(per_run[name], verdicts[name]) if v is not Outcome.TIME_LIMIT]
        over = statistics.median(1000 * (w - c) for w, c in t.samples)
        print(f"{name:18} {len(runs) / sum(per_run[name]):7.1f} {len(quick) / sum(quick):15.1f} {over:19.2f} "
              f"{statistics.median(1000 * w for w, _ in t.samples):14.2f} {infra[name]:27.2f}")
    print("(one run = one test alone; overhead = caller's wall time minus the program's CPU time)")
    bad = 0
    for name in [n for n in sides if n != NEW]:
        agree = sum(a == b for a, b in zip(verdicts[NEW], verdicts[name]))
        print(f"verdict agreement {NEW} vs {name}: {agree}/{len(runs)}")
        bad += len(runs) - agree
    for t in sides.values():
        getattr(t.inner, "close", lambda: None)()
    if bad:
        raise SystemExit(1)


# ----------------------------------------------------------------------------------------------------------- pool
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

    (old,) = _executors(OLD, 1)
    t0 = time.perf_counter()
    reference = grade_serial(jobs, cfg, LcbGrader.from_execution_config(cfg), executor=old)
    t_old = time.perf_counter() - t0
    old.close()
    t0 = time.perf_counter()
    serial = grade_serial(jobs, cfg, LcbGrader.from_execution_config(cfg))  # prepare-ahead auto -> off here
    t_serial = time.perf_counter() - t0
    t0 = time.perf_counter()
    ahead = grade_serial(jobs, dataclasses.replace(cfg, prepare_ahead="always"), LcbGrader.from_execution_config(cfg))
    t_ahead = time.perf_counter() - t0
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False, configure_logging=False)
    pool = ExecutionPool(cfg, LcbGrader.from_execution_config(cfg))
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
    outcomes: dict[str, int] = {}
    for v in reference:
        for t in v.tests:
            outcomes[t.outcome.value] = outcomes.get(t.outcome.value, 0) + 1
    print(f"{len(jobs)} programs, {n_runs} program x test runs (outcomes {outcomes}); isolation {isolation}; "
          f"pool: {cfg.num_actors} actors x {cfg.cpus_per_actor} CPU; {cores} cores; CPU hogs: {cores}; {_load()}")
    print(f"{'mode':40} {'seconds':>8} {'runs/s':>8}")
    for label, secs in ((f"serial, {OLD}", t_old), (f"serial, {NEW}", t_serial),
                        (f"serial, {NEW}, prepare-ahead on", t_ahead), (f"pool, {NEW}", t_pool),
                        ("pool + CPU hog on every core", t_loaded)):
        print(f"{label:40} {secs:8.1f} {n_runs / secs:8.1f}")
    same = {"serial": key(serial) == key(reference), "serial, prepare-ahead on": key(ahead) == key(reference),
            "pool": key(pooled) == key(reference), "pool under load": key(loaded) == key(reference)}
    print("identical verdicts to efab7e1's executor (serial): " + "; ".join(f"{k}: {v}" for k, v in same.items()))
    if not all(same.values()):
        for a, b, c, d, e in zip(key(reference), key(serial), key(ahead), key(pooled), key(loaded)):
            if not a == b == c == d == e:
                print("DIFFER", a, b, c, d, e)
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["lcb", "io", "executors", "pool"], default="lcb")
    parser.add_argument("--timeout", type=float, default=1.0, help="CPU-time limit per test, seconds")
    parser.add_argument("--rounds", type=int, default=3, help="lcb, io: rounds of alternated measurements")
    parser.add_argument("--small", type=int, default=100, help="lcb: programs in the small batch")
    parser.add_argument("--large", type=int, default=300, help="lcb: programs in the large batch")
    parser.add_argument("--overhead-programs", type=int, default=60, help="lcb: programs in the overhead pass")
    parser.add_argument("--io-tests", type=int, default=3, help="io: tests per program")
    parser.add_argument("--runs", type=int, default=1000, help="pool: program x test runs (approximate)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cpu-runs", type=int, default=100, help="executors: runs in the CPU-accounting pass")
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    {"lcb": bench_lcb, "io": bench_io, "executors": bench_executors, "pool": bench_pool}[args.mode](args)


if __name__ == "__main__":
    main()
