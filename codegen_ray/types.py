"""Typed records the stages exchange: config → data → train → checkpoints → generate → execute → grade → metrics.

Nothing here imports a heavy library; every stage may import this module.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any, Optional


# ------------------------------------------------------------------------------------------------------ benchmark
class TestType(str, enum.Enum):
    STDIN = "stdin"
    FUNCTIONAL = "functional"


@dataclass(frozen=True)
class TestCase:
    input: str
    output: str
    testtype: TestType


@dataclass(frozen=True)
class Problem:
    """One LiveCodeBench problem, decoded. ``record`` keeps the original fields for lcb_runner-shaped outputs."""

    question_id: str
    question_title: str
    question_content: str
    platform: str
    contest_id: str
    contest_date: str  # naive ISO, e.g. 2024-07-06T00:00:00
    starter_code: str
    difficulty: str
    public_tests: tuple[TestCase, ...]
    private_tests: tuple[TestCase, ...]
    metadata: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def tests(self) -> tuple[TestCase, ...]:
        """Evaluation order: public tests, then private tests (as lcb_runner)."""
        return self.public_tests + self.private_tests

    @property
    def is_functional(self) -> bool:
        return bool(self.tests) and self.tests[0].testtype is TestType.FUNCTIONAL


@dataclass(frozen=True)
class Prompt:
    """What a generation backend receives: either a fully rendered string or chat messages to render."""

    question_id: str
    text: Optional[str] = None  # already formatted (e.g. the CodeQwenInstruct ChatML string)
    messages: Optional[tuple[dict[str, str], ...]] = None  # rendered by the tokenizer's chat template

    def __post_init__(self) -> None:
        if (self.text is None) == (self.messages is None):
            raise ValueError("a Prompt has exactly one of text or messages")


# ---------------------------------------------------------------------------------------------------- checkpoints
CHECKPOINT_RE = re.compile(r"^checkpoint-step-(\d+)-epoch-(\d+)$")
BASE_CHECKPOINT_NAME = "base"


@dataclass(frozen=True)
class CheckpointRef:
    """A model to evaluate: the base model (step 0, no adapter) or one LoRA adapter checkpoint of a variant."""

    variant: str
    step: int
    epoch: int
    adapter_path: Optional[str] = None  # None for the base model
    train_loss: Optional[float] = None
    val_loss: Optional[float] = None
    # The checkpoint's directory in ``ray.storage_path`` (URI or absolute path), when training wrote it there: a node
    # where ``adapter_path`` does not exist fetches it from here (``generation.checkpoints``).
    storage_uri: Optional[str] = None

    @property
    def is_base(self) -> bool:
        return self.adapter_path is None

    @property
    def name(self) -> str:
        return BASE_CHECKPOINT_NAME if self.is_base else checkpoint_dir_name(self.step, self.epoch)

    @property
    def key(self) -> str:
        """Unique across the sweep; the base model is shared by all variants."""
        return BASE_CHECKPOINT_NAME if self.is_base else f"{self.variant}/{self.name}"


def checkpoint_dir_name(step: int, epoch: int) -> str:
    return f"checkpoint-step-{step}-epoch-{epoch}"


# ----------------------------------------------------------------------------------------------------------- time
@dataclass(frozen=True)
class WorkInterval:
    """When one piece of work ran (a variant's training, a checkpoint's evaluation): wall-clock epoch seconds."""

    started_at: float
    finished_at: float

    def __post_init__(self) -> None:
        if self.finished_at < self.started_at:
            raise ValueError(f"work interval ends ({self.finished_at}) before it starts ({self.started_at})")

    @property
    def seconds(self) -> float:
        return self.finished_at - self.started_at

    @staticmethod
    def from_dict(data: Optional[dict[str, float]]) -> Optional["WorkInterval"]:
        """The record ``dataclasses.asdict`` wrote (``None`` for records written before work was timed)."""
        return None if data is None else WorkInterval(float(data["started_at"]), float(data["finished_at"]))


# ----------------------------------------------------------------------------------------------------- generation
@dataclass(frozen=True)
class SamplingSettings:
    n: int = 1
    temperature: float = 0.2
    top_p: float = 0.95
    max_tokens: int = 2000
    seed: int = 0
    stop: tuple[str, ...] = ()

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


@dataclass(frozen=True)
class Completion:
    question_id: str
    sample_index: int
    text: str
    num_tokens: int
    finish_reason: str  # "stop" | "length"


# ------------------------------------------------------------------------------------------------------ execution
class Outcome(str, enum.Enum):
    """Verdict of one program on one test (and of a program overall: its first non-accepted test)."""

    ACCEPTED = "accepted"
    WRONG_ANSWER = "wrong_answer"
    TIME_LIMIT = "time_limit"
    RUNTIME_ERROR = "runtime_error"
    COMPILE_ERROR = "compile_error"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    HARNESS_ERROR = "harness_error"

    @property
    def lcb_code(self) -> int | bool:
        """lcb_runner's encoding, used only when writing its file format."""
        return _LCB_CODES[self]


_LCB_CODES: dict[Outcome, int | bool] = {
    Outcome.ACCEPTED: True,
    Outcome.WRONG_ANSWER: -2,
    Outcome.TIME_LIMIT: -3,
    Outcome.RUNTIME_ERROR: -4,
    Outcome.COMPILE_ERROR: -4,
    Outcome.MEMORY_LIMIT: -4,
    Outcome.OUTPUT_LIMIT: -4,
    Outcome.HARNESS_ERROR: -1,
}


@dataclass(frozen=True)
class TestVerdict:
    """One program on one test case."""

    index: int  # position in Problem.tests (public first, then private)
    outcome: Outcome
    cpu_time_s: float = 0.0
    wall_time_s: float = 0.0
    detail: str = ""  # short, human-readable: which line differed, the exception's last line, which limit hit


@dataclass(frozen=True)
class ProgramVerdict:
    """One program on one problem: its tests' verdicts and the overall outcome (first non-accepted test)."""

    question_id: str
    sample_index: int
    outcome: Outcome
    tests: tuple[TestVerdict, ...]
    isolation: str  # the executor's Isolation value, recorded in every result file

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.ACCEPTED
