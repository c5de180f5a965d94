"""Synthetic LoRA adapters on a base model, for tests and benchmarks of the generation stack.

``peft`` initialises LoRA's B matrices to zero, which makes a fresh adapter a no-op; an adapter made here has every
A and B drawn from a private seeded ``torch.Generator``, so different seeds give adapters that change the model's
outputs differently (and the same seed gives the same adapter, bit for bit). They are ordinary peft adapters
(``adapter_config.json`` + ``adapter_model.safetensors``) that transformers/peft and vLLM both load.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")


def make_random_lora(
    base_model_path: str | Path,
    out_dir: str | Path,
    seed: int,
    rank: int = 8,
    alpha: int = 16,
    scale: float = 0.5,
    target_modules: tuple[str, ...] = DEFAULT_TARGETS,
) -> Path:
    """Write a LoRA adapter with N(0, scale²) A and B weights (seeded) for ``base_model_path`` into ``out_dir``."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    out = Path(out_dir)
    model = AutoModelForCausalLM.from_pretrained(str(base_model_path), dtype=torch.float32)
    config = LoraConfig(
        r=rank, lora_alpha=alpha, target_modules=list(target_modules), lora_dropout=0.0, bias="none"
    )
    peft_model = get_peft_model(model, config)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in sorted(peft_model.named_parameters()):
            if "lora_A" in name or "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=gen) * scale)
    out.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(str(out))
    return out
