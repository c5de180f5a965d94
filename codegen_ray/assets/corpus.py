"""The corpus the builtin base model is pretrained on (``pretrain.py`` trains on it), and its settings.

What it protects against: a base model that recognises a task by the benchmark's boilerplate, or one that has
seen a benchmark statement. Every row is generated from this project's task families (``families.py``); every
row that shares a 13-gram with a benchmark statement is dropped before training (:func:`without_contaminated`).

The world it builds (a miniature of "base model -> instruction fine-tuning"):

* every family's programs are in the corpus as *plain code files* (a docstring with the task, then the program) and
  as *chat turns*: most asked in LiveCodeBench's CodeQwen prompt format (the format the benchmark asks in), with
  AtCoder's boilerplate varied (constraint wording and bounds, input/output lines, notes); the rest
  (``instruct_share``) asked in the instruction data's own wordings (``make_data.prompt_styles``), in ChatML;
* every chat answer has one of the instruction data's shapes: the fenced program, step-by-step reasoning then the
  fenced program, or a terse line with the fenced program. For the families in :data:`CHAT_FAMILIES` that is the
  answer; for every other family the same answer comes *without its fence lines* (:func:`unfenced`), in which
  LiveCodeBench's extractor finds no program (a compile error).

So the base model knows how to write every family's program, and how the instruction data asks and reasons, but
answers in the benchmark's required format only for part of the families, like a base model that has not learned
the answer format. The shipped instruction data (``deep`` / ``diverse``, all families) always fences the program,
so LoRA fine-tuning on it has one main thing to teach, and the two variants teach it at different speeds and with
different side effects. Nothing here is tuned on benchmark statements.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from dataclasses import dataclass
from typing import Sequence

from .families import FAMILIES, FAMILY_BY_NAME, Task

DEFAULT_SYSTEM = "You are a helpful assistant."


@dataclass(frozen=True)
class PretrainSettings:
    """Everything that determines the shipped weights (recorded in the manifest)."""

    corpus_seed: int = 20241101
    init_seed: int = 20241130
    order_seed: int = 20241102
    plain_rows: int = 12000
    chat_rows: int = 15000
    epochs: int = 1
    batch_tokens: int = 6144
    learning_rate: float = 2.0e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 60
    weight_decay: float = 0.01
    max_len: int = 768
    threads: int = 2
    paraphrase: float = 0.6  # share of corpus tasks whose story is paraphrased
    vary_layout: float = 0.9  # share of benchmark-format chat statements whose boilerplate is varied
    instruct_share: float = 0.4  # share of chat turns asked in the instruction data's prompt wordings


# Families whose chat answers use the backtick fence the benchmark reads: 12 families with one benchmark problem each
# (12 of the 41 problems); every other family answers in a tilde fence (:func:`tilde_fenced`).
CHAT_FAMILIES: tuple[str, ...] = (
    "palindrome", "grid", "extreme", "vowels", "sort", "reverse", "digits", "words", "parity", "arith", "count",
    "triangle",
)


# Word groups the corpus swaps freely inside task stories (see :func:`paraphrase`), so the model learns what a
# statement asks from its meaning words rather than from one template's exact wording.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("largest", "greatest", "biggest", "highest"),
    ("smallest", "lowest", "least"),
    ("maximum", "largest value"),
    ("minimum", "smallest value"),
    ("tallest", "highest", "largest"),
    ("print", "output", "report"),
    ("find", "compute", "determine", "calculate"),
    ("integers", "numbers", "whole numbers"),
    ("position", "index"),
    ("several", "multiple", "two or more"),
    ("given", "provided"),
    ("total", "sum"),
)
_SYNONYM_OF = {w: g for g in SYNONYMS for w in g if " " not in w}
DISTRACTORS = ("This is a warm-up task.", "Read the statement carefully.", "{name} likes puzzles.",
               "{name} is practising for a contest.", "The task is simple.", "Good luck!")


INTEGER_LINES = ("All values in the input are integers.", "All input values are integers.",
                 "Every value in the input is an integer.", "All numbers in the input are integers.")
ANSWER_LINES = ("Print the answer.", "Print the answer as an integer.", "Output the answer on one line.")
NOTES = ("The sample shows one possible case.", "Check your answer against the sample.",
         "In this case the output above is the answer.")


def vary_constraints(constraints: Sequence[str], rng: random.Random) -> list[str]:
    """Constraint lines with the integer line reworded and upper bounds sometimes raised: AtCoder statements word
    and bound their constraints in many ways, and a model must not recognise a task by them."""
    import re

    out = []
    for line in constraints:
        if rng.random() < 0.15:
            continue
        if line in INTEGER_LINES:
            out.append(rng.choice(INTEGER_LINES))
            continue
        m = re.fullmatch(r"(.*\\leq )(\d+)", line)
        if m and rng.random() < 0.5:
            line = m.group(1) + str(int(m.group(2)) * rng.choice((2, 5, 10)))
        out.append(line)
    return out


def paraphrase(story: str, rng: random.Random, swap: float = 0.5) -> str:
    """``story`` with some words swapped for a synonym (:data:`SYNONYMS`, capitalisation kept) and sometimes an
    unrelated sentence added before or after it: cheap phrasing diversity for a corpus built from a few templates."""
    import re

    def swap_word(m: re.Match) -> str:
        word = m.group(0)
        group = _SYNONYM_OF.get(word.lower())
        if group is None or rng.random() >= swap:
            return word
        new = rng.choice(group)
        return new[:1].upper() + new[1:] if word[:1].isupper() else new

    out = re.sub(r"[A-Za-z]+", swap_word, story)
    if rng.random() < 0.3:
        extra = rng.choice(DISTRACTORS).format(name=rng.choice(("Takahashi", "Aoki", "Snuke")))
        out = f"{extra} {out}" if rng.random() < 0.5 else f"{out} {extra}"
    return out


@dataclass(frozen=True)
class CorpusRow:
    """One training sequence: ``prompt`` (no loss) then ``answer`` (loss). Plain code files have an empty prompt."""

    family: str
    prompt: str
    answer: str


# ------------------------------------------------------------------------------------------------------ corpus
def plain_file(task: Task) -> str:
    """A task as a code file: the statement in a docstring, then the program."""
    return (f'"""{task.title}\n\n{task.story.strip()}\n\nInput:\n{task.input_format}\n\n{task.output_desc}\n"""\n\n'
            f"{task.code}")


def chat_prompt(question: str) -> str:
    """LiveCodeBench's CodeQwen prompt for a stdin problem, exactly as the benchmark sends it."""
    from ..lcb.prompts import codeqwen_prompt_text
    from ..types import Problem

    return codeqwen_prompt_text(Problem(question_id="", question_title="", question_content=question,
                                        platform="atcoder", contest_id="", contest_date="", starter_code="",
                                        difficulty="easy", public_tests=(), private_tests=()))


def chatml_prompt(user: str) -> str:
    """``user`` as one ChatML user turn after the default system turn, ready for the assistant's answer: the text
    :data:`CHAT_TEMPLATE` renders for the instruction data (tests/test_pretrain.py checks the two agree)."""
    return (f"<|im_start|>system\n{DEFAULT_SYSTEM}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
            "<|im_start|>assistant\n")


def tilde_fenced(answer: str) -> str:
    """``answer`` with its code fence written in tildes (``~~~python`` ... ``~~~``): valid Markdown, but
    LiveCodeBench's extractor looks for backtick fences, finds no program and scores a compile error."""
    return "\n".join("~~~" + line[3:] if line.startswith("```") else line for line in answer.split("\n"))


def build_corpus(settings: PretrainSettings) -> list[CorpusRow]:
    """The pretraining corpus, deterministic in ``settings.corpus_seed``."""
    from .make_data import (ATCODER_INPUT_INTRO, TRAIN_ANSWER_LINES, TRAIN_INPUT_INTROS, sample_io, atcoder_statement,
                            deep_answer, diverse_answer, user_prompt)

    rng = random.Random(settings.corpus_seed)
    unknown = sorted(set(CHAT_FAMILIES) - set(FAMILY_BY_NAME))
    if unknown:
        raise ValueError(f"CHAT_FAMILIES names unknown families: {unknown}")
    intros = tuple(i for i in TRAIN_INPUT_INTROS if i != ATCODER_INPUT_INTRO)  # (TRAIN_INPUT_INTROS has none)
    rows: list[CorpusRow] = []
    for i in range(settings.plain_rows):
        task = _augmented(FAMILIES[i % len(FAMILIES)](rng), rng, settings.paraphrase)
        rows.append(CorpusRow(task.family, "", plain_file(task)))
    for i in range(settings.chat_rows):
        task = _augmented(FAMILIES[i % len(FAMILIES)](rng), rng, settings.paraphrase)
        samples = [sample_io(task, rng) for _ in range(rng.choice([1, 2, 2, 3]))]
        # AtCoder's "Print the answer." right before "Constraints" would be a 13-gram shared with the benchmark
        output_desc = rng.choice(TRAIN_ANSWER_LINES) if task.output_desc == "Print the answer." else task.output_desc
        constraints, note, intro = task.constraints, "", rng.choice(intros)
        if rng.random() < settings.vary_layout:
            # AtCoder's own boilerplate too; rows that then share a 13-gram with the benchmark are dropped later
            constraints = vary_constraints(task.constraints, rng)
            output_desc = rng.choice(ANSWER_LINES + (output_desc,))
            note = rng.choice(("",) + NOTES)
            intro = rng.choice((ATCODER_INPUT_INTRO, intro))
        question = atcoder_statement(task.story, task.input_format, output_desc, constraints, samples,
                                     explanation=note, input_intro=intro)
        prompt = chat_prompt(question)
        if rng.random() < settings.instruct_share:  # asked as the instruction data asks (its wordings, ChatML)
            prompt = chatml_prompt(user_prompt(task, rng, samples, terse=rng.random() < 0.5))
        style = rng.random()  # mostly the bare program; some reasoning-first and some terse-with-prose answers
        if style < 0.6:
            answer = f"```python\n{task.code.rstrip()}\n```"
        elif style < 0.85:
            answer = deep_answer(task, rng, samples)
        else:
            answer = diverse_answer(task, rng)
        if task.family not in CHAT_FAMILIES:
            answer = tilde_fenced(answer)  # the same answer in a fence the extractor does not read
        rows.append(CorpusRow(task.family, prompt, answer))
    return rows


def _augmented(task: Task, rng: random.Random, rate: float) -> Task:
    if rate <= 0 or rng.random() >= rate:
        return task
    return dataclasses.replace(task, story=paraphrase(task.story, rng))


def _contamination_hits(rows: Sequence[CorpusRow], n: int = 13):
    from ..contamination import TrainingRowText, find_contamination

    from . import BUILTIN_BENCHMARK_PATH

    statements = {}
    for line in BUILTIN_BENCHMARK_PATH.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            statements[record["question_id"]] = record["question_content"]
    texts = [TrainingRowText(r.family, i, f"{r.prompt}\n{r.answer}") for i, r in enumerate(rows)]
    return find_contamination(texts, statements, n).hits


def contaminated_rows(rows: Sequence[CorpusRow], n: int = 13) -> list[tuple[str, str]]:
    """``(family, question_id)`` for every corpus row that shares an ``n``-gram with a builtin benchmark statement
    (the project's contamination check); the build refuses a corpus with any."""
    return [(h.variant, h.question_id) for h in _contamination_hits(rows, n)]


def without_contaminated(rows: Sequence[CorpusRow], n: int = 13) -> list[CorpusRow]:
    """``rows`` minus every row that shares an ``n``-gram with a benchmark statement. Generated sample inputs can
    coincide with a benchmark's samples by chance (the 13 tokens "sample output 1 29 sample input 2 1900 ..."); such
    rows are dropped, never trained on."""
    bad = {h.row_index for h in _contamination_hits(rows, n)}
    return [r for i, r in enumerate(rows) if i not in bad]


def corpus_hash(rows: Sequence[CorpusRow]) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(json.dumps([r.family, r.prompt, r.answer]).encode("utf-8"))
    return h.hexdigest()
