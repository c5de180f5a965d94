"""Pretrain the builtin base model: ``python -m codegen_ray.assets.pretrain [--check] [--threads N]``.

Why this exists: a randomly initialised model writes no correct program, so a default study built on one scores 0 at
every checkpoint and cannot show that the pipeline detects learning. The builtin base is therefore a small
Qwen2-architecture model *pretrained* by this script, deterministically, on a corpus this project generates from its
own task families (``families.py``); the weights (fp16, a few MB) and the tokenizer ship in
``codegen_ray/assets/tiny_model/`` together with ``manifest.json``, which records every file's sha256, the corpus
hash, the settings and the running time. A test checks the shipped files against the manifest.

The corpus, and the world it builds (a base model that knows every task family's program but answers in the
benchmark's fenced format only for some of them), are described in ``corpus.py``.

Determinism: the corpus comes from seeded ``random.Random`` instances; weights and batch order from private
``torch.Generator`` s; no dropout; a fixed number of CPU threads. Re-running on the same machine kind reproduces the
files bit for bit (``--check`` rebuilds into a temporary directory and compares hashes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Sequence

from ..train.tokenize import TokenizedExample, collate
from .corpus import (CHAT_FAMILIES, DEFAULT_SYSTEM, CorpusRow, PretrainSettings, build_corpus, contaminated_rows,
                     corpus_hash, without_contaminated)

SHIPPED_DIR = Path(__file__).resolve().parent / "tiny_model"
MANIFEST = "manifest.json"
WEIGHTS = "model.safetensors"

VOCAB_SIZE = 4096
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
# Qwen2.5-style ChatML template (a default system turn when none is given). `{% generation %}` marks what the
# assistant says, so `return_assistant_tokens_mask=True` works for loss masking.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if loop.first and message['role'] != 'system' %}"
    "{{- '<|im_start|>system\\n" + DEFAULT_SYSTEM + "<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}{% generation %}{{- message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

MODEL_SHAPE = dict(
    hidden_size=256,
    intermediate_size=1024,
    num_hidden_layers=4,
    num_attention_heads=4,  # head_dim 64, which vLLM's CPU build serves
    num_key_value_heads=4,
    max_position_embeddings=2048,
    rope_theta=10000.0,
    rms_norm_eps=1e-6,
    tie_word_embeddings=True,
)



# --------------------------------------------------------------------------------------------------- tokenizer
def build_tokenizer(texts: Sequence[str]):
    """A byte-level BPE tokenizer trained on ``texts``, wrapped as a transformers fast tokenizer with ChatML."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, min_frequency=2, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token=None,
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
        model_max_length=MODEL_SHAPE["max_position_embeddings"], padding_side="right",
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def tokenizer_texts(rows: Sequence[CorpusRow]) -> list[str]:
    """The corpus plus the shipped fine-tuning data (never the benchmark)."""
    data = Path(__file__).resolve().parent / "data"
    texts = [t for r in rows for t in (r.prompt, r.answer) if t]
    for name in ("deep.jsonl", "diverse.jsonl"):
        for line in (data / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts += [m["content"] for m in json.loads(line)["messages"]]
    return texts


# ------------------------------------------------------------------------------------------------------- model
def init_model(tokenizer, seed: int, shape: dict | None = None):
    """A Qwen2ForCausalLM of ``shape`` (default :data:`MODEL_SHAPE`) with every weight drawn from a private seeded
    generator (N(0, 0.02); norms 1, biases 0). The global RNG is left untouched."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = Qwen2Config(vocab_size=len(tokenizer), bos_token_id=pad, eos_token_id=eos, pad_token_id=pad,
                         dtype="float32", **(shape or MODEL_SHAPE))
    with torch.random.fork_rng(devices=[]):
        model = Qwen2ForCausalLM(config)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                param.fill_(1.0)
            elif name.endswith(".bias"):
                param.zero_()
            else:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.02)
    model.generation_config = GenerationConfig(bos_token_id=pad, eos_token_id=[eos, pad], pad_token_id=pad,
                                               do_sample=False)
    return model


def encode_rows(tokenizer, rows: Sequence[CorpusRow], max_len: int) -> list[TokenizedExample]:
    """``(input_ids, labels)`` per row: loss on the whole plain file, on the answer and ``<|im_end|>`` of a chat row."""
    eot = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    out = []
    for r in rows:
        if r.prompt:
            p = tokenizer(r.prompt, add_special_tokens=False)["input_ids"]
            a = tokenizer(r.answer, add_special_tokens=False)["input_ids"] + [im_end]
            ids, labels = p + a, [-100] * len(p) + a
        else:
            ids = tokenizer(r.answer, add_special_tokens=False)["input_ids"] + [eot]
            labels = list(ids)
        out.append(TokenizedExample(tuple(ids[:max_len]), tuple(labels[:max_len]), r.family))
    return out


def make_batches(encoded, batch_tokens: int, seed: int, epochs: int) -> list[list[int]]:
    """Length-bucketed batches of at most ``batch_tokens`` padded tokens, in a seeded order, for every epoch."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    batches: list[list[int]] = []
    for _ in range(epochs):
        order = torch.randperm(len(encoded), generator=gen).tolist()
        # sort within windows of 256 rows by length so padding is small, then shuffle the batches
        epoch: list[list[int]] = []
        for w in range(0, len(order), 256):
            window = sorted(order[w:w + 256], key=lambda i: len(encoded[i].input_ids))
            cur: list[int] = []
            width = 0
            for i in window:
                n = len(encoded[i].input_ids)
                if cur and max(width, n) * (len(cur) + 1) > batch_tokens:
                    epoch.append(cur)
                    cur, width = [], 0
                cur.append(i)
                width = max(width, n)
            if cur:
                epoch.append(cur)
        perm = torch.randperm(len(epoch), generator=gen).tolist()
        batches += [epoch[i] for i in perm]
    return batches


def train(model, encoded, settings: PretrainSettings, pad_id: int, log=print) -> dict:
    """Full-parameter AdamW with warmup and cosine decay; returns loss statistics."""
    import torch

    batches = make_batches(encoded, settings.batch_tokens, settings.order_seed, settings.epochs)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": settings.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=settings.learning_rate,
                            betas=(0.9, 0.95))
    total = len(batches)

    def lr_at(step: int) -> float:
        if step < settings.warmup_steps:
            return settings.learning_rate * (step + 1) / settings.warmup_steps
        progress = (step - settings.warmup_steps) / max(1, total - settings.warmup_steps)
        cosine = 0.5 * (1 + math.cos(math.pi * progress))
        return settings.learning_rate * (settings.min_lr_ratio + (1 - settings.min_lr_ratio) * cosine)

    model.train()
    start = time.time()
    window: list[float] = []
    first = last = float("nan")
    for step, idx in enumerate(batches):
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        loss = model(**collate([encoded[i] for i in idx], pad_id)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        window.append(loss.item())
        if step == 19:
            first = sum(window) / len(window)
        if (step + 1) % 50 == 0 or step + 1 == total:
            last = sum(window[-50:]) / len(window[-50:])
            log(f"step {step + 1}/{total}  loss {last:.4f}  lr {lr_at(step):.2e}  {time.time() - start:.0f}s")
    model.eval()
    return {"steps": total, "loss_first_20": round(first, 4), "loss_last_50": round(last, 4),
            "train_seconds": round(time.time() - start, 1)}


# ---------------------------------------------------------------------------------------------------- building
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(out_dir: Path, settings: PretrainSettings = PretrainSettings(), log=print) -> dict:
    """Build the corpus, tokenizer and pretrained weights into ``out_dir``; return the manifest."""
    import torch

    started = time.time()
    old_threads = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        generated = build_corpus(settings)
        rows = without_contaminated(generated)
        log(f"corpus: {len(rows)} rows ({settings.plain_rows} plain files, {settings.chat_rows} chat turns, "
            f"{len(generated) - len(rows)} dropped for sharing a 13-gram with the benchmark)")
        hits = contaminated_rows(rows)
        if hits:
            raise RuntimeError(f"{len(hits)} corpus rows share a 13-gram with the benchmark, first: {hits[:5]}")
        tokenizer = build_tokenizer(tokenizer_texts(rows))
        encoded = encode_rows(tokenizer, rows, settings.max_len)
        log(f"tokens: {sum(len(x.input_ids) for x in encoded)}")
        model = init_model(tokenizer, settings.init_seed)
        stats = train(model, encoded, settings, tokenizer.convert_tokens_to_ids("<|endoftext|>"), log)
    finally:
        torch.set_num_threads(old_threads)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.to(torch.float16).save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    files = sorted(p.name for p in out_dir.iterdir() if p.is_file() and p.name != MANIFEST)
    manifest = {
        "command": "python -m codegen_ray.assets.pretrain",
        "settings": settings.__dict__,
        "model_shape": MODEL_SHAPE,
        "chat_families": list(CHAT_FAMILIES),
        "corpus_sha256": corpus_hash(rows),
        "corpus_rows_dropped": len(generated) - len(rows),
        "parameters": sum(p.numel() for p in model.parameters()),
        "training": stats,
        "seconds": round(time.time() - started, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
        "files": {name: _sha256(out_dir / name) for name in files},
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def check_shipped(directory: Path = SHIPPED_DIR) -> list[str]:
    """Files whose sha256 differs from the manifest's (or that are missing); empty when everything matches."""
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    bad = []
    for name, digest in manifest["files"].items():
        path = directory / name
        if not path.is_file() or _sha256(path) != digest:
            bad.append(name)
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen_ray.assets.pretrain",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SHIPPED_DIR, help="where to write (default: the shipped dir)")
    parser.add_argument("--check", action="store_true",
                        help="rebuild into a temporary directory and compare with the shipped files' hashes")
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            manifest = build(Path(tmp))
            shipped = json.loads((SHIPPED_DIR / MANIFEST).read_text(encoding="utf-8"))
            differ = [n for n, d in manifest["files"].items() if shipped["files"].get(n) != d]
        print("rebuild matches the shipped files" if not differ else f"differ: {', '.join(differ)}")
        return 1 if differ else 0
    tmp = Path(tempfile.mkdtemp(prefix=".pretrain-", dir=args.out.parent))
    try:
        manifest = build(tmp)
        tmp.chmod(0o755)
        if args.out.exists():
            shutil.rmtree(args.out)
        os.replace(tmp, args.out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"wrote {args.out} in {manifest['seconds']:.0f} s: {manifest['parameters']} parameters, "
          f"loss {manifest['training']['loss_first_20']} -> {manifest['training']['loss_last_50']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
