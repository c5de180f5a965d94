"""LiveCodeBench record encoding: ``private_test_cases`` is either a JSON string or base64(zlib(pickle(JSON string))).

Decoding never executes pickle content: :class:`_StringOnlyUnpickler` refuses every global lookup, so a payload
can only produce plain builtin values, and anything but a single ``str`` is rejected.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import zlib
from typing import Any

from ..types import Problem, TestCase, TestType


class RecordError(ValueError):
    """A benchmark record is malformed; the message names the question_id."""


class _StringOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:  # noqa: D401 - pickle API
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")


def encode_private_tests(tests: list[dict[str, str]]) -> str:
    """Encode test dicts the way LiveCodeBench ships them: base64(zlib(pickle(json string)))."""
    payload = json.dumps(tests)
    return base64.b64encode(zlib.compress(pickle.dumps(payload))).decode("ascii")


def decode_private_tests(value: str, question_id: str) -> list[dict[str, Any]]:
    """Decode ``private_test_cases``: a JSON string, or the compressed pickle of one. Never runs pickle code."""
    try:
        return _as_test_list(json.loads(value), question_id)
    except (json.JSONDecodeError, TypeError):
        pass
    try:
        raw = zlib.decompress(base64.b64decode(value.encode("ascii"), validate=True))
    except (binascii.Error, zlib.error, ValueError, UnicodeEncodeError) as err:
        raise RecordError(f"{question_id}: private_test_cases is neither JSON nor base64/zlib data ({err})") from None
    try:
        obj = _StringOnlyUnpickler(io.BytesIO(raw)).load()
    except Exception as err:  # noqa: BLE001 - any unpickling failure is a corrupt record
        raise RecordError(f"{question_id}: private_test_cases payload rejected: {err}") from None
    if not isinstance(obj, str):
        raise RecordError(f"{question_id}: private_test_cases payload is a {type(obj).__name__}, expected a JSON string")
    try:
        return _as_test_list(json.loads(obj), question_id)
    except json.JSONDecodeError as err:
        raise RecordError(f"{question_id}: private_test_cases payload is not JSON: {err}") from None


def _as_test_list(obj: Any, question_id: str) -> list[dict[str, Any]]:
    if not isinstance(obj, list) or not all(isinstance(t, dict) for t in obj):
        raise RecordError(f"{question_id}: test cases must be a JSON list of objects")
    for i, t in enumerate(obj):
        missing = {"input", "output", "testtype"} - set(t)
        if missing:
            raise RecordError(f"{question_id}: test case {i} lacks {sorted(missing)}")
        if t["testtype"] not in ("stdin", "functional"):
            raise RecordError(f"{question_id}: test case {i} has unknown testtype {t['testtype']!r}")
    return obj


def _tests(items: list[dict[str, Any]]) -> tuple[TestCase, ...]:
    return tuple(TestCase(str(t["input"]), str(t["output"]), TestType(t["testtype"])) for t in items)


REQUIRED_FIELDS = (
    "question_title", "question_content", "platform", "question_id", "contest_id", "contest_date",
    "starter_code", "difficulty", "public_test_cases", "private_test_cases", "metadata",
)


def problem_from_record(record: dict[str, Any]) -> Problem:
    """Decode one LiveCodeBench-schema record into a :class:`Problem`. Raises RecordError naming the question."""
    qid = str(record.get("question_id", "<no question_id>"))
    missing = [f for f in REQUIRED_FIELDS if f not in record]
    if missing:
        raise RecordError(f"{qid}: missing field(s) {', '.join(missing)}")
    try:
        public = _as_test_list(json.loads(record["public_test_cases"]), qid)
    except (json.JSONDecodeError, TypeError) as err:
        raise RecordError(f"{qid}: public_test_cases is not a JSON string: {err}") from None
    private = decode_private_tests(record["private_test_cases"], qid)
    meta_raw = record["metadata"]
    try:
        metadata = json.loads(meta_raw) if isinstance(meta_raw, str) else dict(meta_raw or {})
    except (json.JSONDecodeError, TypeError, ValueError) as err:
        raise RecordError(f"{qid}: metadata is not a JSON object: {err}") from None
    return Problem(
        question_id=qid,
        question_title=str(record["question_title"]),
        question_content=str(record["question_content"]),
        platform=str(record["platform"]),
        contest_id=str(record["contest_id"]),
        contest_date=str(record["contest_date"]),
        starter_code=str(record["starter_code"] or ""),
        difficulty=str(record["difficulty"]),
        public_tests=_tests(public),
        private_tests=_tests(private),
        metadata=metadata,
        record={k: v for k, v in record.items() if k not in ("public_test_cases", "private_test_cases")},
    )
