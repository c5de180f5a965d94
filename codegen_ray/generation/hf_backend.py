"""transformers generation backend: batched decoding with left padding and a KV cache, LoRA adapters via peft.

Decoding is a small explicit loop rather than ``model.generate`` so that every row (one sample of one prompt) has
its own ``torch.Generator`` seeded by :func:`~codegen_ray.generation.base.sample_seed`: a sample's random stream does
not depend on the batch it is in. Rows are grouped into batches of ``generation.batch_size`` (sorted by prompt
length, to pad less); prompts are left-padded and each step feeds one token per row through the cache.

Adapters are loaded into one :class:`peft.PeftModel` wrapping the base model, each under a unique name derived from
its fingerprint (path + file sizes/mtimes); switching checkpoints is ``set_adapter`` (the base model is never
reloaded) and the base model runs inside ``disable_adapter()``. At most ``generation.hf_max_adapters`` adapters stay
loaded (least recently used are deleted) so memory stays bounded over a long sweep.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Sequence

from codegen_ray.generation.base import (
    GeneratedSample,
    SampleBackendMixin,
    adapter_fingerprint,
    encode_prompt,
    find_stop,
    repeat_greedy,
    resolve_torch_dtype_name,
    sample_seed,
)
from codegen_ray.types import CheckpointRef, Completion, Prompt, SamplingSettings

if TYPE_CHECKING:  # pragma: no cover
    from codegen_ray.config import GenerationConfig

log = logging.getLogger(__name__)


class HFBackend(SampleBackendMixin):
    """Generation with transformers (+ peft for adapters). One instance keeps one base model loaded."""

    name = "hf"

    def __init__(self, model_path: str, gen_cfg: "GenerationConfig", dtype: str = "auto") -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self._torch = torch
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.dtype_name = resolve_torch_dtype_name(dtype, self.device.type == "cuda")
        self.batch_size = gen_cfg.batch_size
        self.max_adapters = gen_cfg.hf_max_adapters
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=getattr(torch, self.dtype_name))
        model.to(self.device)
        model.eval()
        self.base_model = model
        self.model: Any = model  # becomes a PeftModel once the first adapter is loaded
        self._adapters: OrderedDict[str, str] = OrderedDict()  # fingerprint -> adapter name (LRU order)
        self._adapter_counter = 0
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.tokenizer.eos_token_id
        eos: set[int] = set()
        for source in (getattr(model.generation_config, "eos_token_id", None), self.tokenizer.eos_token_id):
            if isinstance(source, int):
                eos.add(source)
            elif source:
                eos.update(int(t) for t in source)
        self.eos_ids = frozenset(eos)

    # ---------------------------------------------------------------------------------------------- adapters
    def _activate(self, checkpoint: CheckpointRef):
        """Context manager under which ``self.model`` computes with ``checkpoint`` (adapter or plain base)."""
        if checkpoint.adapter_path is None:
            if self.model is self.base_model:
                return contextlib.nullcontext()
            return self.model.disable_adapter()
        fingerprint = adapter_fingerprint(checkpoint.adapter_path)
        name = self._adapters.get(fingerprint)
        if name is None:
            self._adapter_counter += 1
            name = f"a{self._adapter_counter}"
            if self.model is self.base_model:
                from peft import PeftModel

                self.model = PeftModel.from_pretrained(
                    self.base_model, checkpoint.adapter_path, adapter_name=name, is_trainable=False
                )
            else:
                self.model.load_adapter(checkpoint.adapter_path, adapter_name=name, is_trainable=False)
            self.model.to(self.device)
            self.model.eval()
            self._adapters[fingerprint] = name
            log.info("loaded adapter %s from %s", name, checkpoint.adapter_path)
        self._adapters.move_to_end(fingerprint)
        self.model.set_adapter(name)
        while len(self._adapters) > self.max_adapters:
            _, old = self._adapters.popitem(last=False)
            self.model.delete_adapter(old)
        return contextlib.nullcontext()

    @property
    def loaded_adapters(self) -> list[str]:
        return list(self._adapters.values())

    # -------------------------------------------------------------------------------------------- generation
    def generate_samples(
        self, prompts: Sequence[Prompt], sampling: SamplingSettings, checkpoint: CheckpointRef
    ) -> list[list[GeneratedSample]]:
        """As :meth:`generate`, with each sample's generated token ids."""
        torch = self._torch
        encoded = [encode_prompt(self.tokenizer, p) for p in prompts]
        samples_per_prompt = 1 if sampling.greedy else sampling.n
        # rows: (prompt index, sample index), longest prompts first so batches pad little
        rows = [(pi, si) for pi in range(len(prompts)) for si in range(samples_per_prompt)]
        rows.sort(key=lambda r: (-len(encoded[r[0]]), r[0], r[1]))
        results: dict[tuple[int, int], GeneratedSample] = {}
        with torch.inference_mode(), self._activate(checkpoint):
            for start in range(0, len(rows), self.batch_size):
                batch = rows[start : start + self.batch_size]
                outs = self._decode_batch(
                    [encoded[pi] for pi, _ in batch],
                    [sample_seed(sampling.seed, prompts[pi].question_id, si) for pi, si in batch],
                    sampling,
                )
                for (pi, si), (text, token_ids, reason) in zip(batch, outs):
                    completion = Completion(prompts[pi].question_id, si, text, len(token_ids), reason)
                    results[(pi, si)] = GeneratedSample(completion, tuple(token_ids))
        if sampling.greedy:
            return repeat_greedy(prompts, sampling.n, {pi: results[(pi, 0)] for pi in range(len(prompts))})
        return [[results[(pi, si)] for si in range(sampling.n)] for pi in range(len(prompts))]

    def _next_tokens(self, logits, generators, sampling: SamplingSettings):
        torch = self._torch
        if sampling.greedy:
            return logits.argmax(dim=-1)
        probs = torch.softmax(logits / sampling.temperature, dim=-1)
        if sampling.top_p < 1.0:
            sorted_probs, sorted_idx = probs.sort(dim=-1, descending=True)
            cumulative = sorted_probs.cumsum(dim=-1)
            # keep a token while the mass before it is < top_p (the most likely token is always kept)
            keep = (cumulative - sorted_probs) < sampling.top_p
            sorted_probs = sorted_probs * keep
            probs = torch.zeros_like(probs).scatter_(-1, sorted_idx, sorted_probs)
            probs = probs / probs.sum(dim=-1, keepdim=True)
        picks = [
            torch.multinomial(probs[r].cpu(), 1, generator=generators[r]).item() for r in range(probs.shape[0])
        ]
        return torch.tensor(picks, device=logits.device)

    def _decode_batch(
        self, prompt_ids: list[list[int]], seeds: list[int], sampling: SamplingSettings
    ) -> list[tuple[str, list[int], str]]:
        torch = self._torch
        bsz = len(prompt_ids)
        width = max(len(p) for p in prompt_ids)
        input_ids = torch.full((bsz, width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((bsz, width), dtype=torch.long)
        for r, ids in enumerate(prompt_ids):
            if ids:
                input_ids[r, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
                mask[r, width - len(ids) :] = 1
        input_ids, mask = input_ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(dim=-1) - 1).clamp(min=0)
        generators = [torch.Generator().manual_seed(s) for s in seeds]
        streams = [_TextStream(self.tokenizer, ids) for ids in prompt_ids]
        generated: list[list[int]] = [[] for _ in range(bsz)]
        done = [False] * bsz
        reasons = ["length"] * bsz
        stop = [s for s in sampling.stop if s]

        out = self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=True)
        past = out.past_key_values
        logits = out.logits[:, -1, :].float()
        next_pos = positions[:, -1:] + 1
        for step in range(sampling.max_tokens):
            tokens = self._next_tokens(logits, generators, sampling)
            for r in range(bsz):
                if done[r]:
                    continue
                tok = int(tokens[r])
                generated[r].append(tok)
                if tok in self.eos_ids:  # not detokenized (vLLM skips the stop token)
                    done[r], reasons[r] = True, "stop"
                    continue
                new_chars = streams[r].push(tok)
                if stop:
                    cut = find_stop(streams[r].text, new_chars, stop)
                    if cut is not None:
                        streams[r].text = streams[r].text[:cut]
                        done[r], reasons[r] = True, "stop"
            if all(done) or step == sampling.max_tokens - 1:
                break
            feed = torch.tensor(
                [self.pad_id if done[r] else int(tokens[r]) for r in range(bsz)], device=self.device
            ).unsqueeze(1)
            mask = torch.cat([mask, torch.ones((bsz, 1), dtype=mask.dtype, device=self.device)], dim=1)
            out = self.model(
                input_ids=feed, attention_mask=mask, position_ids=next_pos, past_key_values=past, use_cache=True
            )
            past = out.past_key_values
            logits = out.logits[:, -1, :].float()
            next_pos = next_pos + 1
        return [(streams[r].text, generated[r], reasons[r]) for r in range(bsz)]


class _TextStream:
    """Incremental detokenization of one sample, as vLLM does it (DecodeStream primed with the prompt ids)."""

    def __init__(self, tokenizer: Any, prompt_ids: list[int]) -> None:
        self.text = ""
        self._backend = getattr(tokenizer, "_tokenizer", None)
        if self._backend is not None:
            from tokenizers.decoders import DecodeStream

            self._stream = DecodeStream(ids=list(prompt_ids), skip_special_tokens=True)
        else:  # slow tokenizer: decode everything generated so far and diff
            self._tokenizer = tokenizer
            self._ids: list[int] = []

    def push(self, token_id: int) -> int:
        """Append one generated token; returns how many characters of text it added."""
        if self._backend is not None:
            chunk = self._stream.step(self._backend, token_id) or ""
        else:
            self._ids.append(token_id)
            full = self._tokenizer.decode(self._ids, skip_special_tokens=True)
            chunk = full[len(self.text) :] if not full.endswith("\ufffd") else ""
        self.text += chunk
        return len(chunk)
