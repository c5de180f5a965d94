"""Tokenisation and loss masking, LoRA setup, LR schedules, and a golden-loss run of the worker loop (in-process,
no Ray) on a tiny model built here from a fixed corpus (independent of the shipped data files)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from codegen_ray.config import config_from_dict
from codegen_ray.errors import ConfigError, UserError
from codegen_ray.train.data import ChatExample
from codegen_ray.train.tokenize import IGNORE_INDEX, collate, tokenize_example, tokenize_examples

OPS = [("sum", "a + b"), ("difference", "a - b"), ("product", "a * b"), ("maximum", "max(a, b)"),
       ("minimum", "min(a, b)"), ("remainder", "a % b")]


def synthetic_rows(n: int) -> list[dict]:
    """Short competitive-programming chat rows (fit in 256 tokens), deterministic."""
    rows = []
    for i in range(n):
        name, expr = OPS[i % len(OPS)]
        k = i // len(OPS)
        rows.append({"messages": [
            {"role": "user", "content": f"Read integers a and b (case {k}) and print their {name}."},
            {"role": "assistant", "content": f"a, b = map(int, input().split())\nprint({expr} + {k})"},
        ]})
    return rows


def examples(n: int) -> list[ChatExample]:
    return [ChatExample(tuple(r["messages"]), f"syn:{i + 1}") for i, r in enumerate(synthetic_rows(n))]


@pytest.fixture(autouse=True)
def one_torch_thread():
    """In-process training on a shared 2-core machine: OpenMP threads spinning against other processes make a 3 s run
    take minutes. One thread (restored afterwards) keeps it fast; the recorded losses hold for any thread count."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


GOLDEN_SHAPE = dict(hidden_size=128, intermediate_size=512, num_hidden_layers=4, num_attention_heads=2,
                    num_key_value_heads=2, max_position_embeddings=4096, rope_theta=10000.0, rms_norm_eps=1e-6,
                    tie_word_embeddings=True)


@pytest.fixture(scope="module")
def own_model(tmp_path_factory) -> Path:
    """A tiny Qwen2 model + tokenizer built from a fixed corpus with the project's builder (seeded random weights,
    a smaller shape than the shipped model so the golden run stays fast)."""
    from codegen_ray.assets.pretrain import build_tokenizer, init_model

    texts = [m["content"] for r in synthetic_rows(60) for m in r["messages"]]
    tok = build_tokenizer(texts)
    model = init_model(tok, seed=20241130, shape=GOLDEN_SHAPE)
    path = tmp_path_factory.mktemp("own_tiny")
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tokenizer(own_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(own_model)


# -------------------------------------------------------------------------------------------------------- masking
def test_unmasked_labels_decode_to_assistant_text_plus_end_of_turn(tokenizer):
    msgs = (
        {"role": "system", "content": "Answer with code."},
        {"role": "user", "content": "Print the sum of a and b."},
        {"role": "assistant", "content": "a, b = map(int, input().split())\nprint(a + b)"},
        {"role": "user", "content": "Now the product."},
        {"role": "assistant", "content": "print(a * b)"},
    )
    tok, truncated = tokenize_example(tokenizer, ChatExample(msgs, "t:1"), 512)
    assert not truncated
    # Each contiguous run of trainable labels is one assistant turn.
    runs, cur = [], []
    for i, lab in enumerate(tok.labels):
        if lab != IGNORE_INDEX:
            assert lab == tok.input_ids[i]
            cur.append(lab)
        elif cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    decoded = [tokenizer.decode(r) for r in runs]
    assert decoded == [msgs[2]["content"] + "<|im_end|>", msgs[4]["content"] + "<|im_end|>"]
    # The template's own {% generation %} mask agrees token for token.
    ref = tokenizer.apply_chat_template(list(msgs), tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    assert list(tok.input_ids) == list(ref["input_ids"])
    assert [int(x != IGNORE_INDEX) for x in tok.labels] == list(ref["assistant_masks"])


def test_truncation_drops_and_counts_samples_without_trainable_tokens(tokenizer, caplog):
    long_question = {"role": "user", "content": "word " * 300}
    rows = [
        ChatExample((long_question, {"role": "assistant", "content": "print(1)"}), "f:1"),
        ChatExample(({"role": "user", "content": "hi"}, {"role": "assistant", "content": "print(2) " * 100}), "f:2"),
        ChatExample(({"role": "user", "content": "hi"}, {"role": "assistant", "content": "print(3)"}), "f:3"),
    ]
    with caplog.at_level("WARNING"):
        out, report = tokenize_examples(tokenizer, rows, 64)
    assert [t.source for t in out] == ["f:2", "f:3"]
    assert report.zero_label_dropped == ["f:1"] and report.truncated == 2
    assert len(out[0].input_ids) == 64 and out[0].num_trainable > 0
    assert "dropped 1 of 3 samples" in caplog.text and "f:1" in caplog.text


def test_tokenizer_without_chat_template_is_a_user_error(own_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(own_model)
    tok.chat_template = None
    with pytest.raises(UserError, match="no chat template"):
        tokenize_examples(tok, examples(2), 128)


def test_collate_pads_to_longest(tokenizer):
    toks, _ = tokenize_examples(tokenizer, examples(3), 256)
    batch = collate(toks, pad_id=tokenizer.pad_token_id)
    width = max(len(t.input_ids) for t in toks)
    assert batch["input_ids"].shape == (3, width)
    for i, t in enumerate(toks):
        n = len(t.input_ids)
        assert batch["attention_mask"][i].tolist() == [1] * n + [0] * (width - n)
        assert batch["labels"][i, n:].eq(IGNORE_INDEX).all()
        assert batch["input_ids"][i, n:].eq(tokenizer.pad_token_id).all()


# ----------------------------------------------------------------------------------------------------------- LoRA
def _spec(own_model, tokenizer, cfg, train, val, **kw):
    from codegen_ray.train.tokenize import pad_token_id
    from codegen_ray.train.worker import WorkerSpec

    return WorkerSpec(
        variant="syn", model_path=str(own_model), dtype="float32", trust_remote_code=False,
        lora=dataclasses.asdict(cfg.lora), training=dataclasses.asdict(cfg.training), train_data=train,
        val_data=val, pad_id=pad_token_id(tokenizer), config_hash="test", **kw,
    )


def _cfg(**training):
    return config_from_dict({
        "lora": {"r": 4, "alpha": 8, "dropout": 0.1},
        "training": {"epochs": 1, "micro_batch_size": 4, "gradient_accumulation_steps": 2, "learning_rate": 1e-2,
                     "warmup_ratio": 0.1, "max_seq_len": 256, "save_steps": 2, "log_every": 1, "seed": 7,
                     **training},
        "data": {"variants": [{"name": "syn", "path": "builtin:deep"}]},
    })


def test_lora_model_freezes_base_and_rejects_unknown_targets(own_model, tokenizer):
    from codegen_ray.train.worker import build_lora_model

    cfg = _cfg()
    model = build_lora_model(_spec(own_model, tokenizer, cfg, [], []))
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert {n.split(".")[-4] for n in trainable} == {"q_proj", "k_proj", "v_proj", "o_proj"}
    cfg.lora.target_modules = ["q_proj", "qkv_proj"]
    with pytest.raises(ConfigError) as err:
        build_lora_model(_spec(own_model, tokenizer, cfg, [], []))
    assert err.value.key == "lora.target_modules" and "'qkv_proj'" in str(err.value)


def test_lr_schedules():
    import torch

    from codegen_ray.train.worker import make_scheduler

    def lrs(kind):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        sch = make_scheduler(opt, kind, warmup=2, total=10)
        out = []
        for _ in range(10):
            out.append(sch.get_last_lr()[0])
            opt.step()
            sch.step()
        return out

    cos, lin, const = lrs("cosine"), lrs("linear"), lrs("constant")
    assert cos[:3] == pytest.approx([1 / 3, 2 / 3, 1.0]) and lin[:3] == cos[:3] and const[2:] == [1.0] * 8
    assert all(a > b for a, b in zip(cos[2:], cos[3:])) and cos[6] == pytest.approx(0.5)
    assert lin[6] == pytest.approx(0.5) and lin[9] == pytest.approx(1 / 8)


# ---------------------------------------------------------------------------------------------------- golden loss
# Recorded once (torch 2.13 CPU, float32) from the seeded run below: per-step training loss of the first 5 steps.
GOLDEN_LOSSES = [5.858571767807007, 5.63538122177124, 5.41539454460144, 5.331883668899536, 5.287189483642578]


def _local_run(own_model, tokenizer, out: Path, training: dict | None = None, **spec_kw):
    from codegen_ray.train.worker import LocalSession, run_worker

    cfg = _cfg(**(training or {}))
    train, _ = tokenize_examples(tokenizer, examples(40), 256)
    val, _ = tokenize_examples(tokenizer, [ChatExample(e.messages, f"val:{i}") for i, e in enumerate(examples(8))],
                               256)
    session = LocalSession(out)
    run_worker(_spec(own_model, tokenizer, cfg, train, val, **spec_kw), session)
    return session


def test_golden_losses_and_adapter_only_checkpoints(own_model, tokenizer, tmp_path):
    import torch

    before = torch.get_rng_state()
    session = _local_run(own_model, tokenizer, tmp_path)
    assert torch.equal(before, torch.get_rng_state())  # the worker's seeding did not leak into this process
    # 40 rows / micro 4 = 10 micro-batches, accumulation 2 → 5 steps; saves at 2, 4 and the epoch end (5).
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["checkpoint-step-2-epoch-1", "checkpoint-step-4-epoch-1", "checkpoint-step-5-epoch-1"]
    final = tmp_path / "checkpoint-step-5-epoch-1"
    assert sorted(p.name for p in final.iterdir()) == [
        "adapter_config.json", "adapter_model.safetensors", "meta.json", "optimizer.pt", "trainer_state.json"]
    state = json.loads((final / "trainer_state.json").read_text())
    losses = [r["loss"] for r in state["history"]]
    assert [r["step"] for r in state["history"]] == [1, 2, 3, 4, 5]
    assert losses == pytest.approx(GOLDEN_LOSSES, abs=2e-4)
    meta = json.loads((final / "meta.json").read_text())
    assert meta["step"] == 5 and meta["epoch"] == 1 and meta["seed"] == 7 and meta["config_hash"] == "test"
    assert meta["val_loss"] == pytest.approx(session.reports[-1]["val_loss"])
    assert [r["step"] for r in session.reports] == [2, 4, 5]
    # A second run is bit-for-bit the same (dropout is on: seeding is per step, inside the worker).
    again = _local_run(own_model, tokenizer, tmp_path / "again")
    assert [r["train_loss"] for r in again.reports] == [r["train_loss"] for r in session.reports]


def test_gradient_checkpointing_trains_identically(own_model, tokenizer, tmp_path):
    _local_run(own_model, tokenizer, tmp_path, training={"gradient_checkpointing": True})
    state = json.loads((tmp_path / "checkpoint-step-5-epoch-1" / "trainer_state.json").read_text())
    assert [r["loss"] for r in state["history"]] == pytest.approx(GOLDEN_LOSSES, abs=2e-4)
