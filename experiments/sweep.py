"""Run a sweep: train every data variant, evaluate every checkpoint on LiveCodeBench, report the best.

    python experiments/sweep.py                       # the embedded default (tiny model, builtin data), CPU
    python experiments/sweep.py --config experiments/configs/qwen2.5-coder-1.5b_lcb-atcoder-easy.yaml --address auto
    python experiments/sweep.py training.epochs=2 generation.temperature=0 --dry-run

Same as ``codegen-ray sweep``; every option is described by ``--help``.
"""

import sys
from pathlib import Path

try:
    from codegen_ray.cli import main
except ImportError:  # running from a source checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from codegen_ray.cli import main

if __name__ == "__main__":
    sys.exit(main(["sweep", *sys.argv[1:]]))
