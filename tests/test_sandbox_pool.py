"""Hostile programs through the real Ray execution pool: the same bombs in every actor at once, and a representative
subset of the adversarial suite (tests/test_sandbox_adversarial.py runs all of them against the executors directly).

After each batch: the expected outcomes, no process of any actor's run uid left, no actor replaced, no sandbox
restarted, no harness file changed, no secret in any verdict, and canary programs graded normally."""

from __future__ import annotations

import hashlib
import os
import secrets
import time

import pytest

from codegen_ray.config import ExecutionConfig
from codegen_ray.execution.bubblewrap import bwrap_path
from codegen_ray.lcb.grading import LcbGrader
from codegen_ray.types import Outcome
from execution_support import problem
from faults import run_uid_processes

pytestmark = pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap (bwrap) is not installed")

SECRET = "cgr-pool-secret-" + secrets.token_hex(8)
CFG = ExecutionConfig(timeout_s=1.0, wall_timeout_factor=2.0, memory_mb=256, output_limit_kb=1024, num_actors=2,
                      cpus_per_actor=1.0, near_limit_fraction=0.8)


ECHO = problem("echo", [("1 2\n", "3\n"), ("5 5\n", "10\n")])
CANARY = "a, b = map(int, input().split())\nprint(a + b)"

BOMBS = {
    "fork_bomb": ("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
                  Outcome.TIME_LIMIT),
    "thread_bomb": ("import threading, time\ntry:\n    while True:\n        threading.Thread(target=time.sleep, "
                    "args=(10**6,), daemon=True).start()\nexcept (RuntimeError, MemoryError):\n    pass\n"
                    "while True: pass\n", Outcome.TIME_LIMIT),
    "memory_bomb": ("chunks = []\nwhile True:\n    chunks.append(bytearray(8 << 20))\n", Outcome.MEMORY_LIMIT),
    "output_bomb": ("import sys\nb = 'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.write(b)\n",
                    Outcome.OUTPUT_LIMIT),
    "sleep_forever": ("import time\ntime.sleep(10**6)\n", Outcome.TIME_LIMIT),
    "orphan": ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    while True: time.sleep(0.01)\n"
               "a, b = map(int, input().split())\nprint(a + b)\n", Outcome.ACCEPTED),
    "kill_all": ("import os\nfor t in (os.getppid(), -1):\n    try:\n        os.kill(t, 9)\n    except OSError:\n"
                 "        pass\na, b = map(int, input().split())\nprint(a + b)\n", Outcome.ACCEPTED),
    "steal_secrets": ("import os\nprint(dict(os.environ))\nfor p in os.listdir('/proc'):\n    try:\n"
                      "        print(open('/proc/%s/environ' % p).read())\n    except OSError:\n        pass\n",
                      Outcome.WRONG_ANSWER),
}


@pytest.fixture(scope="module")
def pool(ray_session):
    from codegen_ray.execution.pool import ExecutionPool

    os.environ["CGR_POOL_SECRET"] = SECRET
    p = ExecutionPool(CFG, LcbGrader.from_execution_config(CFG))
    if p.isolation.value != "bubblewrap":
        p.shutdown()
        pytest.skip("the pool fell back to rlimits-only isolation; these programs need the sandbox")
    yield p
    p.shutdown()
    os.environ.pop("CGR_POOL_SECRET", None)


def _repo_snapshot() -> str:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    h = hashlib.sha256()
    for sub in ("codegen_ray/execution", "tests"):
        for dirpath, _dirs, files in sorted(os.walk(os.path.join(root, sub))):
            for name in sorted(files):
                path = os.path.join(dirpath, name)
                if "__pycache__" not in path:
                    h.update(path.encode() + open(path, "rb").read())
    return h.hexdigest()


def _grade_checked(pool, jobs):
    from codegen_ray.execution.pool import GradeJob

    uids = {u for u in pool.run_uids() if u is not None}
    sandboxes = pool.sandbox_pids()
    replaced = pool.actors_replaced
    before = _repo_snapshot()
    verdicts = pool.grade(jobs)
    deadline = time.monotonic() + 3.0
    while run_uid_processes(uids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run_uid_processes(uids) == []
    assert pool.actors_replaced == replaced and pool.sandbox_pids() == sandboxes
    assert _repo_snapshot() == before
    for v in verdicts:
        assert v.isolation == "bubblewrap"
        assert all(SECRET not in t.detail for t in v.tests)
    canaries = pool.grade([GradeJob(ECHO, CANARY, i) for i in range(2 * CFG.num_actors)])
    assert [c.outcome for c in canaries] == [Outcome.ACCEPTED] * len(canaries)
    return verdicts


def test_same_bombs_in_every_actor_at_once(pool):
    from codegen_ray.execution.pool import GradeJob

    names = ["fork_bomb", "thread_bomb", "memory_bomb", "output_bomb"]
    jobs = [GradeJob(ECHO, BOMBS[name][0], k) for name in names for k in range(CFG.num_actors)]
    t0 = time.monotonic()
    verdicts = _grade_checked(pool, jobs)
    assert [v.outcome for v in verdicts] == [BOMBS[name][1] for name in names for _ in range(CFG.num_actors)]
    assert [(v.question_id, v.sample_index) for v in verdicts] == [("echo", j.sample_index) for j in jobs]
    assert time.monotonic() - t0 < 120


def test_representative_hostile_programs_through_the_pool(pool):
    from codegen_ray.execution.pool import GradeJob

    names = ["sleep_forever", "orphan", "kill_all", "steal_secrets"]
    verdicts = _grade_checked(pool, [GradeJob(ECHO, BOMBS[n][0], 0) for n in names])
    assert {n: v.outcome for n, v in zip(names, verdicts)} == {n: BOMBS[n][1] for n in names}
