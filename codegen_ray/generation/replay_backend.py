"""Replay generation backend: completions read from a JSONL file instead of a model.

Evaluates samples generated elsewhere (another framework, an API, a hand-written matrix) through the sweep's own
grading, selection, statistics, report and MLflow. Training still runs and still produces the checkpoints; only
generation is replaced. One JSON object per line::

    {"variant": "deep", "step": 17, "question_id": "abc901_a", "completions": ["```python\\n...\\n```"]}
    {"variant": "base", "step": 0, "question_id": "abc901_a", "completions": ["..."]}

``variant`` is a variant name, or ``"base"`` for the base model (step 0); ``step`` is the checkpoint's optimizer
step (``codegen-ray sweep --dry-run --json`` lists every expected checkpoint with its step); ``completions`` holds
exactly ``generation.n`` raw model outputs (strings; the program is extracted from them as from any model's output).
Rows for variants, steps or questions the sweep does not evaluate are ignored.

The sweep checks at preflight that every (variant, step, question) it will evaluate has a row
(:meth:`ReplayTable.check_covers`); the backend raises :class:`ReplayMissingError` for a missing row at generation
time too. ``generation.*`` sampling settings do not apply. Nothing heavy is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from codegen_ray.errors import DataError
from codegen_ray.fileio import iter_jsonl
from codegen_ray.generation.base import GeneratedSample, SampleBackendMixin
from codegen_ray.types import BASE_CHECKPOINT_NAME, CheckpointRef, Completion, Prompt, SamplingSettings

if TYPE_CHECKING:  # pragma: no cover
    from codegen_ray.config import GenerationConfig

REQUIRED_FIELDS = ("variant", "step", "question_id", "completions")


class ReplayMissingError(LookupError):
    """The replay file has no row for a (variant, step, question) being evaluated."""


def replay_variant(checkpoint: CheckpointRef) -> str:
    """The ``variant`` value of a checkpoint's rows: ``"base"`` for the base model."""
    return BASE_CHECKPOINT_NAME if checkpoint.is_base else checkpoint.variant


def missing_row_message(variant: str, step: int, question_id: str) -> str:
    return f"no row for variant {variant!r}, step {step}, question {question_id!r}"


@dataclass(frozen=True)
class ReplayTable:
    """The parsed replay file: ``(variant, step, question_id) -> completions`` and each row's line number."""

    path: Path
    rows: dict[tuple[str, int, str], tuple[str, ...]]
    lines: dict[tuple[str, int, str], int]

    @classmethod
    def read(cls, path: str | Path) -> "ReplayTable":
        """Parse and validate ``path``; a malformed row is a DataError naming the file and line."""
        path = Path(path)
        if not path.is_file():
            raise DataError(str(path), "no such replay file" if not path.exists() else "not a file")
        rows: dict[tuple[str, int, str], tuple[str, ...]] = {}
        lines: dict[tuple[str, int, str], int] = {}
        for lineno, obj in iter_jsonl(path):
            for name in REQUIRED_FIELDS:
                if name not in obj:
                    raise DataError(str(path), f"missing field {name!r} (a row holds {', '.join(REQUIRED_FIELDS)})",
                                    lineno)
            variant, step, qid, completions = (obj[k] for k in REQUIRED_FIELDS)
            if not isinstance(variant, str) or not variant:
                raise DataError(str(path), f"variant must be a non-empty string, got {variant!r}", lineno)
            if isinstance(step, bool) or not isinstance(step, int) or step < 0:
                raise DataError(str(path), f"step must be an integer >= 0, got {step!r}", lineno)
            if variant == BASE_CHECKPOINT_NAME and step != 0:
                raise DataError(str(path), f"the base model's rows have step 0, got {step}", lineno)
            if not isinstance(qid, str) or not qid:
                raise DataError(str(path), f"question_id must be a non-empty string, got {qid!r}", lineno)
            if not isinstance(completions, list) or not completions or not all(isinstance(c, str) for c in completions):
                raise DataError(str(path), "completions must be a non-empty list of strings", lineno)
            key = (variant, step, qid)
            if key in rows:
                raise DataError(str(path), f"variant {variant!r}, step {step}, question {qid!r} repeats line "
                                f"{lines[key]}", lineno)
            rows[key] = tuple(completions)
            lines[key] = lineno
        if not rows:
            raise DataError(str(path), "no rows")
        return cls(path, rows, lines)

    def completions(self, variant: str, step: int, question_id: str) -> tuple[str, ...]:
        try:
            return self.rows[(variant, step, question_id)]
        except KeyError:
            raise ReplayMissingError(f"{self.path}: {missing_row_message(variant, step, question_id)}") from None

    def check_covers(self, checkpoints: Iterable[tuple[str, int]], question_ids: Sequence[str], n: int) -> None:
        """Every ``(variant, step)`` has a row for every question, each with exactly ``n`` completions; else a
        DataError naming the first missing (variant, step, question) and how many more are missing."""
        missing: list[str] = []
        for variant, step in checkpoints:
            for qid in question_ids:
                key = (variant, step, qid)
                got = self.rows.get(key)
                if got is None:
                    missing.append(missing_row_message(variant, step, qid))
                elif len(got) != n:
                    raise DataError(str(self.path), f"variant {variant!r}, step {step}, question {qid!r}: "
                                    f"{len(got)} completion(s), but generation.n is {n}", self.lines[key])
        if missing:
            more = f" ({len(missing) - 1} more rows missing)" if len(missing) > 1 else ""
            raise DataError(str(self.path), f"{missing[0]}{more}; `--dry-run --json` lists the checkpoints to cover")


class ReplayBackend(SampleBackendMixin):
    """Serves the replay file's completions; sample ``i`` of a question is its row's ``completions[i]``."""

    name = "replay"

    def __init__(self, model_path: str, gen_cfg: "GenerationConfig", dtype: str = "auto") -> None:
        if not gen_cfg.replay_path:
            raise ValueError("the replay backend needs generation.replay_path")
        self.table = ReplayTable.read(gen_cfg.replay_path)

    def generate_samples(
        self, prompts: Sequence[Prompt], sampling: SamplingSettings, checkpoint: CheckpointRef
    ) -> list[list[GeneratedSample]]:
        variant = replay_variant(checkpoint)
        out = []
        for prompt in prompts:
            texts = self.table.completions(variant, checkpoint.step, prompt.question_id)
            if len(texts) != sampling.n:
                raise ReplayMissingError(
                    f"{self.table.path}: variant {variant!r}, step {checkpoint.step}, question "
                    f"{prompt.question_id!r}: {len(texts)} completion(s), but generation.n is {sampling.n}")
            out.append([GeneratedSample(Completion(prompt.question_id, i, texts[i], 0, "stop"), ())
                        for i in range(sampling.n)])
        return out
