"""The pretraining corpus of the builtin base model: deterministic, shaped as documented, and free of benchmark
13-grams (so the base model's Pass@1 is skill, not a memorised statement)."""

from __future__ import annotations

import random
from collections import Counter

from codegen_ray.assets import pretrain
from codegen_ray.assets.families import FAMILIES
from codegen_ray.assets.pretrain import CHAT_FAMILIES, PretrainSettings, build_corpus, contaminated_rows, corpus_hash

SMALL = PretrainSettings(plain_rows=350, chat_rows=140)


def test_corpus_is_deterministic_in_its_seed():
    assert corpus_hash(build_corpus(SMALL)) == corpus_hash(build_corpus(SMALL))
    other = PretrainSettings(plain_rows=350, chat_rows=140, corpus_seed=SMALL.corpus_seed + 1)
    assert corpus_hash(build_corpus(other)) != corpus_hash(build_corpus(SMALL))


def test_every_family_as_plain_files_and_chat_turns_fenced_only_for_the_chat_families():
    from codegen_ray.lcb.extraction import extract_code

    rows = build_corpus(SMALL)
    families = {f(random.Random(0)).family for f in FAMILIES}
    assert set(Counter(r.family for r in rows if not r.prompt)) == families
    assert set(Counter(r.family for r in rows if r.prompt)) == families
    chat = [r for r in rows if r.prompt]
    assert all(r.prompt.endswith("<|im_start|>assistant\n") for r in chat)
    # the benchmark's extractor finds the program in every chat family's answer and nothing in the others'
    fenced = [r for r in chat if r.family in CHAT_FAMILIES]
    bare = [r for r in chat if r.family not in CHAT_FAMILIES]
    assert fenced and bare
    assert all(extract_code(r.answer).strip() and r.answer.count("```python") == 1 for r in fenced)
    assert all(extract_code(r.answer) == "" and "```" not in r.answer for r in bare)


def test_chat_turns_use_the_benchmark_prompt_character_for_character():
    from codegen_ray.lcb.dataset import load_problems_file
    from codegen_ray.lcb.prompts import PromptStyle, build_prompt

    problem = load_problems_file(pretrain.Path(pretrain.__file__).parent / "data" / "atcoder_mini.jsonl")[0]
    assert pretrain.chat_prompt(problem.question_content) == build_prompt(problem, PromptStyle.CODEQWEN).text


def test_no_corpus_row_shares_a_13_gram_with_the_benchmark():
    rows = build_corpus(PretrainSettings(plain_rows=2000, chat_rows=1000))
    assert contaminated_rows(rows) == []
    # the check is live: a row quoting a statement is flagged
    from codegen_ray.lcb.dataset import load_problems_file

    problem = load_problems_file(pretrain.Path(pretrain.__file__).parent / "data" / "atcoder_mini.jsonl")[3]
    leaked = rows[:5] + [pretrain.CorpusRow("leak", "", problem.question_content)]
    hits = contaminated_rows(leaked)
    assert ("leak", problem.question_id) in hits and {family for family, _ in hits} == {"leak"}
