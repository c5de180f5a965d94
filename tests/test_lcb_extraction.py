from codegen_ray.lcb.extraction import extract_code


def test_single_block():
    assert extract_code("Here:\n```python\nprint(1)\n```\nDone") == "print(1)"


def test_last_block_wins():
    text = "First try:\n```python\nprint(1)\n```\nBetter:\n```python\nprint(2)\nprint(3)\n```\n"
    assert extract_code(text) == "print(2)\nprint(3)"


def test_no_block_or_single_fence_is_empty():
    assert extract_code("print(1)") == ""
    assert extract_code("```python\nprint(1)") == ""
    assert extract_code("") == ""


def test_fence_lines_are_any_line_containing_backticks():
    # lcb_runner counts every line that *contains* ``` (language tag or not, even mid-line)
    assert extract_code("x ```py\na = 1\nb = 2 ```\n") == "a = 1"
    assert extract_code("```\nno tag\n```") == "no tag"


def test_odd_number_of_fences_takes_text_between_last_two():
    text = "```python\nA\n```\ntalk\n```\nB"
    assert extract_code(text) == "talk"


def test_whitespace_inside_block_is_kept():
    assert extract_code("```python\n  x = 1\n\n```") == "  x = 1\n"
