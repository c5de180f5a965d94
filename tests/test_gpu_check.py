"""experiments/benchmarks/gpu_check.py runs end to end on CPU with a tiny shape, with Ray, vLLM and MLflow absent
(hidden from the import system, as on the GPU machine it is written for)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Runs the script with a PathFinder that does not see ray, vllm or mlflow (modules or distribution metadata), then
# lists any of them that got imported anyway.
HIDE_AND_RUN = """
import importlib.machinery, runpy, sys
BLOCKED = {"ray", "vllm", "mlflow"}
finder = importlib.machinery.PathFinder

class Hidden:
    @staticmethod
    def find_spec(name, path=None, target=None):
        return None if name.split(".")[0] in BLOCKED else finder.find_spec(name, path, target)

    @staticmethod
    def find_distributions(context=None):
        from importlib.metadata import DistributionFinder
        for dist in finder.find_distributions(context or DistributionFinder.Context()):
            if (dist.metadata["Name"] or "").lower().replace("-", "_") not in BLOCKED:
                yield dist

    @staticmethod
    def invalidate_caches():
        finder.invalidate_caches()

sys.meta_path[:] = [Hidden() if f is finder else f for f in sys.meta_path]
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
print("imported:", sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED))
"""


def test_gpu_check_runs_with_a_tiny_shape_without_ray_vllm_mlflow(tiny_model_path):
    cmd = [sys.executable, "-c", HIDE_AND_RUN, str(ROOT / "experiments/benchmarks/gpu_check.py"), "--shape", "tiny",
           "--seq-len", "64", "--micro-batch", "2", "--accumulation", "2", "--warmup", "1", "--steps", "2",
           "--gen-prompts", "2", "--gen-tokens", "8", "--tokenizer", str(tiny_model_path)]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    rates = re.findall(r"gradient checkpointing (on |off): +(\d+) tokens/s", text)
    assert sorted(r[0].strip() for r in rates) == ["off", "on"] and all(int(r[1]) > 0 for r in rates), text
    generated = re.findall(r"adapter-(nogc|gc) +(\d+) tokens in .* = +([\d.]+) generated tokens/s", text)
    assert [g[0] for g in generated] == ["nogc", "gc", "nogc", "gc"], text  # two adapters, alternately
    assert all(int(g[1]) > 0 for g in generated), text
    assert "imported: []" in text
