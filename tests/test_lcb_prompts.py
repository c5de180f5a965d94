"""Golden strings: prompts must equal lcb_runner's (lcb_runner/prompts/code_generation.py) character for character."""

from __future__ import annotations

import pytest

from codegen_ray.errors import ConfigError
from codegen_ray.lcb.prompts import PromptStyle, build_prompt, resolve_prompt_style
from codegen_ray.lcb.records import problem_from_record
from test_lcb_support import make_record

STDIN = problem_from_record(make_record("abc361_a", tests=[("1 2\n", "3\n")], content="Print A+B.\n\nConstraints\n1 <= A"))
STARTER = problem_from_record(make_record(
    "3000", platform="leetcode", func_name="f", tests=[("1", "1")], content="Return x.",
    starter_code="class Solution:\n    def f(self, x: int) -> int:\n        "))

GENERIC_SYSTEM = (
    "You are an expert Python programmer. You will be given a question (problem specification) and will generate a "
    "correct Python program that matches the specification and passes all tests. You will NOT return anything except "
    "for the program."
)

GOLDEN_CODEQWEN_STDIN = """<|im_start|>system
You are a helpful assistant.<|im_end|>
<|im_start|>user

You will be given a question (problem specification) and will generate a correct Python program that matches the specification and passes all tests. You will NOT return anything except for the program.

Question: Print A+B.

Constraints
1 <= A

Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on the sample inputs). Enclose your code within delimiters as follows.
```python
# YOUR CODE HERE
```

<|im_end|>
<|im_start|>assistant
"""

GOLDEN_CODEQWEN_STARTER = """<|im_start|>system
You are a helpful assistant.<|im_end|>
<|im_start|>user

You will be given a question (problem specification) and will generate a correct Python program that matches the specification and passes all tests. You will NOT return anything except for the program.

Question: Return x.

You will use the following starter code to write the solution to the problem and enclose your code within delimiters.
```python
class Solution:
    def f(self, x: int) -> int:
        
```

<|im_end|>
<|im_start|>assistant
"""

GOLDEN_GENERIC_STDIN = """### Question:
Print A+B.

Constraints
1 <= A

### Format: Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on the sample inputs). Enclose your code within delimiters as follows.
```python
# YOUR CODE HERE
```

### Answer: (use the provided format with backticks)

"""

GOLDEN_GENERIC_STARTER = """### Question:
Return x.

### Format: You will use the following starter code to write the solution to the problem and enclose your code within delimiters.
```python
class Solution:
    def f(self, x: int) -> int:
        
```

### Answer: (use the provided format with backticks)

"""


def test_codeqwen_stdin_golden():
    prompt = build_prompt(STDIN, PromptStyle.CODEQWEN)
    assert prompt.messages is None and prompt.question_id == "abc361_a"
    assert prompt.text == GOLDEN_CODEQWEN_STDIN


def test_codeqwen_starter_golden():
    # the starter code's trailing indentation ("        ") is kept verbatim, as upstream
    assert build_prompt(STARTER, PromptStyle.CODEQWEN).text == GOLDEN_CODEQWEN_STARTER


def test_generic_stdin_golden():
    prompt = build_prompt(STDIN, PromptStyle.GENERIC)
    assert prompt.text is None
    assert prompt.messages == ({"role": "system", "content": GENERIC_SYSTEM},
                               {"role": "user", "content": GOLDEN_GENERIC_STDIN})


def test_generic_starter_golden():
    messages = build_prompt(STARTER, PromptStyle.GENERIC).messages
    assert messages[0] == {"role": "system", "content": GENERIC_SYSTEM}
    assert messages[1] == {"role": "user", "content": GOLDEN_GENERIC_STARTER}


@pytest.mark.parametrize("cfg,model,expected", [
    ("auto", "Qwen/Qwen2.5-Coder-7B-Instruct", PromptStyle.CODEQWEN),
    ("auto", "/models/qwen2.5-coder-1.5b", PromptStyle.CODEQWEN),
    ("auto", "builtin:tiny-qwen2", PromptStyle.CODEQWEN),
    ("auto", "meta-llama/Llama-3.1-8B-Instruct", PromptStyle.GENERIC),
    ("generic", "Qwen/Qwen2.5-Coder-7B-Instruct", PromptStyle.GENERIC),
    ("codeqwen", "deepseek-ai/deepseek-coder", PromptStyle.CODEQWEN),
])
def test_resolve_prompt_style(cfg, model, expected):
    assert resolve_prompt_style(cfg, model) is expected


def test_resolve_prompt_style_rejects_unknown():
    with pytest.raises(ConfigError, match="benchmark.prompt_style"):
        resolve_prompt_style("chatml", "x")
