"""Training benchmark: Ray Train (1 worker, the real ``train_variant`` path) vs a plain single-process PEFT loop.

Both train the same tiny model with the same LoRA config on the same tokenized rows, in the same order (a
DistributedSampler with one replica and the same seed), for the same number of optimizer steps, and both end with a
validation pass and an adapter save. Runs alternate (plain, ray, plain, ray, ...) so both see the same machine load.

Reported per run:
  * loop tokens/s  — non-padding tokens / wall time from the first step to the end of the last checkpoint, measured
                     inside the training process (the Ray figure comes from the worker, via meta.json);
  * tokens/CPU-s    — the same tokens per CPU second of the training process (all threads): insensitive to other
                     processes competing for the cores, which wall-clock figures on a shared machine are not;
  * end-to-end s   — the whole call, including model loading and (for Ray) starting the Train controller and worker.
The goal is a loop tokens/s ratio ray / plain >= 0.95.

    .venv/bin/python experiments/benchmarks/bench_training.py [--rows 160] [--repeats 2] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from codegen_ray.config import config_from_dict  # noqa: E402
from codegen_ray.train.data import load_variant_rows, split_rows  # noqa: E402
from codegen_ray.train.tokenize import collate, pad_token_id, tokenize_examples  # noqa: E402


def make_cfg(rows: int, cpus: float, max_seq_len: int):
    return config_from_dict({
        "lora": {"r": 8, "alpha": 16, "dropout": 0.0},
        "training": {"epochs": 1, "micro_batch_size": 8, "learning_rate": 3e-3, "warmup_ratio": 0.05,
                     "max_seq_len": max_seq_len, "save_steps": 0, "log_every": 5, "seed": 42, "num_workers": 1,
                     "cpus_per_worker": cpus, "max_failures": 0},
        "data": {"variants": [{"name": "bench", "path": "builtin:diverse", "max_samples": rows}],
                 "val_fraction": 0.1},
    })


def plain_loop(cfg, model_path: str, train, val, pad_id: int, out_dir: Path) -> dict:
    """The reference: a straightforward single-process PEFT training loop, no Ray."""
    import torch
    from peft import LoraConfig, get_peft_model
    from torch.utils.data import DistributedSampler
    from transformers import AutoModelForCausalLM

    from codegen_ray.train.lora import make_scheduler

    t_all = time.perf_counter()
    tc = cfg.training
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(tc.seed)
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
        model.config.use_cache = False
        model = get_peft_model(model, LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                                                 target_modules=list(cfg.lora.target_modules), task_type="CAUSAL_LM"))
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=tc.learning_rate, weight_decay=tc.weight_decay)
        steps = math.ceil(len(train) / tc.micro_batch_size) * tc.epochs
        sched = make_scheduler(opt, tc.lr_scheduler, math.ceil(tc.warmup_ratio * steps), steps)
        sampler = DistributedSampler(range(len(train)), num_replicas=1, rank=0, shuffle=True, seed=tc.seed)
        model.train()
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        tokens = 0
        for epoch in range(tc.epochs):
            sampler.set_epoch(epoch)
            idx = list(sampler)
            for i in range(0, len(idx), tc.micro_batch_size):
                batch = collate([train[j] for j in idx[i:i + tc.micro_batch_size]], pad_id)
                tokens += int(batch["attention_mask"].sum())
                loss = model(**batch).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, tc.max_grad_norm)
                opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)
        model.eval()
        with torch.no_grad():
            val_loss = [float(model(**collate(val[i:i + 8], pad_id)).loss) for i in range(0, len(val), 8)]
        loop_s = time.perf_counter() - t0  # as in the worker: up to the checkpoint's val pass, before saving
        loop_cpu_s = time.process_time() - cpu0
        model.save_pretrained(out_dir / "adapter")
    return {"loop_tokens": tokens, "loop_s": loop_s, "loop_cpu_s": loop_cpu_s, "end_to_end_s": time.perf_counter() - t_all,
            "val_loss": statistics.fmean(val_loss), "threads": torch.get_num_threads()}


def ray_run(cfg, model_path: str, out_dir: Path) -> dict:
    from codegen_ray.train.trainer import train_variant

    t0 = time.perf_counter()
    result = train_variant(cfg, cfg.data.variants[0], out_dir, model_path=model_path)
    wall = time.perf_counter() - t0
    meta = json.loads((Path(result.final_checkpoint.adapter_path) / "meta.json").read_text())
    return {"loop_tokens": meta["loop_tokens"], "loop_s": meta["loop_wall_s"], "loop_cpu_s": meta["loop_cpu_s"],
            "end_to_end_s": wall, "val_loss": meta["val_loss"], "steps": meta["step"], "threads": meta["torch_threads"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=160)
    ap.add_argument("--max-seq-len", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="torch threads of each side (the Ray worker gets this many CPUs, so OMP_NUM_THREADS = it)")
    ap.add_argument("--cache", default=os.environ.get("CODEGEN_RAY_CACHE", "~/.cache/codegen_ray"))
    args = ap.parse_args()

    import ray
    import torch
    from transformers import AutoTokenizer

    from codegen_ray.assets.tiny_model import ensure_tiny_model

    cpus = os.cpu_count() or 1
    model_path = str(ensure_tiny_model(Path(os.path.expanduser(args.cache)) / "models"))
    cfg = make_cfg(args.rows, float(args.threads), args.max_seq_len)
    torch.set_num_threads(args.threads)
    # The same rows train_variant will use (same loader, split and tokenizer).
    rows = load_variant_rows(cfg, cfg.data.variants[0])
    split = split_rows(rows, cfg.data)
    tok = AutoTokenizer.from_pretrained(model_path)
    train, _ = tokenize_examples(tok, split.train, cfg.training.max_seq_len)
    val, _ = tokenize_examples(tok, split.val, cfg.training.max_seq_len)
    print(f"tiny model {Path(model_path).name}; {len(train)} train / {len(val)} val rows; micro batch "
          f"{cfg.training.micro_batch_size}; {math.ceil(len(train) / cfg.training.micro_batch_size)} steps; "
          f"{cpus} CPUs; torch threads {torch.get_num_threads()}")
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
    results: dict[str, list[dict]] = {"plain": [], "ray": []}
    with tempfile.TemporaryDirectory(prefix="bench_training-") as tmp:
        for r in range(args.repeats):
            p = plain_loop(cfg, model_path, train, val, pad_token_id(tok), Path(tmp) / f"plain{r}")
            results["plain"].append(p)
            q = ray_run(cfg, model_path, Path(tmp) / f"ray{r}")
            results["ray"].append(q)
            for name, x in (("plain", p), ("ray", q)):
                print(f"  run {r} {name:5s}: loop {x['loop_tokens'] / x['loop_s']:8.0f} tokens/s "
                      f"({x['loop_tokens']:.0f} tokens in {x['loop_s']:.2f} s), end-to-end {x['end_to_end_s']:.1f} s, "
                      f"{x['loop_tokens'] / x['loop_cpu_s']:7.0f} tokens/CPU-s, {x['threads']} threads, "
                      f"val loss {x['val_loss']:.4f}")
    ray.shutdown()

    def tps(xs):
        return statistics.median(x["loop_tokens"] / x["loop_s"] for x in xs)

    def tpc(xs):
        return statistics.median(x["loop_tokens"] / x["loop_cpu_s"] for x in xs)

    plain_tps, ray_tps = tps(results["plain"]), tps(results["ray"])
    plain_tpc, ray_tpc = tpc(results["plain"]), tpc(results["ray"])
    e2e_plain = statistics.median(x["end_to_end_s"] for x in results["plain"])
    e2e_ray = statistics.median(x["end_to_end_s"] for x in results["ray"])
    print(f"plain PEFT loop : {plain_tps:8.0f} tokens/s (median of {args.repeats}); end-to-end {e2e_plain:.1f} s")
    print(f"Ray Train (1 w) : {ray_tps:8.0f} tokens/s (median of {args.repeats}); end-to-end {e2e_ray:.1f} s")
    print(f"ratio ray/plain : {ray_tps / plain_tps:.3f} loop tokens/s (goal >= 0.95); "
          f"{ray_tpc / plain_tpc:.3f} tokens per CPU-second (robust to other load on the machine); "
          f"end-to-end plain/ray {e2e_plain / e2e_ray:.3f}")


if __name__ == "__main__":
    main()
