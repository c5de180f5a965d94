"""The package imports without the heavy stack, and its public API resolves."""

from __future__ import annotations

import json
import subprocess
import sys


def test_import_needs_no_vllm_torch_or_ray():
    code = ("import sys, json, codegen_ray; "
            "print(json.dumps(sorted(m for m in ('vllm', 'torch', 'ray', 'mlflow', 'transformers') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_import_works_when_vllm_is_missing():
    code = ("import sys; sys.modules['vllm'] = None; import codegen_ray; "
            "from codegen_ray.generation.factory import make_backend; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_lazy_public_api_resolves():
    import codegen_ray

    for name in codegen_ray.__all__:
        assert getattr(codegen_ray, name) is not None, name
