"""Loader: sources, release tags, filters, preset, error messages, restricted unpickler."""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from pathlib import Path

import pytest

from codegen_ray.config import BenchmarkConfig
from codegen_ray.errors import ConfigError, DataError
from codegen_ray.lcb import dataset
from codegen_ray.lcb.dataset import load_problems, load_problems_file, release_files
from codegen_ray.lcb.records import RecordError, decode_private_tests, problem_from_record
from codegen_ray.types import TestType as LcbTestType
from test_lcb_support import fixture_records, make_record, write_jsonl


@pytest.fixture()
def bench_file(tmp_path) -> Path:
    records = fixture_records()
    return write_jsonl(tmp_path / "problems.jsonl", list(reversed(records)))


def ids(problems):
    return [p.question_id for p in problems]


def test_release_tag_files():
    assert release_files("release_v1") == ["test.jsonl"]
    assert release_files("release_v3") == ["test.jsonl", "test2.jsonl", "test3.jsonl"]
    assert release_files("release_latest") == release_files("release_v6")
    assert len(release_files("release_v6")) == 6 and release_files("release_v6")[-1] == "test6.jsonl"
    assert release_files("v1") == ["test.jsonl"]
    assert release_files("v5") == ["test5.jsonl"]
    assert release_files("v2_v4") == ["test2.jsonl", "test3.jsonl", "test4.jsonl"]
    for bad in ("release_v7", "v0", "latest", "v4_v2", ""):
        with pytest.raises(ConfigError, match="benchmark.release"):
            release_files(bad)


def test_single_file_sorted_by_question_id(bench_file):
    problems = load_problems(BenchmarkConfig(source=str(bench_file)))
    assert ids(problems) == ["3000", "abc361_a", "abc362_b", "abc370_c", "abc390_a"]
    add = problems[1]
    assert [t.output for t in add.tests] == ["3\n", "12\n", "99\n"]  # public first, then private
    assert problems[0].is_functional and problems[0].metadata == {"func_name": "twoSum"}


def test_relative_source_resolves_against_base_dir(bench_file):
    problems = load_problems(BenchmarkConfig(source="problems.jsonl"), base_dir=bench_file.parent)
    assert len(problems) == 5


def test_filters(bench_file):
    src = str(bench_file)
    assert ids(load_problems(BenchmarkConfig(source=src, platforms=["leetcode"]))) == ["3000"]
    assert ids(load_problems(BenchmarkConfig(source=src, difficulties=["medium"]))) == ["abc370_c"]
    # inclusive dates: abc362_b is dated 2024-07-13, abc370_c 2024-09-07
    got = load_problems(BenchmarkConfig(source=src, start_date="2024-07-13", end_date="2024-09-07"))
    assert ids(got) == ["3000", "abc362_b", "abc370_c"]
    assert ids(load_problems(BenchmarkConfig(source=src, question_ids=["abc390_a", "3000"]))) == ["3000", "abc390_a"]


def test_preset_atcoder_easy_window(bench_file):
    got = load_problems(BenchmarkConfig(source=str(bench_file), preset="atcoder-easy-2407-2411"))
    assert ids(got) == ["abc361_a", "abc362_b"]  # not leetcode, not medium, not 2025
    # explicit keys win over the preset
    got = load_problems(BenchmarkConfig(source=str(bench_file), preset="atcoder-easy-2407-2411",
                                        difficulties=["medium"]))
    assert ids(got) == ["abc370_c"]
    with pytest.raises(ConfigError, match="benchmark.preset"):
        load_problems(BenchmarkConfig(source=str(bench_file), preset="nope"))


def test_empty_selection_names_the_key(bench_file):
    with pytest.raises(ConfigError, match=r"benchmark\.start_date"):
        load_problems(BenchmarkConfig(source=str(bench_file), start_date="2030-01-01"))
    with pytest.raises(ConfigError, match=r"benchmark\.difficulties"):
        load_problems(BenchmarkConfig(source=str(bench_file), platforms=["leetcode"], difficulties=["hard"]))
    with pytest.raises(ConfigError, match=r"benchmark\.question_ids.*nope"):
        load_problems(BenchmarkConfig(source=str(bench_file), question_ids=["nope"]))


def test_mirror_directory_uses_release_files(tmp_path):
    recs = fixture_records()
    write_jsonl(tmp_path / "test.jsonl", recs[:2])
    write_jsonl(tmp_path / "test2.jsonl", recs[2:])
    assert ids(load_problems(BenchmarkConfig(source=str(tmp_path), release="release_v1"))) == ["abc361_a", "abc362_b"]
    assert len(load_problems(BenchmarkConfig(source=str(tmp_path), release="release_v2"))) == 5
    assert ids(load_problems(BenchmarkConfig(source=str(tmp_path), release="v2"))) == ["3000", "abc370_c", "abc390_a"]
    with pytest.raises(DataError, match="test3.jsonl"):
        load_problems(BenchmarkConfig(source=str(tmp_path), release="release_v3"))


def test_hub_source_downloads_release_files(monkeypatch, tmp_path):
    # No network here: stand in for the hub's file server with a local directory, and check which files are asked for.
    recs = fixture_records()
    write_jsonl(tmp_path / "test.jsonl", recs[:3])
    write_jsonl(tmp_path / "test2.jsonl", recs[3:])
    asked, revisions = [], []

    def fake_download(repo_id, filename, repo_type, cache_dir=None, revision=None):
        asked.append((repo_id, filename, repo_type))
        revisions.append(revision)
        return str(tmp_path / filename)

    import huggingface_hub
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    problems = load_problems(BenchmarkConfig(source="livecodebench/code_generation_lite", release="release_v2"))
    assert len(problems) == 5
    assert asked == [("livecodebench/code_generation_lite", "test.jsonl", "dataset"),
                     ("livecodebench/code_generation_lite", "test2.jsonl", "dataset")]
    asked.clear()
    load_problems(BenchmarkConfig(source="livecodebench/code_generation", release="release_v6"))
    assert asked == [("livecodebench/code_generation", "test.jsonl", "dataset")]  # one file, no release tags
    assert set(revisions) == {None}  # no benchmark.revision: the hub's main branch
    revisions.clear()
    load_problems(BenchmarkConfig(source="livecodebench/code_generation_lite", release="v1", revision="0123abc"))
    assert revisions == ["0123abc"]  # benchmark.revision pins the dataset repository's commit


def test_unknown_source():
    with pytest.raises(ConfigError, match="benchmark.source"):
        load_problems(BenchmarkConfig(source="/no/such/path.jsonl"))
    with pytest.raises(ConfigError, match="benchmark.source"):
        load_problems(BenchmarkConfig(source="builtin:nope"))


def test_builtin_source_path():
    assert dataset.BUILTIN_SOURCES["builtin:atcoder-mini"].name == "atcoder_mini.jsonl"


def test_builtin_atcoder_mini_loads():
    problems = load_problems(BenchmarkConfig())
    assert problems and ids(problems) == sorted(ids(problems))


def test_malformed_json_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(fixture_records()[0]) + "\n\n{not json\n")
    with pytest.raises(DataError) as err:
        load_problems(BenchmarkConfig(source=str(path)))
    assert f"{path}:3" in str(err.value)


def test_corrupt_record_names_file_line_and_question(tmp_path):
    rec = fixture_records()[1]
    rec["public_test_cases"] = "[{\"input\": 1}]"
    path = write_jsonl(tmp_path / "bad.jsonl", [fixture_records()[0], rec])
    with pytest.raises(DataError) as err:
        load_problems_file(path)
    assert f"{path}:2" in str(err.value) and "abc362_b" in str(err.value)


def test_duplicate_question_id(tmp_path):
    recs = fixture_records()
    path = write_jsonl(tmp_path / "dup.jsonl", [recs[0], recs[1], recs[0]])
    with pytest.raises(DataError, match="duplicate question_id"):
        load_problems_file(path)


def test_private_tests_json_or_pickled_string():
    plain = problem_from_record(make_record("x_a", tests=[("1", "1"), ("2", "2")], pickled=False))
    packed = problem_from_record(make_record("x_a", tests=[("1", "1"), ("2", "2")], pickled=True))
    assert plain.private_tests == packed.private_tests and packed.private_tests[0].testtype is LcbTestType.STDIN


class Boom:
    def __reduce__(self):
        import os
        return (os.system, ("touch /tmp/codegen_ray_pwned",))


def test_restricted_unpickler_rejects_malicious_payload(tmp_path):
    payload = base64.b64encode(zlib.compress(pickle.dumps(Boom()))).decode()
    with pytest.raises(RecordError, match="abc999_z.*refusing to load global"):
        decode_private_tests(payload, "abc999_z")
    assert not Path("/tmp/codegen_ray_pwned").exists()
    # a payload that is a pickled non-string is rejected too
    payload = base64.b64encode(zlib.compress(pickle.dumps([{"input": "1", "output": "1", "testtype": "stdin"}]))).decode()
    with pytest.raises(RecordError, match="expected a JSON string"):
        decode_private_tests(payload, "abc999_z")
    rec = make_record("abc999_z", tests=[("1", "1")])
    rec["private_test_cases"] = base64.b64encode(zlib.compress(pickle.dumps(Boom()))).decode()
    path = write_jsonl(tmp_path / "evil.jsonl", [rec])
    with pytest.raises(DataError, match=r"evil.jsonl:1.*abc999_z"):
        load_problems_file(path)
