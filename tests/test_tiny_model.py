"""The builtin base model: shipped pretrained weights that match their manifest, loaded through the same
from_pretrained path as a hub model, and a model that has really learned (not random weights)."""

from __future__ import annotations

import json
import random
import shutil

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from codegen_ray.assets.families import FAMILIES
from codegen_ray.assets.pretrain import MANIFEST, SHIPPED_DIR, WEIGHTS, check_shipped, plain_file
from codegen_ray.assets.tiny_model import CHAT_TEMPLATE, MODEL_SHAPE, ensure_tiny_model, tiny_model_fingerprint


def test_shipped_files_match_the_hashes_the_pretrain_script_recorded():
    manifest = json.loads((SHIPPED_DIR / MANIFEST).read_text())
    assert manifest["command"] == "python -m codegen_ray.assets.pretrain"
    assert {WEIGHTS, "config.json", "tokenizer.json"} <= set(manifest["files"])
    assert check_shipped() == []
    assert (SHIPPED_DIR / WEIGHTS).stat().st_size <= 16 * 1024 * 1024
    assert manifest["model_shape"] == MODEL_SHAPE


def test_a_changed_shipped_file_is_detected(tmp_path):
    copy = tmp_path / "tiny_model"
    shutil.copytree(SHIPPED_DIR, copy)
    blob = bytearray((copy / WEIGHTS).read_bytes())
    blob[-1] ^= 1
    (copy / WEIGHTS).write_bytes(bytes(blob))
    assert check_shipped(copy) == [WEIGHTS]


def test_loads_through_from_pretrained_as_qwen2_in_float32(tiny_model_path):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_path)
    assert type(model).__name__ == "Qwen2ForCausalLM"
    assert model.config.hidden_size == MODEL_SHAPE["hidden_size"]
    assert model.config.hidden_size // model.config.num_attention_heads == 64  # head_dim vLLM's CPU build serves
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    assert {"q_proj", "k_proj", "v_proj", "o_proj"} <= names


def test_cache_copy_holds_the_shipped_fp16_values(tiny_model_path):
    from safetensors.torch import load_file

    shipped = load_file(str(SHIPPED_DIR / WEIGHTS))
    cached = load_file(str(tiny_model_path / WEIGHTS))
    assert shipped.keys() == cached.keys()
    assert all(cached[k].dtype == torch.float32 and torch.equal(cached[k], shipped[k].float()) for k in shipped)


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


def test_second_copy_is_identical_and_leaves_global_rng_alone(tmp_path, tiny_model_path):
    before = torch.random.get_rng_state()
    other = ensure_tiny_model(tmp_path)
    assert torch.equal(before, torch.random.get_rng_state())
    assert other.name == tiny_model_path.name == f"tiny-qwen2-{tiny_model_fingerprint()}"
    assert (other / WEIGHTS).read_bytes() == (tiny_model_path / WEIGHTS).read_bytes()


def test_second_call_reuses_the_copy(tiny_model_path):
    mtime = (tiny_model_path / "config.json").stat().st_mtime_ns
    assert ensure_tiny_model(tiny_model_path.parent) == tiny_model_path
    assert (tiny_model_path / "config.json").stat().st_mtime_ns == mtime


def test_pretrained_base_completes_plain_code_files(tiny_model_path):
    """Known answer: given a task's docstring (the pretraining's plain-file format, a fresh draw), the base writes
    the family's program (4 of these 12 when it was built). Random weights get none."""
    tok = AutoTokenizer.from_pretrained(tiny_model_path)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_path)
    rng = random.Random(987654321)
    right = 0
    tasks = [FAMILIES[i % len(FAMILIES)](rng) for i in range(12)]
    for task in tasks:
        text = plain_file(task)
        head = text[: len(text) - len(task.code)]
        ids = tok(head, return_tensors="pt", add_special_tokens=False)
        out = model.generate(**ids, max_new_tokens=100, do_sample=False)
        completion = tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
        right += task.code in completion
    assert right >= 3, f"only {right}/12 plain-file completions held the family's program"
