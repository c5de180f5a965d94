"""Generation benchmark: one pooled engine serving K LoRA checkpoints vs a fresh engine per checkpoint.

Evaluates K (default 6) tiny-model LoRA adapters (synthetic, seeded: ``codegen_ray.generation.adapters``) on the
embedded benchmark (``builtin:atcoder-mini``, LiveCodeBench CodeQwen prompts from ``codegen_ray.lcb``):

  (a) pooled   — ONE generation worker (Ray actor) holds ONE engine; all K checkpoints are served by it, each
                 request carrying its adapter (vLLM multi-LoRA ``LoRARequest``; transformers: peft set_adapter);
  (b) fresh    — for each checkpoint a new worker actor (a new engine: model load, KV-cache allocation, warm-up)
                 serves that checkpoint alone and is then killed.

Wall times include starting the engines (that is the cost (a) saves) and exclude building the model and adapters.
Both runs use the same sampling settings and per-sample seeds, so the script also checks that (a) and (b) produce
identical completions. Goal: (b) / (a) >= 3.

    VLLM_CPU_KVCACHE_SPACE=1 .venv/bin/python experiments/benchmarks/bench_generation.py [--k 6] [--backend vllm]
        [--max-tokens 128] [--n 1] [--verbose]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")

from codegen_ray.config import BenchmarkConfig, GenerationConfig  # noqa: E402
from codegen_ray.types import CheckpointRef, SamplingSettings  # noqa: E402


def load_prompts(model_name: str):
    from codegen_ray.lcb.dataset import load_problems
    from codegen_ray.lcb.prompts import build_prompt, resolve_prompt_style

    problems = load_problems(BenchmarkConfig())
    style = resolve_prompt_style("auto", model_name)
    return [build_prompt(p, style) for p in problems]


def run_pooled(kind, model_path, gen_cfg, checkpoints, prompts, sampling):
    import ray

    from codegen_ray.generation.pool import start_worker

    t0 = time.perf_counter()
    worker = start_worker(kind, model_path, gen_cfg, "float32")
    ray.get(worker.ready.remote())
    t_ready = time.perf_counter() - t0
    outputs = {}
    for ck in checkpoints:
        outputs[ck.key] = ray.get(worker.generate.remote(ck, prompts, sampling))
    total = time.perf_counter() - t0
    ray.kill(worker)
    return total, t_ready, outputs


def run_fresh(kind, model_path, gen_cfg, checkpoints, prompts, sampling):
    import ray

    from codegen_ray.generation.pool import start_worker

    t0 = time.perf_counter()
    ready_times = []
    outputs = {}
    for ck in checkpoints:
        t1 = time.perf_counter()
        worker = start_worker(kind, model_path, gen_cfg, "float32")
        ray.get(worker.ready.remote())
        ready_times.append(time.perf_counter() - t1)
        outputs[ck.key] = ray.get(worker.generate.remote(ck, prompts, sampling))
        ray.kill(worker)
        # wait until the actor's resources are released, so the next one can start
        while ray.available_resources().get("CPU", 0) < gen_cfg.cpus_per_actor:
            time.sleep(0.05)
    total = time.perf_counter() - t0
    return total, sum(ready_times), outputs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--k", type=int, default=6, help="number of LoRA checkpoints")
    ap.add_argument("--backend", default="vllm", choices=["vllm", "hf"])
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--n", type=int, default=1)
    ap.add_argument("--temperature", type=float, default=0.2)
    ap.add_argument("--verbose", action="store_true", help="show the workers' (vLLM's) logs")
    ap.add_argument("--cache-dir", default=os.environ.get("CODEGEN_RAY_CACHE", "~/.cache/codegen_ray"))
    args = ap.parse_args(argv)

    import ray

    from codegen_ray.assets.tiny_model import ensure_tiny_model
    from codegen_ray.generation.adapters import make_random_lora

    model_path = str(ensure_tiny_model(Path(os.path.expanduser(args.cache_dir))))
    prompts = load_prompts("builtin:tiny-qwen2")
    sampling = SamplingSettings(n=args.n, temperature=args.temperature, top_p=0.95, max_tokens=args.max_tokens, seed=0)
    gen_cfg = GenerationConfig(cpus_per_actor=1.0, num_actors=1, batch_size=32)
    gen_cfg.vllm.max_model_len = 2048
    gen_cfg.vllm.max_lora_rank = 8
    gen_cfg.vllm.max_loras = 2  # fewer GPU/CPU LoRA slots than checkpoints: adapters are swapped in and out
    gen_cfg.hf_max_adapters = 2  # the same for the transformers backend

    with tempfile.TemporaryDirectory(prefix="bench_generation_") as tmp:
        checkpoints = [
            CheckpointRef("bench", 10 * (i + 1), 1, str(make_random_lora(model_path, Path(tmp) / f"a{i}", seed=i + 1)))
            for i in range(args.k)
        ]
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=args.verbose, configure_logging=False)
        try:
            print(f"backend={args.backend} K={args.k} prompts={len(prompts)} n={args.n} "
                  f"max_tokens={args.max_tokens} temperature={args.temperature} model={model_path}", flush=True)
            a_total, a_ready, a_out = run_pooled(args.backend, model_path, gen_cfg, checkpoints, prompts, sampling)
            print(f"(a) pooled, 1 engine for {args.k} checkpoints: {a_total:8.1f} s  (engine start {a_ready:.1f} s)",
                  flush=True)
            b_total, b_ready, b_out = run_fresh(args.backend, model_path, gen_cfg, checkpoints, prompts, sampling)
            print(f"(b) fresh engine per checkpoint:        {b_total:8.1f} s  (engine starts {b_ready:.1f} s)",
                  flush=True)
        finally:
            ray.shutdown()

    same = a_out == b_out
    tokens = sum(c.num_tokens for rows in a_out.values() for row in rows for c in row)
    print(f"generated tokens per run: {tokens}; (a) and (b) completions identical: {same}")
    print(f"ratio (b)/(a): {b_total / a_total:.2f}x  (goal >= 3x)")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
