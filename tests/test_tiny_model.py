"""The builtin base model: shipped pretrained weights that match their manifest, loaded through the same
from_pretrained path as a hub model, and a model that has really learned (not random weights)."""

from __future__ import annotations

import json
import random
import shutil

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from codegen_ray.assets.families import FAMILIES
from codegen_ray.assets.corpus import plain_file
from codegen_ray.assets.pretrain import MANIFEST, SHIPPED_DIR, WEIGHTS, check_shipped
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


def test_base_model_has_limited_skill_on_the_builtin_benchmark_and_the_format_is_what_holds_it_back(
        tiny_model_path, tmp_path):
    """Known answer for the embedded default's world (README, "What the embedded default is"): greedy, in
    LiveCodeBench's CodeQwen prompt, the shipped base solves 7 of the 41 builtin problems on this machine kind
    (asserted: within the 10%..50% the default study needs). Most of its other programs are right but wrapped in
    a tilde fence, which the extractor does not read: read as backtick fences they solve 23 (asserted: at least 8
    more), the room that fine-tuning on always-fenced data has to win. A sweep that always scores 0 fails here."""
    from codegen_ray.assets import BUILTIN_BENCHMARK_PATH
    from codegen_ray.config import ExecutionConfig
    from codegen_ray.lcb.dataset import load_problems_file
    from codegen_ray.lcb.grade_cli import grade_samples
    from codegen_ray.lcb.prompts import PromptStyle, build_prompt

    problems = load_problems_file(BUILTIN_BENCHMARK_PATH)
    tok = AutoTokenizer.from_pretrained(tiny_model_path, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(tiny_model_path)
    outputs = {}
    for i in range(0, len(problems), 16):
        chunk = problems[i:i + 16]
        enc = tok([build_prompt(p, PromptStyle.CODEQWEN).text for p in chunk], return_tensors="pt", padding=True,
                  add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=320, do_sample=False)
        for p, row in zip(chunk, out):
            outputs[p.question_id] = tok.decode(row[enc["input_ids"].shape[1]:], skip_special_tokens=True)

    def solved(texts: dict[str, str], name: str) -> int:
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps({"question_id": q, "output_list": [t]}) + "\n" for q, t in texts.items()))
        report = grade_samples(BUILTIN_BENCHMARK_PATH, path, tmp_path / f"{name}.json", ExecutionConfig(), 2)
        assert report.ok and report.total == 41
        return report.solved

    as_given = solved(outputs, "base")
    tilde_read = solved({q: t.replace("~~~", "```") for q, t in outputs.items()}, "tilde")
    assert 5 <= as_given <= 20, as_given
    assert tilde_read >= as_given + 8, (as_given, tilde_read)
