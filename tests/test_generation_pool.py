"""The shared generation pool (Ray actors): results, use from other processes, dead workers, cache and resume."""

from __future__ import annotations

import time

import pytest

from codegen_ray.config import GenerationConfig
from codegen_ray.generation.cache import generate_cached, read_records
from codegen_ray.generation.pool import GenerationPool
from codegen_ray.types import CheckpointRef, Prompt, SamplingSettings

pytestmark = [pytest.mark.ray, pytest.mark.slow]

BASE = CheckpointRef("v", 0, 0)
PROMPTS = [Prompt(f"q{i}", messages=({"role": "user", "content": f"Problem {i}: print {i} squared."},)) for i in range(6)]
SAMPLING = SamplingSettings(n=2, temperature=0.8, top_p=0.95, max_tokens=48, seed=3)


@pytest.fixture(scope="module")
def adapter(tmp_path_factory, tiny_model_path):
    from codegen_ray.generation.adapters import make_random_lora

    path = make_random_lora(tiny_model_path, tmp_path_factory.mktemp("pool_adapter") / "A", seed=5)
    return CheckpointRef("v", 10, 1, str(path))


@pytest.fixture(scope="module")
def pool(ray_session, tiny_model_path):
    cfg = GenerationConfig(batch_size=4, num_actors=2, cpus_per_actor=1.0)
    p = GenerationPool.create(str(tiny_model_path), cfg, "float32", "hf")
    p.wait_ready()
    yield p
    p.shutdown()


def test_pool_results_and_use_from_another_process(pool, ray_session, adapter):
    assert pool.backend_name == "hf"
    direct = pool.generate(adapter, PROMPTS, SAMPLING)
    assert [[c.sample_index for c in row] for row in direct] == [[0, 1]] * len(PROMPTS)
    assert [row[0].question_id for row in direct] == [p.question_id for p in PROMPTS]

    @ray_session.remote(num_cpus=0)
    def trial(shared_pool, checkpoint):  # a Tune trial: another process holding the pickled pool
        return shared_pool.backend_name, shared_pool.generate(checkpoint, PROMPTS, SAMPLING)

    name, remote = ray_session.get(trial.remote(pool, adapter))
    assert name == "hf" and remote == direct
    base = pool.generate(BASE, PROMPTS, SAMPLING)
    assert [r[0].text for r in base] != [r[0].text for r in direct]


def test_killed_worker_is_replaced_and_results_equal_undisturbed_run(pool, ray_session, adapter):
    sampling = SamplingSettings(**{**SAMPLING.__dict__, "max_tokens": 160})  # long enough to be killed mid-work
    undisturbed = pool.generate(adapter, PROMPTS, sampling)
    before = pool.stats()
    victim = pool.worker_handles()[0]
    ref = pool.submit(adapter, PROMPTS, sampling)
    deadline = time.monotonic() + 60
    while pool.stats().in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    ready, _ = ray_session.wait([ref], timeout=0)
    assert not ready, "generation finished before the worker could be killed; make the work larger"
    ray_session.kill(victim)
    assert ray_session.get(ref, timeout=600) == undisturbed
    after = pool.stats()
    assert after.replaced == before.replaced + 1
    assert after.retried_items >= before.retried_items + 1
    assert victim not in pool.worker_handles()
    # the replacement serves later calls too
    assert pool.generate(adapter, PROMPTS[:2], sampling) == undisturbed[:2]


def test_cache_resume_generates_only_what_is_missing(pool, tmp_path, adapter):
    gen_dir = tmp_path / "generations"
    first = generate_cached(pool, gen_dir, adapter, PROMPTS[:4], SAMPLING, chunk_prompts=2)
    assert (first.generated, first.reused) == (8, 0)
    assert first.backends == ("hf",)
    path = gen_dir / "v" / "checkpoint-step-10-epoch-1.jsonl"
    assert first.path == path and len(read_records(path)) == 8

    # a crash in the middle of writing the next batch leaves a torn line: it is not trusted
    with open(path, "ab") as f:
        f.write(b'{"checkpoint": "v/checkpoint-step-10-epoch-1", "question_id": "q4", "sample_')
    resumed = generate_cached(pool, gen_dir, adapter, PROMPTS, SAMPLING, chunk_prompts=2)
    assert (resumed.generated, resumed.reused) == (4, 8)
    assert resumed.completions[:4] == first.completions
    assert resumed.completions == pool.generate(adapter, PROMPTS, SAMPLING)
    assert len(read_records(path)) == 12

    again = generate_cached(pool, gen_dir, adapter, PROMPTS, SAMPLING)
    assert (again.generated, again.reused) == (0, 12)
    assert again.completions == resumed.completions
    base = generate_cached(pool, gen_dir, BASE, PROMPTS[:1], SAMPLING)
    assert base.path == gen_dir / "base.jsonl" and base.generated == 2
