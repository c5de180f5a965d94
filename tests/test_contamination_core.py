"""Contamination: n-gram overlap of normalised training text with benchmark statements."""

from __future__ import annotations

import json

import pytest

from codegen_ray.contamination import (
    TrainingRowText,
    find_contamination,
    normalise,
    text_of,
    write_contamination_jsonl,
)

WORDS = (
    "takahashi has a sequence of integers and wants to know the minimum number of operations needed to make "
    "every element equal where one operation chooses two adjacent positions and swaps their values"
).split()
STATEMENT = "Takahashi has a sequence of N integers A=(A_1, ..., A_N).\n" + " ".join(WORDS).capitalize() + "."
OTHER = "Aoki draws a grid with H rows and W columns and colours some cells black; count the connected regions."


def test_normalise():
    assert normalise("N, M = map(int, input().split())") == ["n", "m", "map", "int", "input", "split"]
    assert normalise("  Hello,\tWORLD!\n foo_bar ") == ["hello", "world", "foo", "bar"]
    assert normalise("") == []
    assert normalise("Ünïcode wörds") == ["ünïcode", "wörds"]


def _copy(start: int, length: int) -> str:
    """A training row that copies ``length`` consecutive statement words, recased and re-punctuated, between
    unrelated text."""
    piece = WORDS[start : start + length]
    piece = [w.upper() if i % 3 == 0 else w for i, w in enumerate(piece)]
    return "Here is my solution, explained! " + ", ".join(piece) + " -- anyway, print(ans) and exit."


def test_13_tokens_flagged_12_not():
    statements = {"abc300_a": STATEMENT, "abc301_b": OTHER}
    rows = [
        TrainingRowText("deep", 0, _copy(5, 13)),
        TrainingRowText("deep", 1, _copy(5, 12)),
        TrainingRowText("deep", 2, "completely unrelated text about sorting " * 5),
    ]
    rep = find_contamination(rows, statements, n=13)
    assert [(h.variant, h.row_index, h.question_id) for h in rep.hits] == [("deep", 0, "abc300_a")]
    assert rep.hits[0].ngram == " ".join(WORDS[5:18])
    assert rep.hits[0].shared_ngrams == 1
    assert rep.rows_flagged == {"deep": 1}
    assert rep.rows_checked == {"deep": 3}
    # with n=12 the 12-token copy is caught too
    rep12 = find_contamination(rows, statements, n=12)
    assert rep12.flagged_indices("deep") == frozenset({0, 1})
    assert [h.shared_ngrams for h in rep12.hits] == [2, 1]


def test_counts_per_variant_and_several_problems():
    shared = " ".join(WORDS[:20])
    statements = {"q1": STATEMENT, "q2": "Preamble. " + shared + " Then more.", "q3": OTHER}
    rows = [
        TrainingRowText("deep", 0, shared),  # hits q1 and q2
        TrainingRowText("deep", 1, OTHER),  # hits q3
        TrainingRowText("diverse", 0, "nothing to see"),
        TrainingRowText("diverse", 1, "x " + OTHER.lower()),
        TrainingRowText("diverse", 2, "short"),
    ]
    rep = find_contamination(rows, statements, n=13)
    assert [(h.variant, h.row_index, h.question_id) for h in rep.hits] == [
        ("deep", 0, "q1"),
        ("deep", 0, "q2"),
        ("deep", 1, "q3"),
        ("diverse", 1, "q3"),
    ]
    assert rep.rows_flagged == {"deep": 2, "diverse": 1}
    assert rep.problems_hit == {"deep": 3, "diverse": 1}
    s = rep.summary(dropped=True, artifact="contamination.jsonl")
    assert s.rows_checked == {"deep": 2, "diverse": 3}
    assert s.rows_flagged == {"deep": 2, "diverse": 1}
    assert s.statements == 3 and s.ngram == 13 and s.dropped
    assert s.to_dict()["rows_flagged"] == {"deep": 2, "diverse": 1}


def test_flagged_indices_are_the_flagged_rows_of_that_variant_only():
    statements = {"q1": STATEMENT}
    deep = ["clean a", _copy(0, 20), "clean b", _copy(10, 15)]
    diverse = [_copy(0, 20), "clean"]
    rows = [TrainingRowText("deep", i, t) for i, t in enumerate(deep)]
    rows += [TrainingRowText("diverse", i, t) for i, t in enumerate(diverse)]
    rep = find_contamination(rows, statements, n=13)
    assert rep.flagged_indices("deep") == frozenset({1, 3})
    assert rep.flagged_indices("diverse") == frozenset({0})
    assert rep.flagged_indices("unknown") == frozenset()


def test_text_of_chat_rows():
    row = {
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "Solve it."},
            {"role": "assistant", "content": "print(1)"},
        ],
        "id": 17,
    }
    assert text_of(row) == "system\nYou are helpful.\nuser\nSolve it.\nassistant\nprint(1)"
    assert text_of({"instruction": "a", "output": "b"}) == "a\nb"


def test_row_shorter_than_n_and_bad_n():
    rep = find_contamination([TrainingRowText("v", 0, "a b c")], {"q": "a b c"}, n=13)
    assert rep.hits == () and rep.rows_flagged == {"v": 0}
    with pytest.raises(ValueError):
        find_contamination([], {}, n=0)


def test_write_listing(tmp_path):
    rows = [TrainingRowText("deep", 3, _copy(0, 14))]
    rep = find_contamination(rows, {"q1": STATEMENT}, n=13)
    path = write_contamination_jsonl(tmp_path / "sub" / "contamination.jsonl", rep)
    lines = path.read_text().splitlines()
    assert [json.loads(x) for x in lines] == [
        {"variant": "deep", "row_index": 3, "question_id": "q1", "ngram": " ".join(WORDS[:13]), "shared_ngrams": 2}
    ]
    assert sorted(p.name for p in path.parent.iterdir()) == ["contamination.jsonl"]  # no temp file left
