"""The builtin tiny model: a real Qwen2 causal LM with a trained BPE tokenizer and a ChatML chat template, loaded
through the same from_pretrained path as a hub model."""

from __future__ import annotations

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from codegen_ray.assets.tiny_model import CHAT_TEMPLATE, MODEL_SHAPE, ensure_tiny_model, tiny_model_fingerprint


def test_loads_through_from_pretrained_as_qwen2(tiny_model_path):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_path)
    assert type(model).__name__ == "Qwen2ForCausalLM"
    assert model.config.hidden_size == 128 and model.config.num_attention_heads == 2
    assert model.config.hidden_size // model.config.num_attention_heads == 64  # head_dim vLLM's CPU build serves
    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    assert {"q_proj", "k_proj", "v_proj", "o_proj"} <= names


def test_chat_template_renders_chatml(tiny_model_path):
    tok = AutoTokenizer.from_pretrained(tiny_model_path)
    assert tok.chat_template == CHAT_TEMPLATE
    text = tok.apply_chat_template([{"role": "user", "content": "Print 1."}], tokenize=False,
                                   add_generation_prompt=True)
    assert text == ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                    "<|im_start|>user\nPrint 1.<|im_end|>\n<|im_start|>assistant\n")
    for special in ("<|im_start|>", "<|im_end|>", "<|endoftext|>"):
        assert len(tok(special, add_special_tokens=False)["input_ids"]) == 1
    assert tok.eos_token == "<|im_end|>"


def test_tokenizer_round_trips_code(tiny_model_path):
    tok = AutoTokenizer.from_pretrained(tiny_model_path)
    code = "import sys\nn = int(sys.stdin.readline())\nprint(sum(range(n + 1)))\n"
    assert tok.decode(tok(code, add_special_tokens=False)["input_ids"]) == code


def test_build_is_deterministic_and_leaves_global_rng_alone(tmp_path, tiny_model_path):
    before = torch.random.get_rng_state()
    other = ensure_tiny_model(tmp_path)
    assert torch.equal(before, torch.random.get_rng_state())
    assert other.name == tiny_model_path.name == f"tiny-qwen2-{tiny_model_fingerprint()}"
    a = AutoModelForCausalLM.from_pretrained(tiny_model_path).state_dict()
    b = AutoModelForCausalLM.from_pretrained(other).state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_second_call_reuses_the_build(tiny_model_path):
    mtime = (tiny_model_path / "config.json").stat().st_mtime_ns
    assert ensure_tiny_model(tiny_model_path.parent) == tiny_model_path
    assert (tiny_model_path / "config.json").stat().st_mtime_ns == mtime


def test_generates_greedily(tiny_model_path):
    tok = AutoTokenizer.from_pretrained(tiny_model_path)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_path)
    ids = tok.apply_chat_template([{"role": "user", "content": "hi"}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)
    out = model.generate(**ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] <= ids["input_ids"].shape[1] + 5
    assert MODEL_SHAPE["num_hidden_layers"] == model.config.num_hidden_layers
