"""Test support for the LiveCodeBench tests: a small real-subprocess executor and fixture records.

The executor is a real ``python3`` process with rlimits and a timeout (no mock); the project's sandboxed executors
live in codegen_ray.execution and have their own tests.
"""

from __future__ import annotations

import json

import resource
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from codegen_ray.execution.base import Isolation, Limits, RunResult, RunStatus
from codegen_ray.lcb.records import encode_private_tests


class LocalExecutor:
    isolation = Isolation.RLIMITS

    def run(self, source: str, stdin: str, limits: Limits) -> RunResult:
        try:
            compile(source, "<candidate>", "exec")  # compile only; nothing runs here
        except (SyntaxError, ValueError) as err:
            return RunResult(RunStatus.COMPILE_ERROR, "", str(err), None, None, 0.0, 0.0, None, self.isolation,
                             detail=f"SyntaxError: {err}")
        with tempfile.TemporaryDirectory() as tmp:
            prog = Path(tmp) / "main.py"
            prog.write_text(source)
            cpu = max(1, int(limits.cpu_time_s + 0.999))
            mem = limits.memory_mb * 1024 * 1024

            def pre() -> None:
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
                resource.setrlimit(resource.RLIMIT_AS, (mem, mem))

            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            proc = subprocess.Popen([sys.executable, str(prog)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, preexec_fn=pre, cwd=tmp)
            chunks: list[bytes] = []
            err_chunks: list[bytes] = []
            over = threading.Event()

            def pump_out() -> None:
                size = 0
                while chunk := proc.stdout.read1(65536):
                    size += len(chunk)
                    if size > limits.output_limit_bytes:
                        over.set()
                        proc.kill()
                        break
                    chunks.append(chunk)

            def pump_err() -> None:
                while chunk := proc.stderr.read1(65536):
                    err_chunks.append(chunk)

            readers = [threading.Thread(target=pump_out), threading.Thread(target=pump_err)]
            for t in readers:
                t.start()
            try:
                proc.stdin.write(stdin.encode())
                proc.stdin.close()
            except BrokenPipeError:
                pass
            timed_out = False
            try:
                proc.wait(timeout=limits.wall_time_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                proc.kill()
                proc.wait()
            for t in readers:
                t.join()
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        stdout = b"".join(chunks)
        if timed_out:
            return RunResult(RunStatus.TIME_LIMIT, "", "", None, None, 0.0, limits.wall_time_s, None,
                             self.isolation, detail="wall-clock limit")
        cpu_used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        out = stdout.decode("utf-8", errors="replace")
        err = b"".join(err_chunks).decode("utf-8", errors="replace")[-4000:]
        rc = proc.returncode
        if over.is_set():
            status, code, sig = RunStatus.OUTPUT_LIMIT, rc, None
        elif rc < 0 and -rc in (signal.SIGXCPU, signal.SIGKILL):
            status, code, sig = RunStatus.TIME_LIMIT, None, -rc
        elif rc < 0:
            status, code, sig = RunStatus.SIGNALED, None, -rc
        elif rc != 0 and "MemoryError" in err:
            status, code, sig = RunStatus.MEMORY_LIMIT, rc, None
        else:
            status, code, sig = RunStatus.EXITED, rc, None
        return RunResult(status, out, err, code, sig, cpu_used, 0.0, None, self.isolation)


FAST_LIMITS = Limits(cpu_time_s=2.0, wall_time_s=6.0, memory_mb=512)


def make_record(qid: str, *, tests: list[tuple[str, str]], date: str = "2024-07-06T00:00:00",
                platform: str = "atcoder", difficulty: str = "easy", starter_code: str = "",
                func_name: str | None = None, n_public: int = 1, pickled: bool = True,
                content: str | None = None) -> dict:
    testtype = "functional" if func_name else "stdin"
    items = [{"input": i, "output": o, "testtype": testtype} for i, o in tests]
    public, private = items[:n_public], items[n_public:]
    return {
        "question_title": f"Title {qid}",
        "question_content": content if content is not None else f"Problem {qid}: add the numbers.",
        "platform": platform,
        "question_id": qid,
        "contest_id": qid.split("_")[0],
        "contest_date": date,
        "starter_code": starter_code,
        "difficulty": difficulty,
        "public_test_cases": json.dumps(public),
        "private_test_cases": encode_private_tests(private) if pickled else json.dumps(private),
        "metadata": json.dumps({"func_name": func_name} if func_name else {}),
    }


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def fixture_records() -> list[dict]:
    """A small LCB-schema benchmark: AtCoder stdin problems across dates/difficulties and one LeetCode problem."""
    return [
        make_record("abc361_a", tests=[("1 2\n", "3\n"), ("5 7\n", "12\n"), ("100 -1\n", "99\n")]),
        make_record("abc362_b", date="2024-07-13T00:00:00", tests=[("3\n", "1.5\n"), ("1\n", "0.5\n")]),
        make_record("abc390_a", date="2025-01-25T00:00:00", tests=[("2 2\n", "4\n")]),
        make_record("abc370_c", date="2024-09-07T00:00:00", difficulty="medium", tests=[("4\n", "2\n")]),
        make_record("3000", platform="leetcode", date="2024-08-04T00:00:00", func_name="twoSum",
                    starter_code="class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        ",
                    tests=[("[2,7,11,15]\n9", "[0, 1]"), ("[3,2,4]\n6", "[1, 2]"), ("[3,3]\n6", "[0, 1]")]),
    ]


REFERENCE_SOLUTIONS = {
    "abc361_a": "a, b = map(int, input().split())\nprint(a + b)\n",
    "abc362_b": "n = int(input())\nprint(n / 2)\n",
    "abc390_a": "import sys\na, b = map(int, sys.stdin.buffer.readline().split())\nsys.stdout.buffer.write(f'{a*b}\\n'.encode())\n",
    "abc370_c": "print(int(open(0).read()) // 2)\n",
    "3000": (
        "class Solution:\n"
        "    def twoSum(self, nums: List[int], target: int) -> List[int]:\n"
        "        seen = {}\n"
        "        for i, x in enumerate(nums):\n"
        "            if target - x in seen:\n"
        "                return (seen[target - x], i)\n"
        "            seen[x] = i\n"
    ),
}


