"""Builtin assets of the embedded default: two instruction datasets and the mini benchmark (files shipped in
``codegen_ray/assets/data/``, built by ``make_data.py``), and the builtin base model: pretrained by ``pretrain.py``,
shipped in ``tiny_model/``, copied into the cache by ``tiny_model.py``.

Sits above the stage packages it builds with (``train``, ``lcb``, ``contamination``) and below ``sweep``. The names
and paths of the shipped files live in the foundation module ``codegen_ray.builtin`` (re-exported here), so that
the stages read builtin files without importing this package.
"""

from __future__ import annotations

from ..builtin import BUILTIN_BENCHMARK_PATH, BUILTIN_DATA_NAMES, DATA_DIR, builtin_data_path

__all__ = ["BUILTIN_BENCHMARK_PATH", "BUILTIN_DATA_NAMES", "DATA_DIR", "builtin_data_path"]
