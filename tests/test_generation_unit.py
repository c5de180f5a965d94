"""Pure logic of the generation stage (no Ray, no model): seeds, stop strings, backend choice, cache files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from codegen_ray.config import GenerationConfig
from codegen_ray.errors import ConfigError
from codegen_ray.generation import base
from codegen_ray.generation.cache import (
    append_records,
    generate_cached,
    generations_path,
    read_records,
    sampling_hash,
)
from codegen_ray.types import CheckpointRef, Completion, Prompt, SamplingSettings


def test_import_is_light():
    code = (
        "import sys, codegen_ray, codegen_ray.generation, codegen_ray.generation.pool, codegen_ray.generation.cache;"
        "print(sorted(m for m in ('torch','vllm','ray','transformers','peft') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_sample_seed_is_stable_and_distinct():
    assert base.sample_seed(0, "q1", 0) == base.sample_seed(0, "q1", 0)
    seeds = {base.sample_seed(s, q, i) for s in (0, 1) for q in ("q1", "q2") for i in range(3)}
    assert len(seeds) == 12
    # stable across processes (no dependence on Python's per-process hash randomisation)
    code = "from codegen_ray.generation.base import sample_seed; print(sample_seed(0, 'abc', 1))"
    for hashseed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": hashseed},
        ).stdout
        assert int(out) == base.sample_seed(0, "abc", 1)


def test_find_stop_mirrors_vllm():
    # only occurrences completed by the new characters count
    assert base.find_stop("abc def", 1, ["c d"]) is None
    assert base.find_stop("abc def", 3, ["c d"]) == 2
    # earliest completion wins, not earliest start
    assert base.find_stop("xabcd", 4, ["abcd", "bc"]) == 2
    assert base.find_stop("xabcd", 4, ["", "zz"]) is None
    assert base.truncate_at_stop("print(1)\n```\nmore", ["```"]) == ("print(1)\n", True)
    assert base.truncate_at_stop("abc", ["z"]) == ("abc", False)


def test_resolve_backend_kind():
    cpu = GenerationConfig()
    gpu = GenerationConfig(gpus_per_actor=1)
    assert base.resolve_backend_kind("hf", gpu) == "hf"
    assert base.resolve_backend_kind("auto", cpu) == "hf"
    assert base.resolve_backend_kind("auto", gpu) == ("vllm" if base.vllm_available() else "hf")
    with pytest.raises(ConfigError) as err:
        base.resolve_backend_kind("tgi", cpu)
    assert err.value.key == "generation.backend"


def test_sampling_hash_ignores_n_only():
    a = SamplingSettings(n=1, temperature=0.2)
    assert sampling_hash(a) == sampling_hash(SamplingSettings(n=10, temperature=0.2))
    for other in (
        SamplingSettings(temperature=0.3),
        SamplingSettings(top_p=0.9),
        SamplingSettings(max_tokens=5),
        SamplingSettings(seed=1),
        SamplingSettings(stop=("```",)),
    ):
        assert sampling_hash(other) != sampling_hash(a)
    # greedy: seed and top_p do not matter
    assert sampling_hash(SamplingSettings(temperature=0, seed=1)) == sampling_hash(
        SamplingSettings(temperature=0, seed=2, top_p=0.5)
    )


def _rec(qid, i, text="x"):
    return {
        "checkpoint": "base",
        "question_id": qid,
        "sample_index": i,
        "sampling_hash": "h",
        "text": text,
        "num_tokens": 1,
        "finish_reason": "stop",
    }


def test_truncated_last_line_is_ignored_and_repaired(tmp_path):
    path = tmp_path / "g.jsonl"
    append_records(path, [_rec("q1", 0), _rec("q2", 0)])
    with open(path, "ab") as f:  # a crash in the middle of a write
        f.write(json.dumps(_rec("q3", 0)).encode()[:25])
    assert [r["question_id"] for r in read_records(path)] == ["q1", "q2"]
    append_records(path, [_rec("q4", 0)])
    assert [r["question_id"] for r in read_records(path)] == ["q1", "q2", "q4"]
    assert path.read_bytes().endswith(b"\n")
    # a complete-looking last line without newline is not trusted either (could be cut inside a string)
    with open(path, "ab") as f:
        f.write(json.dumps(_rec("q5", 0)).encode())
    assert [r["question_id"] for r in read_records(path)] == ["q1", "q2", "q4"]


class _CountingBackendPool:
    """A real (if trivial) pool: echoes the prompt text. Counts what it is asked to generate."""

    backend_name = "echo"

    def __init__(self):
        self.requests = []

    def generate(self, checkpoint, prompts, sampling):
        self.requests.append([p.question_id for p in prompts])
        return [
            [Completion(p.question_id, i, f"{checkpoint.key}:{p.text}:{i}", 3, "stop") for i in range(sampling.n)]
            for p in prompts
        ]


def test_generate_cached_reuses_and_extends(tmp_path):
    pool = _CountingBackendPool()
    ck = CheckpointRef("v1", 10, 1, adapter_path="/x")
    prompts = [Prompt(f"q{i}", text=f"t{i}") for i in range(5)]
    s1 = SamplingSettings(n=1, temperature=0.2)
    first = generate_cached(pool, tmp_path, ck, prompts[:3], s1, chunk_prompts=2)
    assert (first.generated, first.reused) == (3, 0)
    assert first.path == generations_path(tmp_path, ck) == tmp_path / "v1" / "checkpoint-step-10-epoch-1.jsonl"
    again = generate_cached(pool, tmp_path, ck, prompts, s1)
    assert (again.generated, again.reused) == (2, 3)
    assert pool.requests[-1] == ["q3", "q4"]
    assert again.completions[:3] == first.completions
    assert again.backends == ("echo",)
    # more samples: sample 0 reused, samples 1..2 generated
    more = generate_cached(pool, tmp_path, ck, prompts, SamplingSettings(n=3, temperature=0.2))
    assert (more.generated, more.reused) == (10, 5)
    assert [c.sample_index for c in more.completions[0]] == [0, 1, 2]
    # other sampling params are a different key
    other = generate_cached(pool, tmp_path, ck, prompts[:1], SamplingSettings(n=1, temperature=0.7))
    assert (other.generated, other.reused) == (1, 0)
    assert len(read_records(first.path)) == 5 + 10 + 1


def test_sampling_from_config():
    from codegen_ray.generation import sampling_from_config

    cfg = GenerationConfig(n=4, temperature=0.0, top_p=0.9, max_tokens=7, seed=3, stop=["```"])
    assert sampling_from_config(cfg) == SamplingSettings(n=4, temperature=0.0, top_p=0.9, max_tokens=7, seed=3,
                                                        stop=("```",))
    # the reference defaults are LiveCodeBench's
    assert sampling_from_config(GenerationConfig()) == SamplingSettings(n=1, temperature=0.2, top_p=0.95,
                                                                       max_tokens=2000, seed=0, stop=())
