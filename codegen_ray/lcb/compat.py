"""Files in lcb_runner's shapes, so LiveCodeBench's own scripts can read our results.

``*_eval_all.json``: a list (sorted by ``question_id``) of one record per problem — the problem fields lcb_runner's
``CodeGenerationProblem.insert_output`` writes, plus ``output_list`` (raw model outputs), ``code_list`` (extracted
programs), ``graded_list`` (bool per sample), ``pass@1`` (fraction of samples passing) and ``metadata`` (one JSON
string per sample). This module is the only place our :class:`Outcome` becomes lcb_runner's integer codes.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..fileio import atomic_write_text
from ..types import Outcome, Problem, ProgramVerdict

PROBLEM_FIELDS = (
    "question_title", "question_content", "platform", "question_id", "contest_id", "contest_date",
    "starter_code", "difficulty",
)


def write_json_atomic(path: str | os.PathLike, obj: Any, indent: int | None = 4) -> Path:
    """Write JSON atomically (temp file, fsync, ``os.replace``) — never a half-written file."""
    return atomic_write_text(path, json.dumps(obj, indent=indent))


def _iso(date: str) -> str:
    try:
        return datetime.fromisoformat(date).isoformat()
    except ValueError:
        return date


def sample_metadata(verdict: ProgramVerdict) -> dict[str, Any]:
    """lcb_runner-like per-sample metadata: ``{"execution time": s}`` on success, error code and message otherwise."""
    if verdict.passed:
        return {"execution time": round(sum(t.wall_time_s for t in verdict.tests), 6),
                "isolation": verdict.isolation}
    failing = next((t for t in verdict.tests if t.outcome is verdict.outcome), None)
    meta: dict[str, Any] = {
        "error_code": verdict.outcome.lcb_code,
        "error_message": _ERROR_MESSAGES[verdict.outcome],
        "outcome": verdict.outcome.value,
        "isolation": verdict.isolation,
    }
    if failing is not None:
        meta["test_index"] = failing.index
        if failing.detail:
            meta["detail"] = failing.detail
    return meta


_ERROR_MESSAGES = {
    Outcome.ACCEPTED: "",
    Outcome.WRONG_ANSWER: "Wrong Answer",
    Outcome.TIME_LIMIT: "Time Limit Exceeded",
    Outcome.RUNTIME_ERROR: "Runtime Error",
    Outcome.COMPILE_ERROR: "Compilation Error",
    Outcome.MEMORY_LIMIT: "Memory Limit Exceeded",
    Outcome.OUTPUT_LIMIT: "Output Limit Exceeded",
    Outcome.HARNESS_ERROR: "Harness Error",
}


PerProblem = Mapping[str, Sequence[Any]] | Sequence[Sequence[Any]]


def _per_problem(values: PerProblem, problems: Sequence[Problem], what: str) -> dict[str, list[Any]]:
    """``question_id -> list``, from a mapping or from a sequence aligned with ``problems``."""
    if isinstance(values, Mapping):
        return {str(k): list(v) for k, v in values.items()}
    values = list(values)
    if len(values) != len(problems):
        raise ValueError(f"{what}: {len(values)} entries for {len(problems)} problems")
    return {p.question_id: list(v) for p, v in zip(problems, values)}


def _flatten(verdicts: Iterable[Any]) -> list[ProgramVerdict]:
    flat: list[ProgramVerdict] = []
    for v in verdicts:
        if isinstance(v, ProgramVerdict):
            flat.append(v)
        else:
            flat.extend(v)
    return flat


def eval_all_records(
    problems: Sequence[Problem],
    output_lists: PerProblem,
    code_lists: PerProblem,
    verdicts: Iterable[ProgramVerdict] | Iterable[Sequence[ProgramVerdict]],
) -> list[dict[str, Any]]:
    """Build the ``_eval_all.json`` records (sorted by question_id).

    ``output_lists`` / ``code_lists``: ``question_id -> list`` mappings, or sequences aligned with ``problems``;
    a problem missing from ``output_lists`` uses its code list as outputs (as lcb_runner's custom evaluator).
    ``verdicts``: flat, or one sequence per problem. Every program needs exactly one verdict; problems without
    programs are left out."""
    problems = list(problems)
    codes_by = _per_problem(code_lists, problems, "code_lists")
    outputs_by = _per_problem(output_lists, problems, "output_lists")
    by_problem: dict[str, dict[int, ProgramVerdict]] = {}
    for v in _flatten(verdicts):
        by_problem.setdefault(v.question_id, {})[v.sample_index] = v
    records = []
    for problem in sorted(problems, key=lambda p: p.question_id):
        qid = problem.question_id
        codes = codes_by.get(qid, [])
        outputs = outputs_by.get(qid, codes)
        graded = by_problem.get(qid, {})
        if len(outputs) != len(codes):
            raise ValueError(f"{qid}: {len(outputs)} outputs but {len(codes)} programs")
        if sorted(graded) != list(range(len(codes))):
            raise ValueError(f"{qid}: verdicts for samples {sorted(graded)} but {len(codes)} programs")
        if not codes:
            continue
        ordered = [graded[i] for i in range(len(codes))]
        record: dict[str, Any] = {}
        for name in PROBLEM_FIELDS:
            value = getattr(problem, name)
            record[name] = _iso(value) if name == "contest_date" else value
        record["output_list"] = outputs
        record["code_list"] = codes
        graded_list = [v.passed for v in ordered]
        record["graded_list"] = graded_list
        record["pass@1"] = graded_list.count(True) / len(graded_list)
        record["metadata"] = [json.dumps(sample_metadata(v)) for v in ordered]
        records.append(record)
    return records


def write_eval_all(
    path: str | os.PathLike,
    problems: Sequence[Problem],
    output_lists: PerProblem,
    code_lists: PerProblem,
    verdicts: Iterable[ProgramVerdict] | Iterable[Sequence[ProgramVerdict]],
) -> Path:
    """Write lcb_runner's ``_eval_all.json`` shape atomically (see :func:`eval_all_records`); returns the path."""
    return write_json_atomic(path, eval_all_records(problems, output_lists, code_lists, verdicts))
