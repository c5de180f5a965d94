"""The builtin tiny model: a real Qwen2-architecture causal LM with random (seeded) weights and a BPE tokenizer.

Nothing can be downloaded from a model hub on CI machines, so the embedded default and the tests use a model the
project builds itself: a :class:`transformers.Qwen2ForCausalLM` from a small :class:`~transformers.Qwen2Config`
(hidden 128, 2 heads → head_dim 64, which vLLM's CPU build serves) and a byte-level BPE tokenizer trained offline
with ``tokenizers`` on the shipped instruction data and benchmark, with a Qwen-style ChatML chat template.

It is written once to ``<cache_dir>/tiny-qwen2-<hash>`` (the hash covers the builder version and the training
corpus) and then loaded through the ordinary ``AutoModelForCausalLM`` / ``AutoTokenizer.from_pretrained(path)`` path
that a hub model such as ``Qwen/Qwen2.5-Coder-1.5B-Instruct`` takes. Building never touches global RNG state: weights
are drawn from a private ``torch.Generator``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

BUILDER_VERSION = "4"
SEED = 20241130
VOCAB_SIZE = 4096
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
DEFAULT_SYSTEM = "You are a helpful assistant."

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
    hidden_size=128,
    intermediate_size=512,
    num_hidden_layers=4,
    num_attention_heads=2,
    num_key_value_heads=2,
    max_position_embeddings=4096,
    rope_theta=10000.0,
    rms_norm_eps=1e-6,
    tie_word_embeddings=True,
)


_SKIP_KEYS = frozenset({"private_test_cases", "metadata"})


def _corpus_files() -> list[Path]:
    data = Path(__file__).resolve().parent / "data"
    return sorted(data.glob("*.jsonl"))


def _corpus_texts() -> list[str]:
    """Every string in the shipped JSONL files (instruction data and benchmark statements), except the encoded
    private tests (base64 blobs would only add junk merges)."""
    texts: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            if value:
                texts.append(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                if k not in _SKIP_KEYS:
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for path in _corpus_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                walk(json.loads(line))
    return texts


def tiny_model_fingerprint() -> str:
    h = hashlib.sha256()
    h.update(f"{BUILDER_VERSION}|{SEED}|{VOCAB_SIZE}|{sorted(MODEL_SHAPE.items())}|{CHAT_TEMPLATE}".encode())
    for path in _corpus_files():
        h.update(path.name.encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:12]


def build_tokenizer(texts: list[str]):
    """Train a byte-level BPE tokenizer on ``texts`` and wrap it as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
        model_max_length=MODEL_SHAPE["max_position_embeddings"],
        padding_side="right",
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_model(tokenizer):
    """A Qwen2ForCausalLM with weights drawn from a private, seeded generator (no global seeding)."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        bos_token_id=pad,
        eos_token_id=eos,
        pad_token_id=pad,
        torch_dtype="float32",
        **MODEL_SHAPE,
    )
    # transformers' default init draws from the global RNG; fork_rng gives the caller its state back untouched
    # (every weight is overwritten from the private generator below anyway).
    with torch.random.fork_rng(devices=[]):
        model = Qwen2ForCausalLM(config)
    gen = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, param in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                param.fill_(1.0)
            elif name.endswith(".bias"):
                param.zero_()
            else:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.02)
    model.generation_config = GenerationConfig(
        bos_token_id=pad, eos_token_id=[eos, pad], pad_token_id=pad, do_sample=False
    )
    return model


def ensure_tiny_model(cache_dir: str | os.PathLike) -> Path:
    """Build the tiny model into ``cache_dir`` unless an identical build is already there; return its directory."""
    cache_dir = Path(os.path.expanduser(str(cache_dir)))
    target = cache_dir / f"tiny-qwen2-{tiny_model_fingerprint()}"
    if (target / "config.json").is_file() and (target / "tokenizer.json").is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tiny-qwen2-", dir=cache_dir))
    try:
        tokenizer = build_tokenizer(_corpus_texts())
        model = build_model(tokenizer)
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        try:
            os.replace(tmp, target)  # atomic publish; a concurrent builder may have won the race
        except OSError:
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
