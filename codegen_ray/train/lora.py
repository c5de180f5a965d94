"""The LoRA model and one optimizer step: what the Ray Train worker (``worker.py``) runs, importable without Ray.

``experiments/benchmarks/gpu_check.py`` times exactly these functions on a GPU. torch, transformers and peft are
imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence


def torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def resolve_dtype(configured: str, use_gpu: bool) -> str:
    """``auto`` = bfloat16 on GPU, float32 on CPU."""
    if configured == "auto":
        return "bfloat16" if use_gpu else "float32"
    return configured


def module_leaf_names(model) -> set[str]:
    return {name.rsplit(".", 1)[-1] for name, _ in model.named_modules() if name}


def check_target_modules(model, target_modules: Sequence[str], model_name: str = "") -> None:
    leaves = module_leaf_names(model)
    missing = [m for m in target_modules if m not in leaves]
    if missing:
        from ..errors import ConfigError

        linear = sorted(
            {name.rsplit(".", 1)[-1] for name, mod in model.named_modules()
             if name and type(mod).__name__ in ("Linear", "Conv1D")}
        )
        raise ConfigError(
            "lora.target_modules",
            f"{', '.join(map(repr, missing))} not found in {model_name or 'the model'} (its linear layers: "
            f"{', '.join(linear)})",
        )


def apply_lora(model, lora: Mapping[str, Any], gradient_checkpointing: bool, model_name: str = ""):
    """A loaded base model, frozen, plus a fresh LoRA adapter from ``lora`` (the ``LoraConfig`` fields)."""
    from peft import LoraConfig, get_peft_model

    model.config.use_cache = False
    check_target_modules(model, lora["target_modules"], model_name)
    if gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    peft_config = LoraConfig(
        r=lora["r"],
        lora_alpha=lora["alpha"],
        lora_dropout=lora["dropout"],
        target_modules=list(lora["target_modules"]),
        bias=lora["bias"],
        modules_to_save=list(lora["modules_to_save"]) or None,
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, peft_config)
    for name, p in model.named_parameters():  # the base stays frozen whatever peft's defaults are
        if p.requires_grad and "lora_" not in name and "modules_to_save" not in name:
            p.requires_grad_(False)
    return model


def load_lora_model(model_path: str, dtype: str, trust_remote_code: bool, lora: Mapping[str, Any],
                    gradient_checkpointing: bool):
    """The base model from ``model_path`` in ``dtype`` + a fresh LoRA adapter (:func:`apply_lora`)."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch_dtype(dtype),
                                                 trust_remote_code=trust_remote_code)
    return apply_lora(model, lora, gradient_checkpointing, model_path)


def unwrap(model):
    return model.module if hasattr(model, "module") and hasattr(model, "no_sync") else model


def make_scheduler(optimizer, kind: str, warmup: int, total: int):
    from torch.optim.lr_scheduler import LambdaLR

    def factor(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / (warmup + 1)
        if kind == "constant":
            return 1.0
        progress = (step - warmup) / max(1, total - warmup)
        progress = min(max(progress, 0.0), 1.0)
        if kind == "linear":
            return 1.0 - progress
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return LambdaLR(optimizer, factor)


def step_seed(seed: int, rank: int, step: int) -> int:
    return (seed * 1_000_003 + rank * 7_919 + step * 104_729) % (2**63 - 1)


@dataclass(frozen=True)
class StepResult:
    loss: float  # the group's mean loss per trainable token (micro-batch losses are normalised by the group's items)
    tokens: int  # non-padding tokens in the group
    lr: float  # the learning rate this step used


def train_step(model, optimizer, scheduler, params: Sequence[Any], micro_batches: Sequence[Mapping[str, Any]],
               device, n_items: int, max_grad_norm: float) -> StepResult:
    """One optimizer step over a group of collated micro-batches (gradient accumulation): each is moved to
    ``device``, run forward and backward (under DDP, gradients are synchronised on the last one only), then the
    gradients are clipped to ``max_grad_norm`` (when > 0), and the optimizer and scheduler step."""
    loss, tokens = 0.0, 0
    for j, cpu_batch in enumerate(micro_batches):
        tokens += int(cpu_batch["attention_mask"].sum())
        batch = {k: v.to(device, non_blocking=True) for k, v in cpu_batch.items()}
        last = j == len(micro_batches) - 1
        sync = contextlib.nullcontext() if last or not hasattr(model, "no_sync") else model.no_sync()
        with sync:
            out = model(**batch, num_items_in_batch=n_items)
            out.loss.backward()
        loss += float(out.loss.detach())
    if max_grad_norm > 0:
        import torch

        torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
    lr = scheduler.get_last_lr()[0]
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return StepResult(loss, tokens, lr)
