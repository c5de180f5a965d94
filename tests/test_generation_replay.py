"""The replay generation backend on its own (no Ray, no model): the file format and its errors, what it serves, the
coverage check the sweep's preflight runs, and that the replay file's content keys the evaluation results."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from codegen_ray.config import GenerationConfig, load_config
from codegen_ray.errors import DataError
from codegen_ray.generation import base, factory
from codegen_ray.generation.replay_backend import ReplayBackend, ReplayMissingError, ReplayTable
from codegen_ray.types import CheckpointRef, Prompt, SamplingSettings


def _write(path, rows) -> str:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return str(path)


def _row(variant, step, qid, *completions):
    return {"variant": variant, "step": step, "question_id": qid, "completions": list(completions)}


ROWS = [_row("base", 0, "q1", "base q1"), _row("base", 0, "q2", "base q2"),
        _row("deep", 3, "q1", "deep3 q1"), _row("deep", 3, "q2", "deep3 q2")]


def test_import_is_lazy():
    code = ("import sys, codegen_ray.generation, codegen_ray.generation.base;"
            "print('codegen_ray.generation.replay_backend' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_backend_serves_the_rows(tmp_path):
    path = _write(tmp_path / "r.jsonl", ROWS)
    backend = factory.make_backend("replay", "unused-model", GenerationConfig(backend="replay", replay_path=path), "auto")
    assert isinstance(backend, ReplayBackend) and backend.name == "replay"
    prompts = [Prompt("q2", text="..."), Prompt("q1", text="...")]
    got = backend.generate(prompts, SamplingSettings(n=1), CheckpointRef("deep", 3, 1, adapter_path="/x"))
    assert [[c.text for c in row] for row in got] == [["deep3 q2"], ["deep3 q1"]]
    assert [(c.question_id, c.sample_index, c.finish_reason) for row in got for c in row] == [
        ("q2", 0, "stop"), ("q1", 0, "stop")]
    base_rows = backend.generate(prompts[:1], SamplingSettings(n=1), CheckpointRef("base", 0, 0))
    assert base_rows[0][0].text == "base q2"


def test_several_samples_in_order(tmp_path):
    path = _write(tmp_path / "r.jsonl", [_row("deep", 3, "q1", "a", "b", "c")])
    backend = ReplayBackend("m", GenerationConfig(backend="replay", replay_path=path))
    (row,) = backend.generate([Prompt("q1", text="")], SamplingSettings(n=3), CheckpointRef("deep", 3, 1, "/x"))
    assert [(c.sample_index, c.text) for c in row] == [(0, "a"), (1, "b"), (2, "c")]
    with pytest.raises(ReplayMissingError, match="3 completion"):
        backend.generate([Prompt("q1", text="")], SamplingSettings(n=2), CheckpointRef("deep", 3, 1, "/x"))


def test_missing_row_names_variant_step_and_question(tmp_path):
    backend = ReplayBackend("m", GenerationConfig(backend="replay", replay_path=_write(tmp_path / "r.jsonl", ROWS)))
    with pytest.raises(ReplayMissingError) as err:
        backend.generate([Prompt("q1", text="")], SamplingSettings(n=1), CheckpointRef("deep", 6, 2, "/x"))
    assert "variant 'deep', step 6, question 'q1'" in str(err.value)


@pytest.mark.parametrize("line, message", [
    ('{"variant": "deep", "step": 3, "question_id": "q1"}', "missing field 'completions'"),
    ('{"variant": "deep", "step": "3", "question_id": "q1", "completions": ["x"]}', "step must be an integer"),
    ('{"variant": "deep", "step": -1, "question_id": "q1", "completions": ["x"]}', "step must be an integer"),
    ('{"variant": "", "step": 3, "question_id": "q1", "completions": ["x"]}', "variant must be"),
    ('{"variant": "deep", "step": 3, "question_id": 7, "completions": ["x"]}', "question_id must be"),
    ('{"variant": "deep", "step": 3, "question_id": "q1", "completions": "x"}', "completions must be"),
    ('{"variant": "deep", "step": 3, "question_id": "q1", "completions": []}', "completions must be"),
    ('{"variant": "base", "step": 2, "question_id": "q1", "completions": ["x"]}', "base model's rows have step 0"),
    ('{"variant": "base", "step": 0, "question_id": "q1", "completions": ["again"]}', "repeats line 1"),
    ('{"variant": "deep", "step": 3,', "malformed JSON"),
])
def test_bad_rows_name_file_and_line(tmp_path, line, message):
    path = _write(tmp_path / "r.jsonl", [ROWS[0], line])
    with pytest.raises(DataError, match=message) as err:
        ReplayTable.read(path)
    assert f"{path}:2:" in str(err.value)


def test_empty_or_absent_file(tmp_path):
    with pytest.raises(DataError, match="no rows"):
        ReplayTable.read(_write(tmp_path / "empty.jsonl", []))
    with pytest.raises(DataError, match="no such replay file"):
        ReplayTable.read(tmp_path / "absent.jsonl")


def test_check_covers_names_the_first_missing_row(tmp_path):
    table = ReplayTable.read(_write(tmp_path / "r.jsonl", ROWS + [_row("deep", 6, "q1", "x")]))
    table.check_covers([("base", 0), ("deep", 3)], ["q1", "q2"], n=1)  # covered
    with pytest.raises(DataError) as err:
        table.check_covers([("base", 0), ("deep", 3), ("deep", 6), ("diverse", 2)], ["q1", "q2"], n=1)
    msg = str(err.value)
    assert "no row for variant 'deep', step 6, question 'q2'" in msg and "(2 more rows missing)" in msg
    with pytest.raises(DataError, match=r"r.jsonl:3: variant 'deep', step 3, question 'q1': 1 completion\(s\), but "
                                        r"generation.n is 2"):
        table.check_covers([("deep", 3)], ["q1"], n=2)


def test_evaluation_key_follows_the_replay_files_content(tmp_path):
    from codegen_ray.sweep import evaluation_key

    path = tmp_path / "r.jsonl"
    _write(path, ROWS)
    key = evaluation_key(load_config(None, ["generation.backend=replay", f"generation.replay_path={path}"]))
    assert key != evaluation_key(load_config(None, []))
    moved = tmp_path / "moved.jsonl"
    moved.write_bytes(path.read_bytes())
    assert evaluation_key(load_config(None, ["generation.backend=replay", f"generation.replay_path={moved}"])) == key
    _write(path, ROWS[:-1] + [_row("deep", 3, "q2", "edited")])
    assert evaluation_key(load_config(None, ["generation.backend=replay", f"generation.replay_path={path}"])) != key


def test_replay_is_only_chosen_explicitly():
    assert base.resolve_backend_kind("replay", GenerationConfig(backend="replay", replay_path="x")) == "replay"
    assert base.resolve_backend_kind("auto", GenerationConfig()) in ("hf", "vllm")
