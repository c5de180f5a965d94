"""The shipped data of the embedded default: chat datasets, the mini benchmark, reference and broken solutions."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from codegen_ray.assets import BUILTIN_BENCHMARK_PATH, BUILTIN_DATA_NAMES, DATA_DIR, builtin_data_path
from codegen_ray.assets import make_data
from codegen_ray.assets.bench_problems import BENCH_PROBLEMS
from codegen_ray.assets.families import FAMILIES, FAMILY_BY_NAME
from codegen_ray.config import load_config
from codegen_ray.errors import ConfigError
from codegen_ray.lcb.grading import compare_stdout
from codegen_ray.lcb.records import decode_private_tests, encode_private_tests, problem_from_record
from codegen_ray.types import Outcome
from codegen_ray.types import TestType as CaseType

REPO = Path(__file__).resolve().parents[1]
TESTS_DATA = REPO / "tests" / "data"
FENCE_RE = re.compile(r"```python\n(.*?)```", re.S)


def _jsonl(path: Path) -> list[dict]:
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        assert line.strip(), f"{path}:{lineno} is blank"
        rows.append(json.loads(line))
    return rows


@pytest.fixture(scope="module")
def problems():
    return {p.question_id: p for p in (problem_from_record(r) for r in _jsonl(BUILTIN_BENCHMARK_PATH))}


# ------------------------------------------------------------------------------------------------------ paths
def test_builtin_paths_resolve_to_shipped_files():
    assert BUILTIN_DATA_NAMES == ("deep", "diverse")
    for name in BUILTIN_DATA_NAMES:
        assert builtin_data_path(name) == DATA_DIR / f"{name}.jsonl"
        assert builtin_data_path(f"builtin:{name}") == builtin_data_path(name)
        assert builtin_data_path(name).is_file()
    assert BUILTIN_BENCHMARK_PATH.is_file()


def test_unknown_builtin_names_the_key():
    with pytest.raises(ConfigError) as err:
        builtin_data_path("builtin:nope")
    assert err.value.key == "data.variants[].path"
    assert "builtin:deep" in str(err.value)


def test_package_data_glob_covers_the_files():
    text = (REPO / "pyproject.toml").read_text()
    assert '"assets/data/*.jsonl"' in text
    shipped = sorted(p.name for p in DATA_DIR.glob("*.jsonl"))
    assert shipped == ["atcoder_mini.jsonl", "deep.jsonl", "diverse.jsonl"]


# ------------------------------------------------------------------------------------------------------ chat data
@pytest.mark.parametrize("name", BUILTIN_DATA_NAMES)
def test_chat_rows_are_well_formed(name):
    rows = _jsonl(builtin_data_path(name))
    assert len(rows) >= 120
    users = set()
    for i, row in enumerate(rows):
        assert set(row) == {"messages"}, i
        roles = [m["role"] for m in row["messages"]]
        assert roles == ["user", "assistant"], i
        assert all(isinstance(m["content"], str) and m["content"].strip() for m in row["messages"]), i
        assert sum(len(m["content"].split()) for m in row["messages"]) <= make_data.MAX_ROW_WORDS, i
        answer = row["messages"][1]["content"]
        assert answer.count("```python") == 1, i
        users.add(row["messages"][0]["content"])
        compile(FENCE_RE.search(answer).group(1), f"{name}[{i}]", "exec")
    assert len(users) == len(rows), "duplicate prompts"
    lcb_share = sum("Question: " in u and "# YOUR CODE HERE" in u for u in users) / len(rows)
    assert 0.25 <= lcb_share <= 0.8


def test_deep_reasons_and_diverse_is_terse():
    deep = [r["messages"][1]["content"] for r in _jsonl(builtin_data_path("deep"))]
    diverse = [r["messages"][1]["content"] for r in _jsonl(builtin_data_path("diverse"))]
    # deep: numbered steps before the code; diverse: at most one sentence outside the code block
    assert all(re.search(r"^1\. ", a, re.M) and a.index("1. ") < a.index("```") for a in deep)
    assert all(len(FENCE_RE.sub("", a).strip().splitlines()) <= 1 for a in diverse)
    mean = lambda xs: sum(len(x) for x in xs) / len(xs)  # noqa: E731
    assert mean(deep) > 1.5 * mean(diverse)


@pytest.mark.parametrize("name", BUILTIN_DATA_NAMES)
def test_chat_code_answers_its_own_samples(name):
    """Every row whose prompt shows a sample: the answer's code reproduces it (as a real subprocess)."""
    checked = 0
    for row in _jsonl(builtin_data_path(name))[:40]:
        user, answer = row["messages"][0]["content"], row["messages"][1]["content"]
        m = re.search(r"Sample Input 1\n\n(.*?)\n\nSample Output 1\n\n(.*?)(?:\n\n|$)", user, re.S)
        if not m:
            continue
        code = FENCE_RE.search(answer).group(1)
        out = subprocess.run([sys.executable, "-c", code], input=m.group(1) + "\n", capture_output=True,
                             text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == m.group(2).strip()
        checked += 1
    assert checked >= 10


# ------------------------------------------------------------------------------------------------------ benchmark
def test_benchmark_records_have_the_lcb_schema(problems):
    records = _jsonl(BUILTIN_BENCHMARK_PATH)
    assert len(records) >= 14
    fields = ["question_title", "question_content", "platform", "question_id", "contest_id", "contest_date",
              "starter_code", "difficulty", "public_test_cases", "private_test_cases", "metadata"]
    for r in records:
        assert list(r) == fields
        assert all(isinstance(r[f], str) for f in fields)
        assert r["platform"] == "atcoder" and r["difficulty"] == "easy" and r["starter_code"] == ""
        assert re.fullmatch(r"abc(9\d\d)_a", r["question_id"]) and r["contest_id"] == r["question_id"][:-2]
        assert re.fullmatch(r"2024-(0[7-9]|1[01])-\d\dT00:00:00", r["contest_date"])
        assert json.loads(r["metadata"]) == {}
        with pytest.raises(json.JSONDecodeError):
            json.loads(r["private_test_cases"])  # compressed, as LiveCodeBench ships it
        for section in ("Input", "Output", "Constraints", "Sample Input 1", "Sample Output 1"):
            assert f"\n{section}\n" in r["question_content"], (r["question_id"], section)
    ids = [r["question_id"] for r in records]
    assert len(set(ids)) == len(ids)
    dates = sorted(r["contest_date"] for r in records)
    before = sum(d < "2024-09-15" for d in dates)
    assert abs(before - (len(dates) - before)) <= 2
    assert dates[0] >= "2024-07-01" and dates[-1] <= "2024-11-30T23:59:59"
    assert len(problems) == len(records)


def test_benchmark_tests_round_trip(problems):
    for r in _jsonl(BUILTIN_BENCHMARK_PATH):
        p = problems[r["question_id"]]
        assert 1 <= len(p.public_tests) <= 3 and len(p.private_tests) >= 5
        assert all(t.testtype is CaseType.STDIN for t in p.tests)
        private = decode_private_tests(r["private_test_cases"], p.question_id)
        assert encode_private_tests(private) == r["private_test_cases"]
        assert [t.input for t in p.private_tests] == [t["input"] for t in private]
        # the public tests are the statement's samples
        for i, t in enumerate(p.public_tests, start=1):
            sample = f"Sample Input {i}\n\n{t.input.rstrip()}\n\nSample Output {i}\n\n{t.output.rstrip()}"
            assert sample in p.question_content
        inputs = [t.input for t in p.tests]
        assert len(set(inputs)) == len(inputs), p.question_id


def test_some_problems_need_exact_decimal_formatting(problems):
    decimal = [p for p in problems.values() if all(re.fullmatch(r"-?\d+\.\d+\n?", t.output) for t in p.tests)]
    assert len(decimal) >= 2


def _run(code: str, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, text=True, timeout=20)


def test_reference_solutions_pass_every_test(problems):
    refs = _jsonl(TESTS_DATA / "reference_solutions.jsonl")
    assert sorted(r["question_id"] for r in refs) == sorted(problems)
    for ref in refs:
        p = problems[ref["question_id"]]
        (code,) = ref["code_list"]
        for t in p.tests:
            out = _run(code, t.input)
            assert out.returncode == 0, (p.question_id, out.stderr)
            assert out.stdout == t.output, (p.question_id, t.input)


def test_broken_solutions_cover_every_outcome(problems):
    broken = _jsonl(TESTS_DATA / "broken_solutions.jsonl")
    assert sorted(b["question_id"] for b in broken) == sorted(problems)
    outcomes = {b["expected_outcome"] for b in broken}
    assert outcomes == {o.value for o in Outcome} - {Outcome.HARNESS_ERROR.value}


def test_cheap_broken_solutions_fail_as_labelled(problems):
    """The verdicts a plain subprocess can tell apart (no limits needed): compile, runtime, wrong, accepted."""
    for b in _jsonl(TESTS_DATA / "broken_solutions.jsonl"):
        p, (code,), expected = problems[b["question_id"]], b["code_list"], b["expected_outcome"]
        if expected == "compile_error":
            with pytest.raises(SyntaxError):
                compile(code, b["question_id"], "exec")
            continue
        if expected not in ("runtime_error", "wrong_answer", "accepted"):
            continue
        results = [_run(code, t.input) for t in p.tests]
        if expected == "runtime_error":
            assert results[0].returncode != 0, b["question_id"]
        elif expected == "wrong_answer":
            assert all(r.returncode == 0 for r in results)
            assert any(r.stdout.split() != t.output.split() for r, t in zip(results, p.tests)), b["question_id"]
        else:
            assert [r.stdout for r in results] == [t.output for t in p.tests]


# ------------------------------------------------------------------------------------------------------ generator
def test_files_equal_what_make_data_regenerates():
    files = make_data.build_all()
    for rel, text in files.items():
        stale = f"{rel} is stale: run python -m codegen_ray.assets.make_data"
        assert (REPO / rel).read_text(encoding="utf-8") == text, stale
    assert make_data.build_all() == files  # deterministic within a process too


def test_make_data_check_mode_reports_staleness(tmp_path):
    assert make_data.main(["--root", str(tmp_path)]) == 0
    assert make_data.main(["--check", "--root", str(tmp_path)]) == 0
    target = tmp_path / "codegen_ray/assets/data/deep.jsonl"
    target.write_text(target.read_text()[:-200], encoding="utf-8")
    assert make_data.main(["--check", "--root", str(tmp_path)]) == 1


def test_run_inline_uses_stdin_and_restores_streams():
    before = (sys.stdin, sys.stdout)
    code = "import sys\nprint(sum(map(int, sys.stdin.buffer.read().split())))"
    assert make_data.run_inline(code, "1 2\n3\n") == "6\n"
    assert (sys.stdin, sys.stdout) == before
    with pytest.raises(RuntimeError):
        make_data.run_inline("raise SystemExit(3)", "")
    assert (sys.stdin, sys.stdout) == before


def test_lcb_rows_match_the_benchmark_prompt(problems):
    """The training rows in benchmark format carry the same user text the CodeQwen prompt sends."""
    from codegen_ray.lcb.prompts import PromptStyle, build_prompt

    p = next(iter(problems.values()))
    text = build_prompt(p, PromptStyle.CODEQWEN).text
    assert make_data.lcb_user_prompt(p.question_content) in text


def _tokens(text: str) -> list[str]:
    # the contamination check's normalisation: lowercase, punctuation and '_' become spaces
    return re.sub(r"[^\w\s]|_", " ", text.lower()).split()


@pytest.mark.parametrize("name", BUILTIN_DATA_NAMES)
def test_training_rows_share_no_13_gram_with_the_benchmark(name):
    """Same kinds of task, different text: no training row shares 13 consecutive tokens with a statement."""
    n = 13
    grams = set()
    for r in _jsonl(BUILTIN_BENCHMARK_PATH):
        t = _tokens(r["question_content"])
        grams.update(tuple(t[i:i + n]) for i in range(len(t) - n + 1))
    flagged = []
    for i, row in enumerate(_jsonl(builtin_data_path(name))):
        t = _tokens("\n".join(m["content"] for m in row["messages"]))
        if any(tuple(t[j:j + n]) in grams for j in range(len(t) - n + 1)):
            flagged.append(i)
    assert flagged == []


# ------------------------------------------------------------------------------------------------------ families
FAMILY_SEEDS = 300  # tasks drawn per family (seeds 0..299 of random.Random) by the tests below


def test_benchmark_has_41_problems_split_around_the_selection_date(problems):
    """The size of the reference study's LiveCodeBench subset; about half on each side of the default config's
    selection/report boundary, every problem on its own day."""
    assert len(problems) == len(BENCH_PROBLEMS) == 41
    assert [p.question_id for p in BENCH_PROBLEMS] == [f"abc{n}_a" for n in range(901, 942)]
    days = [p.contest_date[:10] for p in problems.values()]
    assert len(set(days)) == len(days)
    end = load_config(REPO / "experiments" / "configs" / "default.yaml").benchmark.selection_end_date
    selection = sum(d <= end[:10] for d in days)
    assert (selection, len(days) - selection) == (20, 21)


def test_family_names_match_the_tasks_they_draw():
    assert set(FAMILY_BY_NAME.values()) == set(FAMILIES) and len(FAMILY_BY_NAME) == len(FAMILIES)
    for name, family in FAMILY_BY_NAME.items():
        assert {family(random.Random(seed)).family for seed in range(20)} == {name}
    assert {p.family for p in BENCH_PROBLEMS} <= set(FAMILY_BY_NAME)


def _passes(code: str, tests) -> bool:
    """``code`` prints the expected output (LiveCodeBench's comparison rules) on every test, run in-process."""
    for t in tests:
        try:
            out = make_data.run_inline(code, t.input)
        except Exception:  # noqa: BLE001 - a failing candidate, whatever it raised
            return False
        if not compare_stdout(out, t.output):
            return False
    return True


@pytest.mark.parametrize("bench", BENCH_PROBLEMS, ids=lambda p: f"{p.question_id}-{p.family}")
def test_every_benchmark_problem_is_solved_by_a_program_its_family_teaches(bench, problems):
    """Known answer: some task of the named family carries a program that passes ALL of the problem's public and
    private tests; and the tests are not trivially passed (the problem's broken program fails them where it can
    run in-process: wrong answer, runtime error, compile error; the one labelled accepted passes)."""
    p = problems[bench.question_id]
    assert len(p.tests) >= 9
    family = FAMILY_BY_NAME[bench.family]
    verdicts: dict[str, bool] = {}
    for seed in range(FAMILY_SEEDS):
        code = family(random.Random(seed)).code
        if code not in verdicts:
            verdicts[code] = _passes(code, p.tests)
        if verdicts[code]:
            break
    assert any(verdicts.values()), f"no {bench.family} task in {FAMILY_SEEDS} seeds solves {bench.question_id}"
    if bench.broken_outcome == "accepted":
        assert _passes(bench.broken, p.tests)
    elif bench.broken_outcome in ("wrong_answer", "runtime_error", "compile_error"):
        assert not _passes(bench.broken, p.tests)


def test_every_family_variant_has_at_least_three_phrasings():
    """A tiny model trained on one wording per skill memorises the wording: each program (variant and parameters)
    comes with at least three different stories."""
    for name, family in FAMILY_BY_NAME.items():
        stories: dict[str, set[str]] = {}
        for seed in range(2000):
            task = family(random.Random(seed))
            stories.setdefault(task.code, set()).add(task.story)
        thin = {code: len(s) for code, s in stories.items() if len(s) < 3}
        assert not thin, (name, thin)


def test_no_row_the_families_can_produce_shares_a_13_gram_with_the_benchmark():
    """Beyond the shipped files: FAMILY_SEEDS tasks of every family, each rendered in every prompt style make_data
    uses (with one or two samples, and a deep or terse answer), checked with the project's contamination code."""
    from codegen_ray.contamination import TrainingRowText, find_contamination

    statements = {r["question_id"]: r["question_content"] for r in _jsonl(BUILTIN_BENCHMARK_PATH)}
    assert len(statements) == len(BENCH_PROBLEMS)
    rows: list[TrainingRowText] = []
    for family in FAMILIES:
        for seed in range(FAMILY_SEEDS):
            rng = random.Random(seed)
            task = family(rng)
            samples = [make_data.sample_io(task, rng) for _ in range(1 + seed % 2)]
            styles = make_data.prompt_styles(task, rng, samples, terse=seed % 3 == 0)
            answers = (make_data.deep_answer(task, rng, samples), make_data.diverse_answer(task, rng))
            for i, (_, render) in enumerate(styles):
                rows.append(TrainingRowText(task.family, len(rows), render() + "\n" + answers[i % 2]))
    assert len(rows) >= len(FAMILIES) * FAMILY_SEEDS * 8
    report = find_contamination(rows, statements, 13)
    assert report.hits == (), [(h.variant, h.question_id, h.ngram) for h in report.hits[:10]]
