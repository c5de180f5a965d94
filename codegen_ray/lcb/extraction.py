"""Code extraction as lcb_runner does it today (``lcb_runner/utils/extraction_utils.py``, non-CodeLlama styles).

Every line that *contains* a triple backtick is a fence line; the program is the text strictly between the last two
fence lines. Fewer than two fence lines → empty program (graded as a compile error without running).
Upstream took the first block before Dec 2024; it takes the last one now, and so do we.
"""

from __future__ import annotations

FENCE = "```"


def extract_code(text: str) -> str:
    lines = text.split("\n")
    fences = [i for i, line in enumerate(lines) if FENCE in line]
    if len(fences) < 2:
        return ""
    start, end = fences[-2], fences[-1]
    return "\n".join(lines[start + 1 : end])
