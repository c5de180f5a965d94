"""LiveCodeBench grading rules, reproduced from ``lcb_runner/evaluation/testing_util.py``, with real processes.

* stdin problems: the candidate runs as its own ``python3`` process (through an :class:`Executor`) with the test
  input on its real stdin; its real stdout is compared with :func:`compare_stdout`.
* functional (LeetCode-style) problems: the candidate is wrapped in a small driver program (:func:`functional_program`)
  that reads the arguments as JSON from stdin, calls ``Solution().<func_name>(*args)`` and writes a typed JSON
  encoding of the return value; the grader decodes it and compares it with ``==`` to the expected JSON value
  (a returned tuple counts as a list), as upstream does. The grader never executes candidate code itself.

Like upstream, every candidate gets the same implicit imports (``from math import *``, ``import sys``, ...) and
``sys.setrecursionlimit(50000)`` before its first line, so a program that forgot ``import sys`` behaves as it
does under lcb_runner.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from ..execution.base import Executor, Limits, RunResult, RunStatus, Session, open_session
from ..execution.program import Program, split_future
from ..types import Outcome, Problem, ProgramVerdict, TestType, TestVerdict


@dataclass(frozen=True)
class GradingOptions:
    limits: Limits = field(default_factory=Limits)
    stop_at_first_failure: bool = True  # like lcb_runner
    float_tolerance: Optional[float] = None  # opt-in; None = exact Decimal comparison (lcb_runner)

    @classmethod
    def from_execution_config(cls, exec_cfg: Any) -> "GradingOptions":
        """Limits and comparison options from an :class:`~codegen_ray.config.ExecutionConfig`."""
        from ..execution.factory import limits_from_config

        limits = limits_from_config(exec_cfg)
        return cls(
            limits=limits,
            stop_at_first_failure=bool(exec_cfg.stop_at_first_failure),
            float_tolerance=exec_cfg.float_tolerance,
        )


# ------------------------------------------------------------------------------------------------ stdout comparison
def _stripped_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().split("\n")]


def _as_decimals(line: str) -> Optional[list[Decimal]]:
    try:
        return [Decimal(tok) for tok in line.split()]
    except (InvalidOperation, ValueError):
        return None


def _decimals_equal(a: list[Decimal], b: list[Decimal]) -> bool:
    try:
        return a == b
    except InvalidOperation:  # signaling NaN
        return False


def _within_tolerance(a: list[Decimal], b: list[Decimal], tol: float) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        try:
            if x == y:
                continue
            fx, fy = float(x), float(y)
        except (InvalidOperation, ValueError, OverflowError):
            return False
        if math.isnan(fx) or math.isnan(fy) or abs(fx - fy) > tol * max(1.0, abs(fy)):
            return False
    return True


def compare_stdout_detail(actual: str, expected: str, float_tolerance: Optional[float] = None) -> tuple[bool, str]:
    """:func:`compare_stdout` plus a short reason when they differ."""
    if actual == expected:  # the common case, decided without splitting (a 1 MB output is 100k lines)
        return True, ""
    got, want = _stripped_lines(actual), _stripped_lines(expected)
    if len(got) != len(want):
        return False, f"output has {len(got)} line(s), expected {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        if g == w:
            continue
        gd, wd = _as_decimals(g), _as_decimals(w)
        if gd is not None and wd is not None:
            if _decimals_equal(gd, wd):
                continue
            if float_tolerance is not None and _within_tolerance(gd, wd, float_tolerance):
                continue
        return False, f"line {i + 1}: got {_clip(g)!r}, expected {_clip(w)!r}"
    return True, ""


def compare_stdout(actual: str, expected: str, float_tolerance: Optional[float] = None) -> bool:
    """lcb_runner's stdin rule: whole output stripped, split on '\\n', each line stripped; same line count; a line
    matches if equal as strings, else if every whitespace-separated token of both parses as ``Decimal`` and the
    token lists are equal. ``float_tolerance`` (opt-in, not upstream) also accepts numeric tokens within
    ``tol * max(1, |expected|)``."""
    return compare_stdout_detail(actual, expected, float_tolerance)[0]


def _clip(text: str, length: int = 80) -> str:
    return text if len(text) <= length else text[: length // 2] + "..." + text[-length // 2 :]


# ------------------------------------------------------------------------------------------------- program building
# lcb_runner runs every candidate after these statements (its ``import_string``); same modules, same order.
_STAR_IMPORTS = (
    "string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random", "statistics",
    "itertools", "functools", "operator", "io", "sys", "json", "builtins", "typing",
)
_MODULE_IMPORTS = (
    "string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random", "statistics",
    "itertools", "functools", "operator", "io", "sys", "json",
)
PRELUDE = (
    "".join(f"from {m} import *\n" for m in _STAR_IMPORTS)
    + "".join(f"import {m}\n" for m in _MODULE_IMPORTS)
    + "sys.setrecursionlimit(50000)\n"
)


def stdin_program(code: str) -> str:
    """The program run for a stdin problem: the candidate after lcb_runner's implicit imports."""
    return _stdin(code).text()


def _stdin(code: str) -> Program:
    return Program(code, PRELUDE)


# The driver keeps the real stdout for itself: candidate prints go to stderr (fd 1 → fd 2) so they cannot corrupt
# the result. Arguments arrive as one JSON list on stdin.
_DRIVER_HEAD = """\
import os as _cgr_os, sys as _cgr_sys, json as _cgr_json
_cgr_args = _cgr_json.loads(_cgr_sys.stdin.read())
_cgr_sys.stdout.flush()
_cgr_result_fd = _cgr_os.dup(1)
_cgr_os.dup2(2, 1)
"""
_DRIVER_TAIL = """
def _cgr_encode(value, top=False):
    if value is None or type(value) in (bool, int, float, str):
        return value
    for _base in (bool, int, float, str):
        if isinstance(value, _base):
            return _base(value)
    if isinstance(value, tuple) and top:
        value = list(value)
    if isinstance(value, list):
        return [_cgr_encode(v) for v in value]
    if isinstance(value, tuple):
        return {"t": "tuple", "v": [_cgr_encode(v) for v in value]}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[_cgr_encode(k), _cgr_encode(v)] for k, v in value.items()]}
    return {"t": "opaque", "r": repr(value)[:200]}

def _cgr_main():
    _cls = globals().get("Solution")
    if isinstance(_cls, type):
        _fn = getattr(_cls(), __FUNC_NAME__)
    else:
        _fn = globals()[__FUNC_NAME__]
    _result = _fn(*_cgr_args)
    _payload = _cgr_json.dumps(_cgr_encode(_result, top=True)).encode()
    _view = memoryview(_payload)
    while _view:
        _view = _view[_cgr_os.write(_cgr_result_fd, _view):]

_cgr_main()
"""


def functional_program(code: str, func_name: str) -> str:
    """Driver program for a functional problem. Its stdin is ``json.dumps(args)`` (see :func:`functional_stdin`)."""
    return _functional(code, func_name).text()


def _functional(code: str, func_name: str) -> Program:
    head, rest = split_future(code)
    driver = head + _DRIVER_HEAD + rest + "\n" + _DRIVER_TAIL.replace("__FUNC_NAME__", repr(func_name))
    return Program(driver, PRELUDE)


def functional_args(test_input: str) -> list[Any]:
    """Arguments of a functional test: one JSON value per line (upstream splits on '\\n' exactly)."""
    return [json.loads(line) for line in test_input.split("\n")]


def functional_stdin(test_input: str) -> str:
    return json.dumps(functional_args(test_input))


class _Opaque:
    """A returned value JSON cannot carry (set, custom object...): equal to nothing, as upstream's ``==`` would be."""

    def __init__(self, text: str):
        self.text = text

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return self.text


def decode_functional_result(payload: str) -> Any:
    """Inverse of the driver's encoding: tuples stay tuples, dict keys keep their types."""

    def dec(node: Any) -> Any:
        if isinstance(node, list):
            return [dec(v) for v in node]
        if isinstance(node, dict):
            tag = node.get("t")
            if tag == "tuple":
                return tuple(dec(v) for v in node["v"])
            if tag == "dict":
                return {_hashable(dec(k)): dec(v) for k, v in node["v"]}
            return _Opaque(str(node.get("r", "?")))
        return node

    return dec(json.loads(payload))


def _hashable(key: Any) -> Any:
    return key if not isinstance(key, list) else _Opaque(repr(key))


def functional_equal(actual: Any, expected: Any) -> bool:
    try:
        return bool(actual == expected)
    except Exception:  # noqa: BLE001 - exotic values: not equal
        return False


# ---------------------------------------------------------------------------------------------------------- grading
STATUS_OUTCOME = {  # a run's status -> the test's outcome (also HumanEval's)
    RunStatus.COMPILE_ERROR: Outcome.COMPILE_ERROR,
    RunStatus.TIME_LIMIT: Outcome.TIME_LIMIT,
    RunStatus.MEMORY_LIMIT: Outcome.MEMORY_LIMIT,
    RunStatus.OUTPUT_LIMIT: Outcome.OUTPUT_LIMIT,
    RunStatus.HARNESS_ERROR: Outcome.HARNESS_ERROR,
    RunStatus.SIGNALED: Outcome.RUNTIME_ERROR,
}


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return _clip(lines[-1], 160) if lines else ""


def _verdict_from_run(index: int, result: RunResult, outcome: Outcome, detail: str) -> TestVerdict:
    return TestVerdict(index=index, outcome=outcome, cpu_time_s=result.cpu_time_s,
                       wall_time_s=result.wall_time_s, detail=detail)


@dataclass(frozen=True)
class _PreparedTest:
    program: Program
    stdin: str
    expected: Any  # the decoded JSON value (functional) or the expected stdout


def _prepare(problem: Problem, index: int, code: str,
             programs: dict[TestType, Program]) -> "_PreparedTest | TestVerdict":
    """What to run for test ``index`` (programs are built once per test type), or its harness-error verdict."""
    test = problem.tests[index]
    if test.testtype is TestType.FUNCTIONAL:
        func_name = problem.metadata.get("func_name")
        if not func_name:
            return TestVerdict(index, Outcome.HARNESS_ERROR, detail="functional problem without metadata.func_name")
        try:
            stdin = functional_stdin(test.input)
            expected: Any = json.loads(test.output)
        except json.JSONDecodeError as err:
            return TestVerdict(index, Outcome.HARNESS_ERROR, detail=f"test {index} is not JSON: {err}")
        if test.testtype not in programs:
            programs[test.testtype] = _functional(code, str(func_name))
        return _PreparedTest(programs[test.testtype], stdin, expected)
    if test.testtype not in programs:
        programs[test.testtype] = _stdin(code)
    return _PreparedTest(programs[test.testtype], test.input, test.output)


def _judge(index: int, testtype: TestType, result: RunResult, expected: Any, options: GradingOptions) -> TestVerdict:
    if result.status is RunStatus.EXITED and result.exit_code == 0:
        if testtype is TestType.FUNCTIONAL:
            try:
                actual = decode_functional_result(result.stdout)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                return _verdict_from_run(index, result, Outcome.RUNTIME_ERROR,
                                         "the solution exited before returning a value")
            if functional_equal(actual, expected):
                return _verdict_from_run(index, result, Outcome.ACCEPTED, "")
            return _verdict_from_run(index, result, Outcome.WRONG_ANSWER,
                                     f"returned {_clip(repr(actual))}, expected {_clip(repr(expected))}")
        ok, detail = compare_stdout_detail(result.stdout, expected, options.float_tolerance)
        return _verdict_from_run(index, result, Outcome.ACCEPTED if ok else Outcome.WRONG_ANSWER, detail)
    if result.status is RunStatus.EXITED:
        detail = f"exit status {result.exit_code}"
        tail = _last_line(result.stderr_tail)
        return _verdict_from_run(index, result, Outcome.RUNTIME_ERROR, f"{detail}: {tail}" if tail else detail)
    outcome = STATUS_OUTCOME.get(result.status, Outcome.HARNESS_ERROR)
    detail = result.detail or _last_line(result.stderr_tail)
    if result.status is RunStatus.SIGNALED and result.signal is not None:
        detail = f"killed by signal {result.signal}" + (f": {detail}" if detail else "")
    return _verdict_from_run(index, result, outcome, detail)


def grade_test(problem: Problem, index: int, code: str, executor: Executor, options: GradingOptions) -> TestVerdict:
    """Run ``code`` on test ``index`` of ``problem`` and judge it."""
    prepared = _prepare(problem, index, code, {})
    if isinstance(prepared, TestVerdict):
        return prepared
    with open_session(executor, prepared.program, options.limits) as session:
        result = session.run(prepared.stdin, last=True)
    return _judge(index, problem.tests[index].testtype, result, prepared.expected, options)


@dataclass(frozen=True)
class LcbGrader:
    """:func:`grade_program` with fixed options: the ``execution.pool.ProgramGrader`` of LiveCodeBench problems
    (picklable, so the execution pool's actors can call it)."""

    options: GradingOptions = field(default_factory=GradingOptions)

    @classmethod
    def from_execution_config(cls, exec_cfg: Any) -> "LcbGrader":
        return cls(GradingOptions.from_execution_config(exec_cfg))

    def __call__(self, problem: Problem, code: str, sample_index: int, executor: Executor) -> ProgramVerdict:
        return grade_program(problem, code, executor, self.options, sample_index)


def grade_program(problem: Problem, code: str, executor: Executor, options: GradingOptions,
                  sample_index: int = 0) -> ProgramVerdict:
    """Judge one program on every test of ``problem`` (public first, then private), stopping at the first
    non-accepted test unless ``options.stop_at_first_failure`` is false. The program's outcome is its first
    non-accepted test's outcome. An empty program is a compile error and is not run. All tests of one program run
    in one executor session (:func:`~codegen_ray.execution.base.open_session`)."""
    iso = getattr(executor, "isolation", "")
    isolation = str(getattr(iso, "value", iso))

    def verdict(outcome: Outcome, tests: tuple[TestVerdict, ...]) -> ProgramVerdict:
        return ProgramVerdict(problem.question_id, sample_index, outcome, tests, isolation)

    if not code.strip():
        return verdict(Outcome.COMPILE_ERROR, (TestVerdict(0, Outcome.COMPILE_ERROR, detail="empty program"),))
    if not problem.tests:
        return verdict(Outcome.HARNESS_ERROR, (TestVerdict(0, Outcome.HARNESS_ERROR, detail="problem has no tests"),))
    results: list[TestVerdict] = []
    first_failure: Optional[Outcome] = None
    programs: dict[TestType, Program] = {}
    session: Optional[Session] = None
    running: Optional[Program] = None
    try:
        for index, test in enumerate(problem.tests):
            prepared = _prepare(problem, index, code, programs)
            if isinstance(prepared, TestVerdict):
                tv = prepared
            else:
                if session is None or running is not prepared.program:
                    if session is not None:
                        session.close()
                    session, running = open_session(executor, prepared.program, options.limits), prepared.program
                result = session.run(prepared.stdin, last=index == len(problem.tests) - 1)
                tv = _judge(index, test.testtype, result, prepared.expected, options)
            results.append(tv)
            if tv.outcome is not Outcome.ACCEPTED and first_failure is None:
                first_failure = tv.outcome
                if options.stop_at_first_failure:
                    break
    finally:
        if session is not None:
            session.close()
    return verdict(first_failure or Outcome.ACCEPTED, tuple(results))
