"""grade_samples end to end (real processes), the _eval_all.json shape, and input errors that leave no file."""

from __future__ import annotations

import json
import os

import pytest

from codegen_ray.config import ExecutionConfig
from codegen_ray.errors import DataError
from codegen_ray.execution import make_executor
from codegen_ray.lcb.compat import eval_all_records, write_eval_all
from codegen_ray.lcb.grade_cli import grade_samples
from codegen_ray.lcb.grading import GradingOptions
from codegen_ray.lcb.records import problem_from_record
from codegen_ray.types import Outcome, ProgramVerdict
from codegen_ray.types import TestVerdict as Verdict
from test_lcb_support import REFERENCE_SOLUTIONS, LocalExecutor, fixture_records, write_jsonl

CFG = ExecutionConfig(timeout_s=2.0, wall_timeout_factor=2.0, memory_mb=512)


def local_factory(cfg):
    return LocalExecutor()


@pytest.fixture()
def problems_file(tmp_path):
    return write_jsonl(tmp_path / "problems.jsonl", fixture_records())


def write_samples(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_reference_solutions_score_100_percent(tmp_path, problems_file):
    rows = [{"question_id": q, "code_list": [c]} for q, c in sorted(REFERENCE_SOLUTIONS.items())]
    samples = write_samples(tmp_path / "samples.jsonl", rows)
    out = tmp_path / "out" / "x_eval_all.json"
    report = grade_samples(problems_file, samples, out, CFG, workers=2, executor_factory=local_factory)
    assert report.pass_at_1 == 1.0 and report.solved == report.total == 5
    assert report.outcome_counts == {"accepted": 5} and report.missing == []
    assert "pass@1 100.00%" in report.describe() and "solved 5/5" in report.describe()
    data = json.loads(out.read_text())
    assert [r["question_id"] for r in data] == sorted(REFERENCE_SOLUTIONS)
    rec = data[1]
    assert set(rec) == {"question_title", "question_content", "platform", "question_id", "contest_id",
                        "contest_date", "starter_code", "difficulty", "output_list", "code_list",
                        "graded_list", "pass@1", "metadata"}
    assert rec["graded_list"] == [True] and rec["pass@1"] == 1.0 and rec["contest_date"] == "2024-07-06T00:00:00"
    assert "execution time" in json.loads(rec["metadata"][0])
    assert rec["output_list"] == rec["code_list"]


def test_broken_programs_get_expected_outcomes(tmp_path, problems_file):
    broken = {
        "abc361_a": ("print(0)", Outcome.WRONG_ANSWER),
        "abc362_b": ("n = int(input()\n", Outcome.COMPILE_ERROR),
        "abc370_c": ("raise SystemExit(2)", Outcome.RUNTIME_ERROR),
        "abc390_a": ("while True: pass", Outcome.TIME_LIMIT),
        "3000": ("class Solution:\n    def twoSum(self, nums, target):\n        return [1, 0]", Outcome.WRONG_ANSWER),
    }
    rows = [{"question_id": q, "output_list": [f"Sure:\n```python\n{c}\n```\n"]} for q, (c, _) in broken.items()]
    samples = write_samples(tmp_path / "samples.jsonl", rows)
    out = tmp_path / "eval_all.json"
    cfg = ExecutionConfig(timeout_s=1.0, wall_timeout_factor=2.0, memory_mb=512)
    report = grade_samples(problems_file, samples, out, cfg, workers=2, executor_factory=local_factory)
    got = {q: vs[0].outcome for q, vs in report.verdicts.items()}
    assert got == {q: o for q, (_, o) in broken.items()}
    assert report.pass_at_1 == 0.0 and report.solved == 0
    data = {r["question_id"]: r for r in json.loads(out.read_text())}
    assert data["abc361_a"]["code_list"] == ["print(0)"]
    assert data["abc361_a"]["output_list"][0].startswith("Sure:")
    meta = json.loads(data["abc390_a"]["metadata"][0])
    assert meta["error_code"] == -3 and meta["outcome"] == "time_limit"
    assert json.loads(data["abc361_a"]["metadata"][0])["error_code"] == -2


def test_several_samples_and_pass_at_k(tmp_path, problems_file):
    good, bad = REFERENCE_SOLUTIONS["abc361_a"], "print(0)"
    samples = write_samples(tmp_path / "s.jsonl", [{"question_id": "abc361_a", "code_list": [good, bad, good, bad, bad]}])
    out = tmp_path / "o.json"
    report = grade_samples(problems_file, samples, out, CFG, workers=1, executor_factory=local_factory)
    assert report.pass_at_1 == pytest.approx(0.4) and report.pass_at_k.mean[5] == 1.0
    assert len(report.missing) == 4
    rec = json.loads(out.read_text())[0]
    assert rec["graded_list"] == [True, False, True, False, False] and rec["pass@1"] == pytest.approx(0.4)


@pytest.mark.parametrize("content,message", [
    ('{"question_id": "abc361_a", "code_list": ["print(3)"]}\n{"question_id": "nope", "code_list": ["x"]}\n',
     r"samples.jsonl:2: unknown question_id 'nope'"),
    ('{"question_id": "abc361_a", "code_list": ["print(3)"]}\n\n{"question_id": \n',
     r"samples.jsonl:3: malformed JSON"),
    ('{"question_id": "abc361_a"}\n', r"samples.jsonl:1: missing field code_list"),
    ('{"code_list": ["x"]}\n', r"samples.jsonl:1: missing field question_id"),
    ('{"question_id": "abc361_a", "code_list": "print(3)"}\n', r"samples.jsonl:1: code_list must be a list"),
    ('{"question_id": "abc361_a", "code_list": ["a"]}\n{"question_id": "abc361_a", "code_list": ["b"]}\n',
     r"samples.jsonl:2: question_id 'abc361_a' repeats line 1"),
])
def test_bad_samples_are_data_errors_and_write_nothing(tmp_path, problems_file, content, message):
    samples = tmp_path / "samples.jsonl"
    samples.write_text(content)
    out = tmp_path / "out.json"
    with pytest.raises(DataError, match=message) as err:
        grade_samples(problems_file, samples, out, CFG, workers=1, executor_factory=local_factory)
    assert err.value.exit_code == 2
    assert sorted(os.listdir(tmp_path)) == ["problems.jsonl", "samples.jsonl"]  # no output, no temp file


def test_non_utf8_samples_name_file_and_line(tmp_path, problems_file):
    samples = tmp_path / "samples.jsonl"
    samples.write_bytes(b'{"question_id": "abc361_a", "code_list": ["print(3)"]}\n{"question_id": "\xff"}\n')
    with pytest.raises(DataError, match=r"samples.jsonl:2: not valid UTF-8"):
        grade_samples(problems_file, samples, tmp_path / "out.json", CFG, workers=1, executor_factory=local_factory)
    assert sorted(os.listdir(tmp_path)) == ["problems.jsonl", "samples.jsonl"]


def test_missing_problems_file(tmp_path):
    samples = write_samples(tmp_path / "s.jsonl", [{"question_id": "x", "code_list": ["1"]}])
    with pytest.raises(DataError, match="no such file"):
        grade_samples(tmp_path / "none.jsonl", samples, tmp_path / "o.json", CFG, 1, executor_factory=local_factory)


def test_problems_directory(tmp_path):
    d = tmp_path / "mirror"
    d.mkdir()
    recs = fixture_records()
    write_jsonl(d / "test.jsonl", recs[:2])
    write_jsonl(d / "test2.jsonl", recs[2:])
    samples = write_samples(tmp_path / "s.jsonl", [{"question_id": "3000", "code_list": [REFERENCE_SOLUTIONS["3000"]]}])
    report = grade_samples(d, samples, tmp_path / "o.json", CFG, 1, executor_factory=local_factory)
    assert report.solved == 1 and report.total == 1


def test_write_eval_all_is_atomic_and_checks_counts(tmp_path):
    problem = problem_from_record(fixture_records()[0])
    v = ProgramVerdict("abc361_a", 0, Outcome.ACCEPTED, (Verdict(0, Outcome.ACCEPTED, wall_time_s=0.1),), "rlimits")
    out = tmp_path / "e.json"
    out.write_text("old")
    with pytest.raises(ValueError):
        write_eval_all(out, [problem], {}, {"abc361_a": ["a", "b"]}, [v])
    assert out.read_text() == "old"  # untouched on error
    write_eval_all(out, [problem], {"abc361_a": ["raw"]}, {"abc361_a": ["a"]}, [v])
    assert json.loads(out.read_text())[0]["output_list"] == ["raw"]
    assert [p.name for p in tmp_path.iterdir()] == ["e.json"]  # no temp files left behind
    rec = eval_all_records([problem], {}, {"abc361_a": ["a"]}, [v])[0]
    assert rec["graded_list"] == [True] and rec["output_list"] == ["a"]


def test_grading_options_from_execution_config():
    opts = GradingOptions.from_execution_config(ExecutionConfig(timeout_s=4, wall_timeout_factor=3.0, memory_mb=256,
                                                                output_limit_kb=10, stop_at_first_failure=False,
                                                                float_tolerance=1e-6))
    assert opts.limits.cpu_time_s == 4 and opts.limits.wall_time_s == 13.0 and opts.limits.memory_mb == 256
    assert opts.limits.output_limit_bytes == 10240 and not opts.stop_at_first_failure and opts.float_tolerance == 1e-6


# ------------------------------------------------------------------------------- the embedded benchmark, end to end
REPO = __import__("pathlib").Path(__file__).resolve().parent.parent
BUILTIN = REPO / "codegen_ray" / "assets" / "data" / "atcoder_mini.jsonl"
REFERENCE = REPO / "tests" / "data" / "reference_solutions.jsonl"
BROKEN = REPO / "tests" / "data" / "broken_solutions.jsonl"


def test_builtin_benchmark_reference_solutions_score_100(tmp_path):
    report = grade_samples(BUILTIN, REFERENCE, tmp_path / "ref_eval_all.json", CFG, workers=2,
                           executor_factory=make_executor)
    assert report.total > 0 and report.solved == report.total and report.pass_at_1 == 1.0, report.outcome_counts


def test_builtin_benchmark_broken_solutions_get_their_outcomes(tmp_path):
    expected = {}
    for line in BROKEN.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            expected[row["question_id"]] = row["expected_outcome"]
    cfg = ExecutionConfig(timeout_s=1.0, wall_timeout_factor=2.0, memory_mb=512)
    report = grade_samples(BUILTIN, BROKEN, tmp_path / "broken_eval_all.json", cfg, workers=2,
                           executor_factory=make_executor)
    got = {qid: vs[0].outcome.value for qid, vs in report.verdicts.items()}
    assert got == expected


def test_write_eval_all_accepts_aligned_sequences_and_nested_verdicts(tmp_path):
    # the sweep's call shape: lists aligned with the problems, one verdict list per problem
    problems = [problem_from_record(r) for r in fixture_records()[:2]]
    verdicts = [[ProgramVerdict(p.question_id, i, outcome, (Verdict(0, outcome),), "bubblewrap")
                 for i, outcome in enumerate((Outcome.ACCEPTED, Outcome.TIME_LIMIT))] for p in problems]
    out = write_eval_all(tmp_path / "a_eval_all.json", problems, [["r0", "r1"], ["s0", "s1"]],
                         [["c0", "c1"], ["d0", "d1"]], verdicts)
    data = json.loads(out.read_text())
    assert [r["question_id"] for r in data] == ["abc361_a", "abc362_b"]
    assert data[1]["output_list"] == ["s0", "s1"] and data[1]["code_list"] == ["d0", "d1"]
    assert data[0]["graded_list"] == [True, False] and data[0]["pass@1"] == 0.5
    assert json.loads(data[0]["metadata"][1])["error_code"] == -3
    with pytest.raises(ValueError, match="2 entries for 1 problems"):
        write_eval_all(tmp_path / "b.json", problems[:1], [["r"], ["s"]], [["c"]], verdicts[:1])


# --------------------------------------------------------------------------- persistent harness errors (not scored)
def test_harness_errors_are_counted_apart_not_scored_and_write_nothing(tmp_path):
    from test_lcb_support import make_record

    # A problem without tests cannot be graded: a harness error whatever the program (it is never a wrong answer).
    problems = write_jsonl(tmp_path / "problems.jsonl", fixture_records() + [make_record("zz_no_tests", tests=[])])
    rows = [{"question_id": "abc361_a", "code_list": [REFERENCE_SOLUTIONS["abc361_a"]]},
            {"question_id": "abc362_b", "code_list": ["print(0)"]},
            {"question_id": "zz_no_tests", "code_list": ["print(1)", "print(2)"]}]
    samples = write_samples(tmp_path / "s.jsonl", rows)
    out = tmp_path / "out_eval_all.json"
    report = grade_samples(problems, samples, out, CFG, workers=1, executor_factory=local_factory)
    assert not report.ok and report.harness_errors == 2 and report.harness_problems == ["zz_no_tests"]
    # The score covers the problems that could be graded; the harness errors are not counted as wrong answers.
    assert report.total == 2 and report.solved == 1 and report.pass_at_1 == 0.5
    assert report.outcome_counts == {"accepted": 1, "wrong_answer": 1, "harness_error": 2}
    text = report.describe()
    assert "on the 2 problem(s) without harness errors" in text
    assert "harness errors: 2 sample(s) in 1 problem(s)" in text and "zz_no_tests" in text
    assert "no result file written" in text
    assert report.output_path is None and not out.exists()


def test_grade_cli_exits_1_while_harness_errors_remain(tmp_path, capsys):
    from codegen_ray import cli
    from test_lcb_support import make_record

    problems = write_jsonl(tmp_path / "problems.jsonl", fixture_records() + [make_record("zz_no_tests", tests=[])])
    good = write_samples(tmp_path / "good.jsonl", [{"question_id": "abc361_a",
                                                    "code_list": [REFERENCE_SOLUTIONS["abc361_a"]]}])
    bad = write_samples(tmp_path / "bad.jsonl", [{"question_id": "abc361_a",
                                                  "code_list": [REFERENCE_SOLUTIONS["abc361_a"]]},
                                                 {"question_id": "zz_no_tests", "code_list": ["print(1)"]}])
    argv = ["grade", "--problems", str(problems), "--timeout", "2", "--workers", "1", "--output"]
    capsys.readouterr()
    assert cli.main([*argv, str(tmp_path / "good_eval_all.json"), "--samples", str(good)]) == 0
    assert "harness" not in capsys.readouterr().out and (tmp_path / "good_eval_all.json").is_file()
    assert cli.main([*argv, str(tmp_path / "bad_eval_all.json"), "--samples", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "harness errors: 1 sample(s) in 1 problem(s)" in out and "zz_no_tests" in out
    assert "harness_error=1" in out and not (tmp_path / "bad_eval_all.json").exists()
