"""A designed stdin problem for the execution tests (``test_execution_pool.py``, ``test_execution_service.py``,
``test_sandbox_pool.py``): every case's input and the output a correct program prints."""

from __future__ import annotations

from codegen_ray.types import Problem
from codegen_ray.types import TestCase as Case
from codegen_ray.types import TestType as Kind


def problem(qid: str, cases: list[tuple[str, str]]) -> Problem:
    """An AtCoder-style stdin problem ``qid`` whose public tests are ``cases`` (input, expected output)."""
    return Problem(question_id=qid, question_title=qid, question_content="", platform="atcoder", contest_id="t",
                   contest_date="2024-01-01T00:00:00", starter_code="", difficulty="easy",
                   public_tests=tuple(Case(i, o, Kind.STDIN) for i, o in cases), private_tests=())
