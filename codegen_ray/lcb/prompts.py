"""Prompts identical, character for character, to what lcb_runner builds (``lcb_runner/prompts/code_generation.py``).

Two styles:

* ``CODEQWEN`` — ``LMStyle.CodeQwenInstruct``: one raw ChatML string, assistant turn opened, used for Qwen2.5-Coder
  instruct models. Generation backends must feed it as-is (no chat template on top).
* ``GENERIC`` — ``LMStyle.OpenAIChat`` and friends: a system message and a user message with ``### Question:`` /
  ``### Format:`` / ``### Answer:`` sections; the backend renders them with the tokenizer's chat template.
"""

from __future__ import annotations

import enum
import re

from ..errors import ConfigError
from ..types import Problem, Prompt


class PromptStyle(str, enum.Enum):
    CODEQWEN = "codeqwen"
    GENERIC = "generic"


# The instruction sentences shared by both styles (upstream ``PromptConstants``).
SYSTEM_MESSAGE_GENERIC = (
    "You are an expert Python programmer. You will be given a question (problem specification) and will generate a "
    "correct Python program that matches the specification and passes all tests. You will NOT return anything except "
    "for the program."
)
FORMAT_WITH_STARTER_CODE = (
    "You will use the following starter code to write the solution to the problem and enclose your code within "
    "delimiters."
)
FORMAT_WITHOUT_STARTER_CODE = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on the sample "
    "inputs). Enclose your code within delimiters as follows."
)
CODEQWEN_SYSTEM_PREFIX = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user"
CODEQWEN_TASK = (
    "You will be given a question (problem specification) and will generate a correct Python program that matches "
    "the specification and passes all tests. You will NOT return anything except for the program."
)
FENCE = "```"


def _code_block(body: str) -> str:
    return f"{FENCE}python\n{body}\n{FENCE}\n\n"


def generic_user_message(problem: Problem) -> str:
    parts = [f"### Question:\n{problem.question_content}\n\n"]
    if problem.starter_code:
        parts.append(f"### Format: {FORMAT_WITH_STARTER_CODE}\n")
        parts.append(_code_block(problem.starter_code))
    else:
        parts.append(f"### Format: {FORMAT_WITHOUT_STARTER_CODE}\n")
        parts.append(_code_block("# YOUR CODE HERE"))
    parts.append("### Answer: (use the provided format with backticks)\n\n")
    return "".join(parts)


def codeqwen_prompt_text(problem: Problem) -> str:
    if problem.starter_code:
        fmt, body = FORMAT_WITH_STARTER_CODE, problem.starter_code
    else:
        fmt, body = FORMAT_WITHOUT_STARTER_CODE, "# YOUR CODE HERE"
    return (
        f"{CODEQWEN_SYSTEM_PREFIX}\n\n"
        f"{CODEQWEN_TASK}\n\n"
        f"Question: {problem.question_content}\n\n"
        f"{fmt}\n"
        f"{_code_block(body)}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def build_prompt(problem: Problem, style: PromptStyle) -> Prompt:
    """The prompt lcb_runner would send for ``problem`` in ``style``."""
    style = PromptStyle(style)
    if style is PromptStyle.CODEQWEN:
        return Prompt(question_id=problem.question_id, text=codeqwen_prompt_text(problem))
    return Prompt(
        question_id=problem.question_id,
        messages=(
            {"role": "system", "content": SYSTEM_MESSAGE_GENERIC},
            {"role": "user", "content": generic_user_message(problem)},
        ),
    )


_QWEN_NAME = re.compile(r"qwen", re.IGNORECASE)


def is_qwen_family(model_name: str) -> bool:
    """Qwen-family names (Qwen/Qwen2.5-Coder-7B-Instruct, local paths containing 'qwen', the builtin tiny model
    ``builtin:tiny-qwen2``, a Qwen2 architecture with the Qwen ChatML template)."""
    return bool(_QWEN_NAME.search(model_name or ""))


def resolve_prompt_style(style_cfg: str, model_name: str) -> PromptStyle:
    """``auto`` → CODEQWEN for Qwen-family models, GENERIC otherwise; explicit values pass through."""
    value = (style_cfg or "auto").lower()
    if value == "auto":
        return PromptStyle.CODEQWEN if is_qwen_family(model_name) else PromptStyle.GENERIC
    try:
        return PromptStyle(value)
    except ValueError:
        raise ConfigError("benchmark.prompt_style", f"must be auto, codeqwen or generic, got {style_cfg!r}") from None
