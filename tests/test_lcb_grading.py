"""Grading with real processes (a small rlimits subprocess executor): outcomes, stdin idioms, functional driver."""

from __future__ import annotations

import dataclasses

import pytest

from codegen_ray.execution.base import Isolation, Limits, RunResult, RunStatus
from codegen_ray.lcb.grading import GradingOptions, functional_program, grade_program, stdin_program
from codegen_ray.lcb.records import problem_from_record
from codegen_ray.types import Outcome
from test_lcb_support import FAST_LIMITS, REFERENCE_SOLUTIONS, LocalExecutor, fixture_records, make_record

EX = LocalExecutor()
OPTS = GradingOptions(limits=FAST_LIMITS)
PROBLEMS = {r["question_id"]: problem_from_record(r) for r in fixture_records()}
ADD = PROBLEMS["abc361_a"]  # 3 tests: "1 2"→3, "5 7"→12, "100 -1"→99
TWO_SUM = PROBLEMS["3000"]


def grade(code, problem=ADD, options=OPTS):
    return grade_program(problem, code, EX, options, sample_index=2)


@pytest.mark.parametrize("qid", sorted(REFERENCE_SOLUTIONS))
def test_reference_solutions_accepted(qid):
    v = grade_program(PROBLEMS[qid], REFERENCE_SOLUTIONS[qid], EX, OPTS)
    assert v.outcome is Outcome.ACCEPTED, v.tests
    assert v.passed and len(v.tests) == len(PROBLEMS[qid].tests)
    assert v.isolation == "rlimits"


IDIOMS = [
    # idioms that fail inside lcb_runner's exec-with-mocked-stdin but are correct on AtCoder
    "import sys\na, b = map(int, sys.stdin.buffer.readline().split())\nprint(a + b)",
    "import sys\nfor line in sys.stdin:\n    a, b = map(int, line.split())\n    print(a + b)",
    "a, b = map(int, open(0).read().split())\nprint(a + b)",
    "import sys\na, b = map(int, input().split())\nsys.stdout.buffer.write(str(a + b).encode())",
    "a, b = map(int, input().split())\nprint(a + b)\nexit()",
    "import sys\na, b = map(int, input().split())\nprint(a + b)\nsys.exit(0)",
    # lcb_runner's implicit imports: sys, math, collections... are there without an import
    "a, b = map(int, sys.stdin.readline().split())\nprint(a + b)",
    "from __future__ import annotations\ndef f(x: list[int]) -> int:\n    return sum(x)\nprint(f(list(map(int, input().split()))))",
    '"""doc"""\nfrom __future__ import annotations\nprint(sum(map(int, input().split())))',
    "if __name__ == '__main__':\n    print(sum(map(int, input().split())))",
    # upstream wraps the program in a function, so `global` no longer reaches the top-level variable
    "total = 0\ndef add(x):\n    global total\n    total += x\nfor v in input().split():\n    add(int(v))\nprint(total)",
]


@pytest.mark.parametrize("code", IDIOMS)
def test_real_process_idioms_accepted(code):
    assert grade(code).outcome is Outcome.ACCEPTED


@pytest.fixture(scope="module", params=["never", "always"], ids=["one-monitor", "prepare-ahead"])
def project_executor(request):
    """The project's own sandbox (codegen_ray.execution.make_executor), in both session layouts."""
    from codegen_ray.config import ExecutionConfig
    from codegen_ray.execution import make_executor

    ex = make_executor(ExecutionConfig(timeout_s=2.0, prepare_ahead=request.param))
    yield ex
    close = getattr(ex, "close", None)
    if close is not None:
        close()


def test_idioms_and_functional_driver_under_project_sandbox(project_executor):
    for code in IDIOMS:
        v = grade_program(ADD, code, project_executor, OPTS)
        assert v.outcome is Outcome.ACCEPTED, (code, v.tests)
        assert v.isolation == project_executor.isolation.value
    for qid, code in REFERENCE_SOLUTIONS.items():
        assert grade_program(PROBLEMS[qid], code, project_executor, OPTS).passed, qid
    noisy = "print('noise')\n" + REFERENCE_SOLUTIONS["3000"].replace("seen = {}", "seen = {}; print('dbg')")
    assert grade_program(TWO_SUM, noisy, project_executor, OPTS).passed
    v = grade_program(ADD, "import sys\nprint(3)\nsys.exit(1)", project_executor, OPTS)
    assert v.outcome is Outcome.RUNTIME_ERROR


def test_wrong_answer_stops_at_first_failure_by_default():
    code = "a, b = map(int, input().split())\nprint(a + b if a != 5 else 0)"
    v = grade(code)
    assert v.outcome is Outcome.WRONG_ANSWER and v.sample_index == 2
    assert [t.outcome for t in v.tests] == [Outcome.ACCEPTED, Outcome.WRONG_ANSWER]
    assert "line 1" in v.tests[1].detail


def test_run_all_tests_option():
    code = "a, b = map(int, input().split())\nprint(a + b if a != 5 else 0)"
    v = grade(code, options=dataclasses.replace(OPTS, stop_at_first_failure=False))
    assert v.outcome is Outcome.WRONG_ANSWER
    assert [t.outcome for t in v.tests] == [Outcome.ACCEPTED, Outcome.WRONG_ANSWER, Outcome.ACCEPTED]
    assert [t.index for t in v.tests] == [0, 1, 2]


def test_nonzero_exit_after_correct_output_is_runtime_error():
    # lcb_runner swallows SystemExit and would accept this; a real judge reports a runtime error
    v = grade("import sys\nprint(sum(map(int, input().split())))\nsys.exit(3)")
    assert v.outcome is Outcome.RUNTIME_ERROR and "exit status 3" in v.tests[0].detail


def test_exception_is_runtime_error_with_last_line():
    v = grade("x = int(input())")
    assert v.outcome is Outcome.RUNTIME_ERROR and "ValueError" in v.tests[0].detail


def test_syntax_error_is_compile_error():
    assert grade("print(1 +)").outcome is Outcome.COMPILE_ERROR


def test_empty_program_is_compile_error_without_running():
    class Counting(LocalExecutor):
        calls = 0

        def run(self, source, stdin, limits):
            Counting.calls += 1
            return super().run(source, stdin, limits)

    v = grade_program(ADD, "  \n", Counting(), OPTS)
    assert v.outcome is Outcome.COMPILE_ERROR and Counting.calls == 0


def test_time_limit():
    opts = GradingOptions(limits=Limits(cpu_time_s=1.0, wall_time_s=5.0, memory_mb=512))
    assert grade("while True:\n    pass", options=opts).outcome is Outcome.TIME_LIMIT


def test_memory_limit():
    assert grade("x = bytearray(2 * 1024 ** 3)").outcome is Outcome.MEMORY_LIMIT


def test_output_limit():
    opts = GradingOptions(limits=dataclasses.replace(FAST_LIMITS, output_limit_bytes=10_000))
    assert grade("print('x' * 100_000)", options=opts).outcome is Outcome.OUTPUT_LIMIT


def test_signal_is_runtime_error():
    v = grade("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)")
    assert v.outcome is Outcome.RUNTIME_ERROR and "signal 11" in v.tests[0].detail


class Recorded:
    """Returns a fixed RunResult: checks the status → outcome table for statuses a test cannot provoke for real."""

    isolation = Isolation.BUBBLEWRAP

    def __init__(self, status, exit_code=None):
        self.status, self.exit_code = status, exit_code

    def run(self, source, stdin, limits):
        return RunResult(self.status, "", "", self.exit_code, None, 0.0, 0.0, None, self.isolation, detail="x")


@pytest.mark.parametrize("status,exit_code,outcome", [
    (RunStatus.HARNESS_ERROR, None, Outcome.HARNESS_ERROR),
    (RunStatus.COMPILE_ERROR, None, Outcome.COMPILE_ERROR),
    (RunStatus.TIME_LIMIT, None, Outcome.TIME_LIMIT),
    (RunStatus.MEMORY_LIMIT, None, Outcome.MEMORY_LIMIT),
    (RunStatus.OUTPUT_LIMIT, None, Outcome.OUTPUT_LIMIT),
    (RunStatus.SIGNALED, None, Outcome.RUNTIME_ERROR),
    (RunStatus.EXITED, 1, Outcome.RUNTIME_ERROR),
    (RunStatus.EXITED, 0, Outcome.WRONG_ANSWER),  # empty stdout vs "3"
])
def test_status_outcome_table(status, exit_code, outcome):
    v = grade_program(ADD, "print(3)", Recorded(status, exit_code), OPTS)
    assert v.outcome is outcome and len(v.tests) == 1 and v.isolation == "bubblewrap"


# ------------------------------------------------------------------------------------------------------ functional
def two_sum(body):
    return "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n" + body


def test_functional_list_and_tuple_results_accepted():
    body = "        for i in range(len(nums)):\n            for j in range(i + 1, len(nums)):\n" \
           "                if nums[i] + nums[j] == target:\n                    return [i, j]\n"
    assert grade(two_sum(body), TWO_SUM).outcome is Outcome.ACCEPTED


def test_functional_prints_do_not_corrupt_the_result():
    code = "print('module level noise')\n" + two_sum(
        "        print('debug', nums)\n        import os\n        os.write(1, b'raw noise')\n"
        "        d = {}\n        for i, x in enumerate(nums):\n            if target - x in d:\n"
        "                return [d[target - x], i]\n            d[x] = i\n")
    assert grade(code, TWO_SUM).outcome is Outcome.ACCEPTED


def test_functional_wrong_answer_and_nested_tuple_semantics():
    v = grade(two_sum("        return [0, 0]\n"), TWO_SUM)
    assert v.outcome is Outcome.WRONG_ANSWER and "expected [0, 1]" in v.tests[0].detail
    # upstream compares with ==: only a top-level tuple becomes a list
    nested = problem_from_record(make_record("3001", platform="leetcode", func_name="pairs",
                                             tests=[("2", "[[0, 1]]")]))
    tup = "class Solution:\n    def pairs(self, n):\n        return [(0, 1)]\n"
    lst = "class Solution:\n    def pairs(self, n):\n        return [[0, 1]]\n"
    assert grade(tup, nested).outcome is Outcome.WRONG_ANSWER
    assert grade(lst, nested).outcome is Outcome.ACCEPTED


@pytest.mark.parametrize("ret,expected_json,outcome", [
    ("{1, 2}", "[1, 2]", Outcome.WRONG_ANSWER),              # a set never equals a list
    ("{1: 2}", '{"1": 2}', Outcome.WRONG_ANSWER),            # int keys are not JSON's string keys
    ("{'1': [2, 3]}", '{"1": [2, 3]}', Outcome.ACCEPTED),
    ("2.0", "2", Outcome.ACCEPTED),                          # Python ==
    ("True", "true", Outcome.ACCEPTED),
    ("None", "null", Outcome.ACCEPTED),
    ("'ab'", '"ab"', Outcome.ACCEPTED),
    ("10 ** 30", "1000000000000000000000000000000", Outcome.ACCEPTED),
    ("0.1 + 0.2", "0.3", Outcome.WRONG_ANSWER),              # no float tolerance upstream
])
def test_functional_equality(ret, expected_json, outcome):
    problem = problem_from_record(make_record("3002", platform="leetcode", func_name="g",
                                              tests=[('"x"\n[1, 2]', expected_json)]))
    code = f"class Solution:\n    def g(self, s, xs):\n        assert s == 'x' and xs == [1, 2]\n        return {ret}\n"
    assert grade(code, problem).outcome is outcome


def test_functional_module_level_function_and_missing_method():
    problem = problem_from_record(make_record("3003", platform="leetcode", func_name="h", tests=[("3", "9")]))
    assert grade("def h(x):\n    return x * x\n", problem).outcome is Outcome.ACCEPTED
    v = grade("class Solution:\n    def other(self, x):\n        return x\n", problem)
    assert v.outcome is Outcome.RUNTIME_ERROR and "AttributeError" in v.tests[0].detail
    assert grade("import sys\nsys.exit(0)\n", problem).outcome is Outcome.RUNTIME_ERROR


def test_functional_problem_without_func_name_is_harness_error():
    rec = make_record("3004", platform="leetcode", func_name="h", tests=[("3", "9")])
    rec["metadata"] = "{}"
    assert grade("def h(x): return 9", problem_from_record(rec)).outcome is Outcome.HARNESS_ERROR


def test_programs_are_text_not_executed_by_grader():
    src = functional_program("from __future__ import annotations\nclass Solution: pass", "f")
    assert src.startswith("from __future__ import annotations\n")
    compile(src, "<driver>", "exec")
    assert stdin_program("print(1)").endswith("sys.setrecursionlimit(50000)\nprint(1)")
