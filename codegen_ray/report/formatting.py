"""Number formats shared by the report's writers (the terminal table, report.md, the comparison sentences)."""

from __future__ import annotations

import math
from typing import Optional


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def fmt_loss(x: Optional[float]) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.4f}"
