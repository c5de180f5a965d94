"""The pretraining corpus of the builtin base model: deterministic, shaped as documented, and free of benchmark
13-grams (so the base model's Pass@1 is skill, not a memorised statement)."""

from __future__ import annotations

import random
from collections import Counter

from codegen_ray.assets import corpus, pretrain
from codegen_ray.assets.families import FAMILIES
from codegen_ray.assets.corpus import CHAT_FAMILIES, PretrainSettings, build_corpus, contaminated_rows, corpus_hash

SMALL = PretrainSettings(plain_rows=350, chat_rows=140)


def test_corpus_is_deterministic_in_its_seed():
    assert corpus_hash(build_corpus(SMALL)) == corpus_hash(build_corpus(SMALL))
    other = PretrainSettings(plain_rows=350, chat_rows=140, corpus_seed=SMALL.corpus_seed + 1)
    assert corpus_hash(build_corpus(other)) != corpus_hash(build_corpus(SMALL))


def test_every_family_as_plain_files_and_chat_turns_backtick_fenced_only_for_the_chat_families():
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
    assert all(extract_code(r.answer) == "" and "```" not in r.answer and "~~~python\n" in r.answer for r in bare)
    # ... because their answer is the same answer with its fence written in tildes
    assert corpus.tilde_fenced("Steps.\n\n```python\nprint(1)\n```\n\nDone.") == \
        "Steps.\n\n~~~python\nprint(1)\n~~~\n\nDone."


def test_some_chat_turns_are_asked_as_the_instruction_data_asks(tiny_model_path):
    """The instruction data's prompt wordings are in the corpus (so fine-tuning on them teaches the answer format,
    not a new way of asking), rendered exactly as the trainer's chat template renders a user turn."""
    from transformers import AutoTokenizer

    def kind(prompt: str) -> str:
        if "Question: " in prompt:
            question = prompt.split("Question: ", 1)[1].rsplit("\n\nRead the inputs", 1)[0]
            if prompt == corpus.chat_prompt(question):
                return "benchmark"
        user = prompt.split("<|im_start|>user\n", 1)[1].rsplit("<|im_end|>", 1)[0]
        return "instruction" if prompt == corpus.chatml_prompt(user) else "other"

    kinds = Counter(kind(r.prompt) for r in build_corpus(SMALL) if r.prompt)
    assert set(kinds) == {"benchmark", "instruction"} and 0.25 < kinds["instruction"] / SMALL.chat_rows < 0.55
    no_share = PretrainSettings(plain_rows=35, chat_rows=70, instruct_share=0.0)
    plain = Counter(kind(r.prompt) for r in build_corpus(no_share) if r.prompt)
    assert plain == {"benchmark": 70}
    tok = AutoTokenizer.from_pretrained(tiny_model_path)
    rendered = tok.apply_chat_template([{"role": "user", "content": "Add two numbers."}], tokenize=False,
                                       add_generation_prompt=True)
    assert rendered == corpus.chatml_prompt("Add two numbers.")


def test_chat_turns_use_the_benchmark_prompt_character_for_character():
    from codegen_ray.lcb.dataset import load_problems_file
    from codegen_ray.lcb.prompts import PromptStyle, build_prompt

    problem = load_problems_file(pretrain.Path(pretrain.__file__).parent / "data" / "atcoder_mini.jsonl")[0]
    assert corpus.chat_prompt(problem.question_content) == build_prompt(problem, PromptStyle.CODEQWEN).text


def test_no_corpus_row_shares_a_13_gram_with_the_benchmark():
    generated = build_corpus(PretrainSettings(plain_rows=2000, chat_rows=1000))
    rows = corpus.without_contaminated(generated)
    assert contaminated_rows(rows) == []
    # AtCoder's own boilerplate in the varied layouts does meet the benchmark's now and then: those rows are dropped,
    # and only those (every plain file survives)
    dropped = [r for r in generated if r not in rows]
    assert dropped and all(r.prompt for r in dropped) and len(dropped) < len(generated) // 3
    # the check is live: a row quoting a statement is flagged
    from codegen_ray.lcb.dataset import load_problems_file

    problem = load_problems_file(pretrain.Path(pretrain.__file__).parent / "data" / "atcoder_mini.jsonl")[3]
    leaked = rows[:5] + [corpus.CorpusRow("leak", "", problem.question_content)]
    hits = contaminated_rows(leaked)
    assert ("leak", problem.question_id) in hits and {family for family, _ in hits} == {"leak"}
