"""Contamination check: training rows that share a long n-gram with a benchmark problem statement.

Text is normalised (:func:`normalise`: lowercase, punctuation replaced by spaces, split on whitespace) and a training
row is flagged when any ``n`` consecutive normalised tokens (default from ``DataConfig.contamination_ngram``, 13 as in
the GPT-3 paper's overlap analysis) also occur in a problem statement. All statement n-grams are hashed once into one
table, so checking a row costs one hash lookup per token position; every hash hit is verified against the actual
tokens, so a hash collision never flags a row.

Boilerplate shared by many statements (AtCoder's "the input is given from standard input in the following format")
is shorter than 13 tokens in practice; a row that copies a long stretch of it together with constraints text will be
flagged against every problem that carries the same stretch, which the per-row ``question_ids`` make visible.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

_PUNCT = re.compile(r"[^\w\s]|_", re.UNICODE)


def normalise(text: str) -> list[str]:
    """Lowercase, replace every punctuation character (anything not a letter, digit or space; ``_`` too) by a
    space, and split on whitespace. ``"N, M = map(int, input().split())"`` → ``n m map int input split``."""
    return _PUNCT.sub(" ", text.lower()).split()


def text_of(value: Any) -> str:
    """All strings inside a training row (a dict of columns, chat ``messages`` lists, nested dicts), joined by
    newlines in their order. Non-string scalars are ignored."""
    parts: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, str):
            parts.append(v)
        elif isinstance(v, Mapping):
            for item in v.values():
                walk(item)
        elif isinstance(v, (list, tuple)):
            for item in v:
                walk(item)

    walk(value)
    return "\n".join(parts)


@dataclass(frozen=True)
class TrainingRowText:
    """One training row as text. ``index`` is the row's position in its variant's row list
    (:meth:`ContaminationReport.flagged_indices` returns these; the sweep drops flagged rows by their source)."""

    variant: str
    index: int
    text: str


@dataclass(frozen=True)
class ContaminationHit:
    """A training row sharing at least one n-gram with one problem statement; ``ngram`` is the first shared one
    (normalised tokens joined by spaces), ``shared_ngrams`` how many of the row's n-gram positions match."""

    variant: str
    row_index: int
    question_id: str
    ngram: str
    shared_ngrams: int


@dataclass(frozen=True)
class ContaminationSummary:
    """What the sweep summary records: counts per variant (rows checked, rows flagged, problems touched)."""

    ngram: int
    rows_checked: dict[str, int]
    rows_flagged: dict[str, int]
    problems_hit: dict[str, int]
    statements: int
    dropped: bool = False  # whether flagged rows were removed before training
    artifact: str | None = None  # the listing (JSONL of hits), relative to the report directory where possible

    def to_dict(self) -> dict[str, Any]:
        return {
            "ngram": self.ngram,
            "statements": self.statements,
            "rows_checked": dict(sorted(self.rows_checked.items())),
            "rows_flagged": dict(sorted(self.rows_flagged.items())),
            "problems_hit": dict(sorted(self.problems_hit.items())),
            "dropped": self.dropped,
            "artifact": self.artifact,
        }


@dataclass(frozen=True)
class ContaminationReport:
    ngram: int
    statements: int
    rows_checked: dict[str, int]
    hits: tuple[ContaminationHit, ...] = field(default_factory=tuple)  # sorted by (variant, row_index, question_id)

    def flagged_indices(self, variant: str) -> frozenset[int]:
        return frozenset(h.row_index for h in self.hits if h.variant == variant)

    @property
    def rows_flagged(self) -> dict[str, int]:
        return {v: len(self.flagged_indices(v)) for v in sorted(self.rows_checked)}

    @property
    def problems_hit(self) -> dict[str, int]:
        return {v: len({h.question_id for h in self.hits if h.variant == v}) for v in sorted(self.rows_checked)}

    def summary(self, dropped: bool = False, artifact: str | None = None) -> ContaminationSummary:
        return ContaminationSummary(
            ngram=self.ngram,
            rows_checked=dict(sorted(self.rows_checked.items())),
            rows_flagged=self.rows_flagged,
            problems_hit=self.problems_hit,
            statements=self.statements,
            dropped=dropped,
            artifact=artifact,
        )


def _ngrams(tokens: Sequence[str], n: int) -> Iterable[tuple[str, ...]]:
    for i in range(len(tokens) - n + 1):
        yield tuple(tokens[i : i + n])


def find_contamination(
    rows: Iterable[TrainingRowText], statements: Mapping[str, str], n: int
) -> ContaminationReport:
    """Flag every training row that shares an ``n``-gram of normalised tokens with any statement
    (``statements``: question_id → problem statement). One hit per (row, question) pair."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    qids = sorted(statements)
    tokens_by_q = {q: normalise(statements[q]) for q in qids}
    # hash(n-gram) -> index of the first question containing it; further questions in `more`.
    table: dict[int, int] = {}
    more: dict[int, set[int]] = defaultdict(set)
    for qi, q in enumerate(qids):
        for gram in _ngrams(tokens_by_q[q], n):
            h = hash(gram)
            first = table.setdefault(h, qi)
            if first != qi:
                more[h].add(qi)
    ngram_sets: dict[int, frozenset[tuple[str, ...]]] = {}  # built lazily, only for questions that get a hit

    def question_has(qi: int, gram: tuple[str, ...]) -> bool:
        if qi not in ngram_sets:
            ngram_sets[qi] = frozenset(_ngrams(tokens_by_q[qids[qi]], n))
        return gram in ngram_sets[qi]

    rows_checked: dict[str, int] = defaultdict(int)
    hits: list[ContaminationHit] = []
    for row in rows:
        rows_checked[row.variant] += 1
        first_gram: dict[int, tuple[str, ...]] = {}
        counts: dict[int, int] = defaultdict(int)
        for gram in _ngrams(normalise(row.text), n):
            h = hash(gram)
            qi = table.get(h)
            if qi is None:
                continue
            for cand in (qi, *sorted(more.get(h, ()))):
                if question_has(cand, gram):
                    first_gram.setdefault(cand, gram)
                    counts[cand] += 1
        for qi in sorted(first_gram):
            hits.append(ContaminationHit(row.variant, row.index, qids[qi], " ".join(first_gram[qi]), counts[qi]))
    hits.sort(key=lambda h: (h.variant, h.row_index, h.question_id))
    return ContaminationReport(ngram=n, statements=len(qids), rows_checked=dict(rows_checked), hits=tuple(hits))


def write_contamination_jsonl(path: str | Path, report: ContaminationReport) -> Path:
    """The artifact listing every hit, one JSON object per line (sorted; written atomically)."""
    from .fileio import atomic_write_text

    lines = [
        json.dumps(
            {
                "variant": h.variant,
                "row_index": h.row_index,
                "question_id": h.question_id,
                "ngram": h.ngram,
                "shared_ngrams": h.shared_ngrams,
            },
            sort_keys=True,
            ensure_ascii=False,
        )
        for h in report.hits
    ]
    return atomic_write_text(path, "".join(line + "\n" for line in lines))
