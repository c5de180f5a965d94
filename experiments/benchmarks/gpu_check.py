"""GPU check: the project's LoRA training step and transformers generation backend, timed on one GPU.

A randomly initialised Qwen2 with ``Qwen/Qwen2.5-Coder-1.5B-Instruct``'s shape is built from a ``Qwen2Config`` (no
download). Needs torch, transformers and peft only -- no Ray, vLLM, MLflow or network.

1. LoRA training with the reference study's adapter (r 16, alpha 32, dropout 0.05 on q/k/v/o) and batch (4 x 2048
   tokens per micro-batch, 4 micro-batches per optimizer step), in bf16, through exactly what a Ray Train worker
   runs (``codegen_ray.train.lora``: ``apply_lora``, ``train_step``, ``make_scheduler``), without and with gradient
   checkpointing. Prints tokens/s, model FLOPs per token and MFU against the GPU's dense bf16 peak (``--peak-tflops``
   when the GPU is not in the table). Model FLOPs per token of LoRA training: 4 x (weights of every matmul, lm_head
   included: forward, and backward through frozen weights) + 6 x LoRA weights + 12 x layers x hidden x sequence
   length (attention scores and values, forward and backward, no causal discount). Recomputation under gradient
   checkpointing is not model FLOPs.
2. Generation with the transformers backend (``codegen_ray.generation.hf_backend.HFBackend``) serving the two
   adapters trained in step 1 from one loaded base model, alternately, greedy; prints generated tokens/s.

The tokenizer is the project's builtin tiny one (built offline); the model's vocabulary is the real one, so token ids
the tokenizer does not know decode to nothing (generation length is what is measured).

    python experiments/benchmarks/gpu_check.py                    # a CUDA machine: about 2 minutes on an H100
    python experiments/benchmarks/gpu_check.py --shape tiny       # anywhere, CPU: what tests/test_gpu_check.py runs
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

# Qwen/Qwen2.5-Coder-1.5B-Instruct's config.json (architecture fields), and a tiny shape for CPU tests.
SHAPES = {
    "qwen2.5-coder-1.5b": dict(vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                               num_attention_heads=12, num_key_value_heads=2, max_position_embeddings=32768,
                               rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_act="silu",
                               use_sliding_window=False, max_window_layers=21, bos_token_id=151643,
                               eos_token_id=151645),
    "tiny": dict(vocab_size=5000, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, max_position_embeddings=4096, tie_word_embeddings=True),
}
REFERENCE_LORA = dict(r=16, alpha=32, dropout=0.05, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                      bias="none", modules_to_save=[])
# Dense bf16 tensor-core peaks, TFLOPS (vendor data sheets, without sparsity). First match of the device name wins.
BF16_PEAK_TFLOPS = (("GH200", 989.5), ("H200", 989.5), ("H100 PCIe", 756.0), ("H100", 989.5), ("H800", 989.5),
                    ("B200", 2250.0), ("A100", 312.0), ("A800", 312.0), ("L40S", 362.1), ("L40", 181.0),
                    ("L4", 121.0), ("A10G", 70.0), ("A10", 125.0))


@dataclass(frozen=True)
class TrainTiming:
    gradient_checkpointing: bool
    tokens_per_s: float
    flops_per_token: float
    peak_memory_gb: float
    loss: float


def _peak_tflops(device_name: str, override: float | None) -> tuple[float | None, str]:
    if override:
        return override, "--peak-tflops"
    for key, tflops in BF16_PEAK_TFLOPS:
        if key in device_name:
            return tflops, f"table entry {key!r}"
    return None, "unknown GPU: pass --peak-tflops"


def build_base(shape: str, device, dtype, seed: int):
    """The randomly initialised model, identical for a given seed (weights drawn on ``device``)."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    torch.manual_seed(seed)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(Qwen2Config(**SHAPES[shape]), dtype=dtype)
    return model


def matmul_weights(model) -> int:
    import torch

    return sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))


def train(base, gradient_checkpointing: bool, args, device, matmul: int, adapter_dir: Path) -> TrainTiming:
    """Time ``args.steps`` optimizer steps (after ``args.warmup``) of the project's LoRA step; save the adapter."""
    import torch

    from codegen_ray.train.lora import apply_lora, make_scheduler, train_step
    from codegen_ray.train.tokenize import TokenizedExample, collate

    model = apply_lora(base, REFERENCE_LORA, gradient_checkpointing, "gpu-check")
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    lora_weights = sum(p.numel() for p in params)
    optimizer = torch.optim.AdamW(params, lr=2e-4, weight_decay=0.0)
    scheduler = make_scheduler(optimizer, "constant", 0, args.warmup + args.steps)
    rng = random.Random(args.seed)
    vocab = model.config.vocab_size

    def group():
        batches = []
        for _ in range(args.accumulation):
            examples = []
            for _ in range(args.micro_batch):
                ids = tuple(rng.randrange(vocab) for _ in range(args.seq_len))
                examples.append(TokenizedExample(ids, ids, "gpu-check"))
            batches.append(collate(examples, 0))
        return batches, args.accumulation * args.micro_batch * (args.seq_len - 1)

    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    tokens = 0
    elapsed = 0.0
    result = None
    for step in range(args.warmup + args.steps):
        batches, n_items = group()
        if cuda:
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        result = train_step(model, optimizer, scheduler, params, batches, device, n_items, 1.0)
        if cuda:
            torch.cuda.synchronize(device)
        if step >= args.warmup:
            elapsed += time.perf_counter() - t0
            tokens += result.tokens
    model.save_pretrained(str(adapter_dir))
    layers, hidden = model.config.num_hidden_layers, model.config.hidden_size
    flops = 4 * matmul + 6 * lora_weights + 12 * layers * hidden * args.seq_len
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if cuda else 0.0
    return TrainTiming(gradient_checkpointing, tokens / elapsed, flops, peak, result.loss if result else float("nan"))


def generate(model_dir: Path, adapters: list[Path], args) -> list[tuple[str, int, float]]:
    """Generated tokens and seconds per call, the two adapters alternately (after one untimed call each)."""
    from codegen_ray.config import GenerationConfig
    from codegen_ray.generation.hf_backend import HFBackend
    from codegen_ray.types import CheckpointRef, Prompt, SamplingSettings

    backend = HFBackend(str(model_dir), GenerationConfig(batch_size=args.gen_prompts), dtype=args.dtype)
    prompts = [Prompt(question_id=f"q{i}", text=f"# task {i}\nRead N numbers and print their sum.\n" * 4)
               for i in range(args.gen_prompts)]
    sampling = SamplingSettings(n=1, temperature=0.0, top_p=1.0, max_tokens=args.gen_tokens, seed=0)
    refs = [CheckpointRef(variant="gpu-check", step=k + 1, epoch=1, adapter_path=str(a)) for k, a in enumerate(adapters)]
    for ref in refs:  # loads each adapter (not timed)
        backend.generate(prompts[:1], SamplingSettings(n=1, temperature=0.0, max_tokens=2), ref)
    out = []
    for ref in refs + refs:
        if backend.device.type == "cuda":
            backend._torch.cuda.synchronize(backend.device)
        t0 = time.perf_counter()
        completions = backend.generate(prompts, sampling, ref)
        if backend.device.type == "cuda":
            backend._torch.cuda.synchronize(backend.device)
        out.append((Path(ref.adapter_path).name, sum(c[0].num_tokens for c in completions), time.perf_counter() - t0))
    assert len(backend.loaded_adapters) == len(adapters), "the backend reloaded an adapter"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="qwen2.5-coder-1.5b")
    parser.add_argument("--seq-len", type=int, default=2048)
    parser.add_argument("--micro-batch", type=int, default=4, help="sequences per micro-batch (reference: 4)")
    parser.add_argument("--accumulation", type=int, default=4, help="micro-batches per step (reference: 4)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed optimizer steps first")
    parser.add_argument("--steps", type=int, default=5, help="timed optimizer steps")
    parser.add_argument("--gen-prompts", type=int, default=16, help="prompts per generation call (one batch)")
    parser.add_argument("--gen-tokens", type=int, default=256, help="new tokens per prompt")
    parser.add_argument("--peak-tflops", type=float, default=None, help="the GPU's dense bf16 peak, if not in the table")
    parser.add_argument("--tokenizer", default=None, help="a tokenizer directory (default: build the tiny one)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    started = time.perf_counter()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu" and args.shape != "tiny":
        raise SystemExit("no CUDA device: the full shape needs a GPU (use --shape tiny to check the script on CPU)")
    args.dtype = "bfloat16" if device.type == "cuda" else "float32"
    dtype = getattr(torch, args.dtype)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    peak, peak_source = _peak_tflops(name, args.peak_tflops) if device.type == "cuda" else (None, "no GPU")
    print(f"device: {name}; torch {torch.__version__}; shape {args.shape}; dtype {args.dtype}; "
          f"bf16 peak: {f'{peak:g} TFLOPS' if peak else 'n/a'} ({peak_source})", flush=True)
    if args.tokenizer is None:
        from codegen_ray.assets.tiny_model import ensure_tiny_model

        args.tokenizer = str(ensure_tiny_model(os.environ.get("CODEGEN_RAY_CACHE", "~/.cache/codegen_ray")))
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        work = Path(tmp)
        base = build_base(args.shape, device, dtype, args.seed)
        matmul = matmul_weights(base)
        base.save_pretrained(str(work / "base"))
        AutoTokenizer.from_pretrained(args.tokenizer).save_pretrained(str(work / "base"))
        params = sum(p.numel() for p in base.parameters())
        print(f"model: {params / 1e6:.1f} M parameters, {matmul / 1e6:.1f} M in matmuls (lm_head included); "
              f"built and saved in {time.perf_counter() - started:.0f} s", flush=True)
        tokens_per_step = args.accumulation * args.micro_batch * args.seq_len
        print(f"LoRA training: r {REFERENCE_LORA['r']} on {','.join(REFERENCE_LORA['target_modules'])}; "
              f"{args.accumulation} x {args.micro_batch} x {args.seq_len} = {tokens_per_step} tokens per step; "
              f"{args.warmup} warm-up + {args.steps} timed steps", flush=True)
        adapters = []
        for checkpointing in (False, True):
            if base is None:
                base = build_base(args.shape, device, dtype, args.seed)
            adapter = work / f"adapter-{'gc' if checkpointing else 'nogc'}"
            timing = train(base, checkpointing, args, device, matmul, adapter)
            adapters.append(adapter)
            mfu = f"{100 * timing.tokens_per_s * timing.flops_per_token / (peak * 1e12):.1f}%" if peak else "n/a"
            print(f"  gradient checkpointing {'on ' if checkpointing else 'off'}: {timing.tokens_per_s:10.0f} tokens/s"
                  f"  MFU {mfu}  ({timing.flops_per_token / 1e9:.2f} GFLOP/token, peak memory "
                  f"{timing.peak_memory_gb:.1f} GiB, loss {timing.loss:.3f})", flush=True)
            base = None
            gc.collect()
            if device.type == "cuda":
                torch.cuda.empty_cache()
        print(f"generation (transformers backend, two adapters on one base model, greedy, {args.gen_prompts} "
              f"prompts x {args.gen_tokens} new tokens per call):", flush=True)
        for adapter, tokens, seconds in generate(work / "base", adapters, args):
            print(f"  {adapter:12} {tokens:6d} tokens in {seconds:6.2f} s = {tokens / seconds:8.1f} generated tokens/s",
                  flush=True)
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
