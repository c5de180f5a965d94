"""Training data: every format and file type, bad-row reports with file:line, max_samples, deterministic splits."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from codegen_ray.config import SweepConfig, VariantConfig, config_from_dict
from codegen_ray.errors import DataError
from codegen_ray.train.data import ChatExample, LoadReport, load_variant_rows, read_split, split_rows, write_splits


def make_cfg(path: Path | str, **variant) -> tuple[SweepConfig, VariantConfig]:
    cfg = config_from_dict({"data": {"variants": [{"name": "v", "path": str(path), **variant}]}})
    return cfg, cfg.data.variants[0]


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def chat(i: int) -> dict:
    return {"messages": [{"role": "user", "content": f"Print {i}."}, {"role": "assistant", "content": f"print({i})"}]}


# ---------------------------------------------------------------------------------------------------- formats
def test_messages_jsonl_with_system_prompt(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [chat(1), chat(2)])
    cfg, v = make_cfg(path, system_prompt="Be terse.")
    rows = load_variant_rows(cfg, v)
    assert [r.source for r in rows] == [f"{path}:1", f"{path}:2"]
    assert rows[0].messages == (
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Print 1."},
        {"role": "assistant", "content": "print(1)"},
    )
    assert rows[1].text == "Be terse.\nPrint 2.\nprint(2)"


def test_sharegpt_style_messages_via_field_map(tmp_path):
    row = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "print('hi')"}]}
    path = write_jsonl(tmp_path / "d.jsonl", [row])
    cfg, v = make_cfg(path, field_map={"messages": "conversations"})
    (ex,) = load_variant_rows(cfg, v)
    assert ex.messages == ({"role": "user", "content": "hi"}, {"role": "assistant", "content": "print('hi')"})


def test_alpaca_format_with_input_and_field_map(tmp_path):
    rows = [
        {"instruction": "Sum the numbers.", "input": "1 2 3", "answer": "print(6)"},
        {"instruction": "Say hi.", "input": "", "answer": "print('hi')"},
    ]
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    cfg, v = make_cfg(path, format="alpaca", field_map={"output": "answer"})
    a, b = load_variant_rows(cfg, v)
    assert a.messages == ({"role": "user", "content": "Sum the numbers.\n\n1 2 3"},
                          {"role": "assistant", "content": "print(6)"})
    assert b.messages[0] == {"role": "user", "content": "Say hi."}


def test_prompt_completion_json_array_reports_lines(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(
        '[\n  {"prompt": "p1", "completion": "c1"},\n  {"prompt": "p2",\n   "completion": ""}\n]\n', encoding="utf-8"
    )
    cfg, v = make_cfg(path, format="prompt_completion")
    with pytest.raises(DataError) as err:
        load_variant_rows(cfg, v)
    assert f"{path}:3: empty answer" in str(err.value)
    path.write_text('[{"prompt": "p1", "completion": "c1"},\n {"prompt": "p2", "completion": "c2"}]', encoding="utf-8")
    rows = load_variant_rows(cfg, v)
    assert [r.source for r in rows] == [f"{path}:1", f"{path}:2"]
    assert rows[1].messages[1] == {"role": "assistant", "content": "c2"}


def test_parquet_file(tmp_path):
    import pandas as pd

    path = tmp_path / "d.parquet"
    pd.DataFrame({"prompt": ["a", "b"], "completion": ["x", "y"]}).to_parquet(path)
    cfg, v = make_cfg(path, format="prompt_completion")
    rows = load_variant_rows(cfg, v)
    assert [r.messages[-1]["content"] for r in rows] == ["x", "y"]
    assert rows[1].source == f"{path}:2"


def test_builtin_dataset_loads():
    cfg, v = make_cfg("builtin:diverse")
    rows = load_variant_rows(cfg, v)
    assert len(rows) >= 100
    assert all(any(m["role"] == "assistant" for m in r.messages) for r in rows)
    assert rows[0].source.endswith("diverse.jsonl:1")


def test_missing_local_file_is_a_data_error(tmp_path):
    cfg, v = make_cfg(tmp_path / "nope.jsonl")
    with pytest.raises(DataError, match="no such file"):
        load_variant_rows(cfg, v)


# ----------------------------------------------------------------------------------------------------- bad rows
def _bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "bad.jsonl"
    lines = [
        json.dumps(chat(1)),  # 1 ok
        json.dumps({"msgs": []}),  # 2 missing field
        json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "  "}]}),  # 3
        json.dumps({"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "x"}]}),  # 4 type
        "",  # 5 blank: ignored
        json.dumps(chat(6))[:-7],  # 6 truncated JSON
        json.dumps(chat(7)),  # 7 ok
        json.dumps({"messages": "not a list"}),  # 8 wrong type
        json.dumps({"messages": [{"role": "user", "content": "only a question"}]}),  # 9 no answer
    ]
    data = "\n".join(lines).encode() + b"\n" + b'{"messages": "\xff\xfe"}\n'  # 10 non-UTF-8
    path.write_bytes(data)
    return path


def test_bad_rows_fail_lists_first_five_with_file_and_line(tmp_path):
    path = _bad_file(tmp_path)
    cfg, v = make_cfg(path)
    with pytest.raises(DataError) as err:
        load_variant_rows(cfg, v)
    msg = str(err.value)
    assert err.value.line == 2
    assert "7 bad row(s)" in msg
    assert f"{path}:2: missing field 'messages'" in msg
    assert f"{path}:3: empty answer" in msg
    assert f"{path}:4: messages[0].content must be a string, got int" in msg
    assert f"{path}:6: invalid JSON" in msg
    assert f"{path}:8: messages must be a list" in msg
    assert f"{path}:9" not in msg and "and 2 more" in msg
    assert "data.bad_rows=skip" in msg


def test_bad_rows_skip_counts_and_logs(tmp_path, caplog):
    path = _bad_file(tmp_path)
    cfg, v = make_cfg(path)
    cfg.data.bad_rows = "skip"
    report = LoadReport(source="")
    with caplog.at_level("WARNING"):
        rows = load_variant_rows(cfg, v, report)
    assert [r.source for r in rows] == [f"{path}:1", f"{path}:7"]
    assert report.num_bad == 7
    assert [b.line for b in report.bad_rows] == [2, 3, 4, 6, 8, 9, 10]
    assert "not valid UTF-8" in report.bad_rows[-1].message
    assert "no assistant turn" in report.bad_rows[-2].message
    assert "skipping 7 bad row(s)" in caplog.text


def test_max_samples_is_a_seeded_deterministic_subset(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [chat(i) for i in range(50)])
    cfg, v = make_cfg(path, max_samples=10)
    report = LoadReport(source="")
    a = load_variant_rows(cfg, v, report)
    b = load_variant_rows(cfg, v)
    assert len(a) == 10 and a == b and report.capped_from == 50
    lines = [int(r.source.rsplit(":", 1)[1]) for r in a]
    assert lines == sorted(lines) and lines != list(range(1, 11))  # shuffled pick, file order kept
    cfg.data.split_seed += 1
    assert load_variant_rows(cfg, v) != a


# -------------------------------------------------------------------------------------------------------- split
def _examples(n: int) -> list[ChatExample]:
    return [ChatExample(({"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}), f"f:{i}")
            for i in range(n)]


def test_split_is_deterministic_order_independent_and_sized():
    cfg = config_from_dict({"data": {"variants": [{"name": "v", "path": "builtin:deep"}],
                                     "val_fraction": 0.1, "test_fraction": 0.2}})
    rows = _examples(100)
    a = split_rows(rows, cfg.data)
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    b = split_rows(shuffled, cfg.data)
    assert a.sizes == {"train": 70, "val": 10, "test": 20}
    for part in ("train", "val", "test"):
        assert {e.source for e in getattr(a, part)} == {e.source for e in getattr(b, part)}
    # Recorded membership: sha256-based, so the same on every machine and Python version.
    assert sorted(int(e.source[2:]) for e in a.val) == VAL_MEMBERS_SEED_1234
    cfg.data.split_seed = 99
    c = split_rows(rows, cfg.data)
    assert {e.source for e in c.val} != {e.source for e in a.val}


VAL_MEMBERS_SEED_1234 = [6, 7, 21, 40, 45, 47, 58, 71, 77, 92]


def test_split_keeps_duplicates_together_and_always_validates():
    cfg = config_from_dict({"data": {"variants": [{"name": "v", "path": "builtin:deep"}], "val_fraction": 0.1}})
    base = _examples(9)
    dupes = [ChatExample(base[i].messages, f"dup:{i}") for i in range(9)]
    s = split_rows(base + dupes, cfg.data)
    val_keys = {e.key for e in s.val}
    assert not val_keys & {e.key for e in s.train}
    assert len(s.val) >= 2 and len(s.val) % 2 == 0
    tiny = split_rows(_examples(3), cfg.data)
    assert tiny.sizes == {"train": 2, "val": 1, "test": 0}
    with pytest.raises(DataError, match="no training rows"):
        split_rows(_examples(1), cfg.data)


def test_written_splits_round_trip(tmp_path):
    cfg = config_from_dict({"data": {"variants": [{"name": "v", "path": "builtin:deep"}], "val_fraction": 0.2}})
    s = split_rows(_examples(20), cfg.data)
    paths = write_splits(s, tmp_path / "data")
    assert read_split(paths["train"]) == s.train
    assert read_split(paths["val"]) == s.val
    assert paths["test"].read_text() == ""
