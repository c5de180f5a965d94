"""Workloads and measuring helpers for ``bench_execution.py`` (programs, tests, CPU accounting, timed executors)."""

from __future__ import annotations

import os
import random
import resource
import time
from pathlib import Path

from codegen_ray.execution.base import open_session
from codegen_ray.types import Problem, TestCase, TestType

MOD = 10**9 + 7


def problem(qid: str, cases: list[tuple[str, str]]) -> Problem:
    return Problem(question_id=qid, question_title=qid, question_content="", platform="atcoder", contest_id="bench",
                   contest_date="2024-01-01T00:00:00", starter_code="", difficulty="easy",
                   public_tests=tuple(TestCase(i, o, TestType.STDIN) for i, o in cases), private_tests=())


# ------------------------------------------------------------------------------------------ mixed verdicts (executors)
def build_problems(rng: random.Random, tests_per_problem: int = 10) -> dict[str, tuple[Problem, list[str]]]:
    """Problems with tests, and programs for each: correct (several styles), wrong, crashing, not compiling,
    too slow on the big tests."""
    out: dict[str, tuple[Problem, list[str]]] = {}
    cases = []
    for _ in range(tests_per_problem):
        a, b = rng.randint(-10**9, 10**9), rng.randint(-10**9, 10**9)
        cases.append((f"{a} {b}\n", f"{a + b}\n"))
    out["sum"] = (problem("sum", cases), [
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
    out["sort"] = (problem("sort", cases), [
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
    out["squares"] = (problem("squares", cases), [
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
    out["distinct"] = (problem("distinct", cases), [
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
    out["fib"] = (problem("fib", cases), [
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


# ------------------------------------------------------------------------------------------------ LCB-like (lcb)
def lcb_workload(n_programs: int, tests_per_problem: int = 6) -> list[tuple[Problem, str, int]]:
    """``n_programs`` accepted AtCoder-style stdin programs with ``tests_per_problem`` small tests each: the
    builtin mini benchmark's 18 problems (public tests first, then private, cut to the first ones) and their
    reference programs, each copy made distinct by a comment (so no cache can tell them apart)."""
    from codegen_ray.assets.bench_problems import BENCH_PROBLEMS
    from codegen_ray.lcb.dataset import load_problems_file

    import codegen_ray.assets as assets

    problems = {p.question_id: p for p in load_problems_file(Path(assets.__file__).parent / "data/atcoder_mini.jsonl")}
    cut = []
    for bench in BENCH_PROBLEMS:
        p = problems[bench.question_id]
        tests = p.tests[:tests_per_problem]
        cut.append((Problem(p.question_id, p.question_title, "", p.platform, p.contest_id, p.contest_date, "",
                            p.difficulty, tests, ()), bench.reference))
    return [(cut[i % len(cut)][0], f"{cut[i % len(cut)][1]}\n# program {i}\n", i) for i in range(n_programs)]


# --------------------------------------------------------------------------------------------- heavy I/O (io)
HEAVY_IO_PROGRAM = """\
import sys
data = sys.stdin.buffer.read().split()
n, k = int(data[0]), int(data[1])
xs = list(map(int, data[2:2 + n]))
out = []
s = 0
for x in xs[:k]:
    s = (s + x) % 1000000007
    out.append(s)
sys.stdout.write("\\n".join(map(str, out)) + "\\n")
"""


def heavy_io_problem(rng: random.Random, tests: int, stdin_bytes: int = 5 << 20,
                     stdout_bytes: int = 1 << 20) -> tuple[Problem, str]:
    """Tests of about ``stdin_bytes`` of input (n numbers) whose expected output is about ``stdout_bytes`` (prefix
    sums of the first k numbers), and a correct program for them."""
    cases = []
    for _ in range(tests):
        xs: list[int] = []
        size = 0
        while size < stdin_bytes:
            x = rng.randint(0, 10**7)
            xs.append(x)
            size += len(str(x)) + 1
        out: list[str] = []
        s = out_size = 0
        for x in xs:
            if out_size >= stdout_bytes:
                break
            s = (s + x) % MOD
            out.append(str(s))
            out_size += len(out[-1]) + 1
        k = len(out)
        cases.append((f"{len(xs)} {k}\n" + " ".join(map(str, xs)) + "\n", "\n".join(out) + "\n"))
    return problem("heavy_io", cases), HEAVY_IO_PROGRAM


# ------------------------------------------------------------------------------------------------- measuring
_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(root: int) -> float:
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


def self_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def children_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class Timed:
    """Wraps an executor: records (caller's wall time, program CPU time) of every test, run alone or in a session."""

    def __init__(self, inner):
        self.inner = inner
        self.isolation = inner.isolation
        self.samples: list[tuple[float, float]] = []

    def run(self, source, stdin, limits):
        t0 = time.perf_counter()
        result = self.inner.run(source, stdin, limits)
        self.samples.append((time.perf_counter() - t0, result.cpu_time_s))
        return result

    def session(self, program, limits):
        return _TimedSession(open_session(self.inner, program, limits), self.samples)


class _TimedSession:
    def __init__(self, inner, samples):
        self.inner, self.samples = inner, samples

    def run(self, stdin, last=False):
        t0 = time.perf_counter()
        result = self.inner.run(stdin, last)
        self.samples.append((time.perf_counter() - t0, result.cpu_time_s))
        return result

    def close(self):
        self.inner.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
