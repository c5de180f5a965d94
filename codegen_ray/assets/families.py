"""Task families for the builtin training data: small competitive-programming stdin/stdout tasks.

Each family is a function ``(rng) -> Task`` that picks its own variant and parameters from the given
``random.Random`` instance. Every task carries a CORRECT reference program that reads stdin and writes stdout;
sample outputs are never typed by hand, they are produced by running that program (see ``make_data.run_inline``).
All text here is written by this project.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Task:
    """One training task. ``gen`` draws a sample input; ``code`` is the reference program."""

    family: str
    title: str
    story: str  # the statement paragraph(s)
    input_format: str  # the lines after "in the following format:"
    output_desc: str
    constraints: list[str]
    gen: Callable[[random.Random], str]
    code: str
    steps: list[str]  # reasoning steps for the "deep" variant
    brief: str  # a one-sentence description for short, informal prompts
    notes: list[str] = field(default_factory=list)


def _ints(rng: random.Random, n: int, lo: int, hi: int) -> list[int]:
    return [rng.randint(lo, hi) for _ in range(n)]


def _line(values) -> str:
    return " ".join(str(v) for v in values)


def _word(rng: random.Random, lo: int, hi: int, alphabet: str = string.ascii_lowercase) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def _list_input(lo: int, hi: int, nmax: int = 8) -> Callable[[random.Random], str]:
    def gen(rng: random.Random) -> str:
        n = rng.randint(2, nmax)
        return f"{n}\n{_line(_ints(rng, n, lo, hi))}\n"

    return gen


LIST_FORMAT = "N\nA_1 A_2 \\ldots A_N"


def _no_tie(gen: Callable[[random.Random], str], fraction: Callable[[str], tuple[int, int]], k: int
            ) -> Callable[[random.Random], str]:
    """Redraw inputs whose exact quotient p / q lies halfway between two k-decimal values (rounding ambiguity)."""

    def draw(r: random.Random) -> str:
        while True:
            inp = gen(r)
            p, q = fraction(inp)
            if (2 * p * 10 ** k) % (2 * q) != q:  # frac(p * 10^k / q) != 1/2
                return inp

    return draw


# ------------------------------------------------------------------------------------------------------ families
def fam_sum(rng: random.Random) -> Task:
    what = rng.choice(["apples", "coins", "points", "minutes", "stones", "tickets"])
    if rng.random() < 0.5:
        code = "n = int(input())\na = list(map(int, input().split()))\nprint(sum(a))\n"
        fmt = LIST_FORMAT
        gen = _list_input(0, 1000)
        steps = ["Read N from the first line.", "Read the N integers from the second line.",
                 "Add them up with sum() and print the total."]
    else:
        code = "n = int(input())\ntotal = 0\nfor _ in range(n):\n    total += int(input())\nprint(total)\n"
        fmt = "N\nA_1\nA_2\n\\vdots\nA_N"

        def gen(r: random.Random) -> str:
            n = r.randint(1, 6)
            return f"{n}\n" + "".join(f"{x}\n" for x in _ints(r, n, 0, 1000))

        steps = ["Read N.", "Read N more lines, one integer each, adding each one to a running total.",
                 "Print the total."]
    return Task(
        "sum", f"Total {what.title()}",
        f"There are N boxes. Box i contains A_i {what}.\nFind the total number of {what} in all boxes.",
        fmt, f"Print the total number of {what}.",
        ["1 \\leq N \\leq 200", "0 \\leq A_i \\leq 1000", "All values in the input are integers."],
        gen, code, steps, "Read N integers and print their sum.")


def fam_extreme(rng: random.Random) -> Task:
    kind = rng.choice(["max", "min", "range"])
    noun = rng.choice(["temperature", "score", "height", "price"])
    gen = _list_input(-100, 100) if noun == "temperature" else _list_input(1, 1000)
    lo = "-100" if noun == "temperature" else "1"
    hi = "100" if noun == "temperature" else "1000"
    if kind == "max":
        story = f"You are given N values A_1, \\ldots, A_N, where A_i is the {noun} on day i.\nPrint the largest {noun}."
        code = "n = int(input())\na = list(map(int, input().split()))\nprint(max(a))\n"
        steps = ["Read N and the list A.", "The answer is the largest element, so use max(A).", "Print it."]
        brief = "Read N integers and print the maximum."
    elif kind == "min":
        story = f"You are given N values A_1, \\ldots, A_N, where A_i is the {noun} on day i.\nPrint the smallest {noun}."
        code = "n = int(input())\na = list(map(int, input().split()))\nprint(min(a))\n"
        steps = ["Read N and the list A.", "The answer is the smallest element, so use min(A).", "Print it."]
        brief = "Read N integers and print the minimum."
    else:
        story = (f"You are given N values A_1, \\ldots, A_N, where A_i is the {noun} on day i.\n"
                 f"Print the difference between the largest and the smallest {noun}.")
        code = "n = int(input())\na = list(map(int, input().split()))\nprint(max(a) - min(a))\n"
        steps = ["Read N and the list A.", "Find the maximum and the minimum of A.",
                 "Print maximum minus minimum (it is never negative)."]
        brief = "Read N integers and print the maximum minus the minimum."
    return Task("extreme", f"{kind.title()} {noun.title()}", story, LIST_FORMAT, "Print the answer.",
                ["2 \\leq N \\leq 200", f"{lo} \\leq A_i \\leq {hi}", "All values in the input are integers."],
                gen, code, steps, brief)


def fam_count(rng: random.Random) -> Task:
    if rng.random() < 0.5:
        story = "You are given N integers A_1, \\ldots, A_N and an integer X.\nHow many indices i satisfy A_i = X?"
        fmt = "N X\nA_1 A_2 \\ldots A_N"

        def gen(r: random.Random) -> str:
            n = r.randint(2, 8)
            return f"{n} {r.randint(1, 5)}\n{_line(_ints(r, n, 1, 5))}\n"

        code = "n, x = map(int, input().split())\na = list(map(int, input().split()))\nprint(a.count(x))\n"
        steps = ["Read N and X, then the list A.", "Count how many elements equal X with list.count.",
                 "Print the count."]
        brief = "Read N, X and N integers; print how many of them equal X."
        cons = ["1 \\leq N \\leq 200", "1 \\leq A_i, X \\leq 5"]
    else:
        c = rng.choice("abcxyz")
        story = f"You are given a string S of lowercase English letters.\nCount how many times the letter {c} appears in S."
        fmt = "S"

        def gen(r: random.Random) -> str:
            return _word(r, 1, 12, "abcxyz" + c * 2) + "\n"

        code = f"s = input().strip()\nprint(s.count('{c}'))\n"
        steps = ["Read the string S.", f"Use S.count('{c}') to count the occurrences of {c}.", "Print the count."]
        brief = f"Read a string and print how many times '{c}' occurs in it."
        cons = ["S is a string of length between 1 and 100 consisting of lowercase English letters."]
    return Task("count", "Counting", story, fmt, "Print the answer as an integer.", cons, gen, code, steps, brief)


def fam_reverse(rng: random.Random) -> Task:
    if rng.random() < 0.6:
        story = "You are given a string S. Print S reversed, that is, read from the last character to the first."
        fmt = "S"
        gen = lambda r: _word(r, 1, 10) + "\n"  # noqa: E731
        code = "s = input().strip()\nprint(s[::-1])\n"
        steps = ["Read S.", "Slicing with step -1, S[::-1], gives the reversed string.", "Print it."]
        brief = "Reverse the input string."
        cons = ["S consists of lowercase English letters.", "1 \\leq |S| \\leq 100"]
    else:
        story = "You are given a sentence of words separated by single spaces.\nPrint the words in reverse order, separated by single spaces."
        fmt = "W_1 W_2 \\ldots W_K"
        gen = lambda r: " ".join(_word(r, 1, 5) for _ in range(r.randint(2, 5))) + "\n"  # noqa: E731
        code = "words = input().split()\nprint(' '.join(reversed(words)))\n"
        steps = ["Read the line and split it into words.", "Reverse the list of words.",
                 "Join them with single spaces and print."]
        brief = "Print the words of the input line in reverse order."
        cons = ["1 \\leq K \\leq 20", "Each W_i consists of lowercase English letters."]
    return Task("reverse", "Reverse", story, fmt, "Print the answer.", cons, gen, code, steps, brief)


def fam_parity(rng: random.Random) -> Task:
    if rng.random() < 0.5:
        story = "You are given an integer N. Print Even if N is even, and Odd if N is odd."
        code = "n = int(input())\nprint('Even' if n % 2 == 0 else 'Odd')\n"
        out = "Print Even or Odd."
        brief = "Print Even or Odd for the given integer."
    else:
        story = "Takahashi has N candies. Can he split them equally between two friends? Print Yes if he can, and No otherwise."
        code = "n = int(input())\nprint('Yes' if n % 2 == 0 else 'No')\n"
        out = "Print Yes or No."
        brief = "Print Yes if the integer is even, otherwise No."
    return Task("parity", "Even or Odd", story, "N", out, ["1 \\leq N \\leq 10^9", "N is an integer."],
                lambda r: f"{r.randint(1, 10**9)}\n", code,
                ["Read N.", "N is even exactly when N % 2 == 0.", "Print the matching word."], brief)


def _grid_gen(r: random.Random) -> str:
    h, w = r.randint(1, 4), r.randint(1, 5)
    return f"{h} {w}\n" + "".join("".join(r.choice("#..") for _ in range(w)) + "\n" for _ in range(h))


def fam_grid(rng: random.Random) -> Task:
    kind = rng.choice(["black", "white", "row"])
    fmt = "H W\nS_1\nS_2\n\\vdots\nS_H"
    intro = ("There is a grid with H rows and W columns. Each cell is black or white: the j-th character of S_i is # "
             "if the cell in row i, column j is black, and . if it is white.\n")
    if kind == "black":
        story = intro + "Count the black cells."
        code = "h, w = map(int, input().split())\nprint(sum(input().count('#') for _ in range(h)))\n"
        steps = ["Read H and W.", "For each of the H rows, count the # characters.", "Print the sum over all rows."]
        brief = "Count the '#' cells in an H by W grid."
    elif kind == "white":
        story = intro + "Count the white cells."
        code = "h, w = map(int, input().split())\nprint(sum(input().count('.') for _ in range(h)))\n"
        steps = ["Read H and W.", "For each of the H rows, count the . characters.", "Print the sum over all rows."]
        brief = "Count the '.' cells in an H by W grid."
    else:
        story = intro + "Print the number of rows that contain at least one black cell."
        code = "h, w = map(int, input().split())\nprint(sum(1 for _ in range(h) if '#' in input()))\n"
        steps = ["Read H and W.", "Read each row and check whether it contains #.", "Print how many rows do."]
        brief = "Count the rows of a grid that contain a '#'."
    return Task("grid", "Grid Cells", story, fmt, "Print the answer.",
                ["1 \\leq H, W \\leq 10", "Each S_i has length W and consists of # and ."],
                _grid_gen, code, steps, brief)


def fam_sort(rng: random.Random) -> Task:
    desc = rng.random() < 0.4
    order = "descending" if desc else "ascending"
    story = f"You are given N integers. Print them sorted in {order} order, separated by spaces."
    code = ("n = int(input())\na = list(map(int, input().split()))\n"
            f"a.sort({'reverse=True' if desc else ''})\nprint(*a)\n")
    return Task("sort", "Sort", story, LIST_FORMAT, f"Print A sorted in {order} order, separated by spaces.",
                ["1 \\leq N \\leq 200", "1 \\leq A_i \\leq 1000"], _list_input(1, 1000), code,
                ["Read N and the list.", f"Sort the list in {order} order.", "Print the elements separated by spaces with print(*a)."],
                f"Sort N integers in {order} order and print them.")


def fam_gcd(rng: random.Random) -> Task:
    lcm = rng.random() < 0.4
    name = "least common multiple" if lcm else "greatest common divisor"
    code = ("import math\na, b = map(int, input().split())\n"
            + ("print(a * b // math.gcd(a, b))\n" if lcm else "print(math.gcd(a, b))\n"))
    steps = ["Read A and B.", "math.gcd gives the greatest common divisor."]
    if lcm:
        steps.append("The least common multiple is A * B // gcd(A, B); Python integers do not overflow.")
    steps.append("Print the result.")
    return Task("gcd", name.title(), f"You are given two positive integers A and B. Print their {name}.",
                "A B", "Print the answer.", ["1 \\leq A, B \\leq 10^6"],
                lambda r: f"{r.randint(1, 60) * r.randint(1, 12)} {r.randint(1, 60) * r.randint(1, 12)}\n",
                code, steps, f"Print the {name} of two integers.")


def fam_prefix(rng: random.Random) -> Task:
    story = ("You are given N integers A_1, \\ldots, A_N and Q queries. The i-th query gives L_i and R_i; "
             "print A_{L_i} + A_{L_i+1} + \\cdots + A_{R_i}.")
    fmt = "N Q\nA_1 A_2 \\ldots A_N\nL_1 R_1\n\\vdots\nL_Q R_Q"

    def gen(r: random.Random) -> str:
        n, q = r.randint(2, 7), r.randint(1, 3)
        lines = [f"{n} {q}", _line(_ints(r, n, 1, 50))]
        for _ in range(q):
            lo = r.randint(1, n)
            lines.append(f"{lo} {r.randint(lo, n)}")
        return "\n".join(lines) + "\n"

    code = ("import sys\n\ndata = sys.stdin.read().split()\nn, q = int(data[0]), int(data[1])\n"
            "a = list(map(int, data[2:2 + n]))\npre = [0]\nfor x in a:\n    pre.append(pre[-1] + x)\n"
            "out = []\npos = 2 + n\nfor _ in range(q):\n    l, r = int(data[pos]), int(data[pos + 1])\n    pos += 2\n"
            "    out.append(pre[r] - pre[l - 1])\nprint('\\n'.join(map(str, out)))\n")
    return Task("prefix", "Range Sums", story, fmt, "Print Q lines; the i-th line is the answer to the i-th query.",
                ["1 \\leq N, Q \\leq 2 \\times 10^5", "1 \\leq A_i \\leq 10^9", "1 \\leq L_i \\leq R_i \\leq N"],
                gen, code,
                ["Summing each range directly could be O(NQ), too slow for the limits.",
                 "Build prefix sums: pre[0] = 0 and pre[i] = A_1 + ... + A_i.",
                 "The sum of A_L..A_R is pre[R] - pre[L-1], O(1) per query.",
                 "Read everything at once with sys.stdin for speed and print one answer per line."],
                "Answer range-sum queries over an array.")


def fam_case(rng: random.Random) -> Task:
    kind = rng.choice(["upper", "lower", "swapcase"])
    story = {"upper": "You are given a string S of English letters. Convert every lowercase letter to uppercase and print the result.",
             "lower": "You are given a string S of English letters. Convert every uppercase letter to lowercase and print the result.",
             "swapcase": "You are given a string S of English letters. Change every uppercase letter to lowercase and every lowercase letter to uppercase, then print the result."}[kind]
    return Task("case", "Case Conversion", story, "S", "Print the converted string.",
                ["1 \\leq |S| \\leq 100", "S consists of uppercase and lowercase English letters."],
                lambda r: _word(r, 1, 10, string.ascii_letters) + "\n", f"s = input().strip()\nprint(s.{kind}())\n",
                ["Read S.", f"Python's str.{kind}() does exactly this conversion.", "Print the result."],
                f"Apply {kind} to the input string.")


def fam_palindrome(rng: random.Random) -> Task:
    def gen(r: random.Random) -> str:
        half = _word(r, 1, 4, "abc")
        return (half + half[::-1][r.randint(0, 1):] if r.random() < 0.5 else _word(r, 1, 7, "abc")) + "\n"

    return Task("palindrome", "Palindrome", "You are given a string S. Print Yes if S reads the same forwards and backwards, and No otherwise.",
                "S", "Print Yes or No.", ["1 \\leq |S| \\leq 100", "S consists of lowercase English letters."],
                gen, "s = input().strip()\nprint('Yes' if s == s[::-1] else 'No')\n",
                ["Read S.", "S is a palindrome exactly when it equals its reverse S[::-1].", "Print Yes or No."],
                "Check whether a string is a palindrome (Yes/No).")


def fam_average(rng: random.Random) -> Task:
    k = rng.choice([1, 2, 3])
    story = f"You are given N integers. Print their average, rounded to exactly {k} digit{'s' if k > 1 else ''} after the decimal point."
    code = f"n = int(input())\na = list(map(int, input().split()))\nprint(f'{{sum(a) / n:.{k}f}}')\n"
    return Task("average", "Average", story, LIST_FORMAT, f"Print the average with exactly {k} digits after the decimal point.",
                ["1 \\leq N \\leq 200", "0 \\leq A_i \\leq 100", "The average is never exactly halfway between two printable values."],
                _no_tie(_list_input(0, 100), lambda inp: (sum(map(int, inp.split()[1:])), int(inp.split()[0])), k), code,
                ["Read N and the list.", "The average is sum(A) / N as a float.",
                 f"Format it with f'{{x:.{k}f}}' so exactly {k} decimals are printed."],
                f"Print the average of N integers with {k} decimals.")


def fam_fizzbuzz(rng: random.Random) -> Task:
    a, b = rng.choice([(3, 5), (2, 7), (3, 4), (4, 6)])
    wa, wb = rng.choice([("Fizz", "Buzz"), ("Foo", "Bar"), ("Ping", "Pong")])
    story = (f"For each integer i from 1 to N, print one line: {wa}{wb} if i is a multiple of both {a} and {b}, "
             f"{wa} if it is a multiple of {a} only, {wb} if it is a multiple of {b} only, and i itself otherwise.")
    code = (f"n = int(input())\nfor i in range(1, n + 1):\n    if i % {a} == 0 and i % {b} == 0:\n        print('{wa}{wb}')\n"
            f"    elif i % {a} == 0:\n        print('{wa}')\n    elif i % {b} == 0:\n        print('{wb}')\n"
            "    else:\n        print(i)\n")
    return Task("fizzbuzz", f"{wa}{wb}", story, "N", "Print N lines.", ["1 \\leq N \\leq 200"],
                lambda r: f"{r.randint(1, 15)}\n", code,
                ["Loop i from 1 to N.", f"Check the case 'multiple of both' first, otherwise it would print only {wa}.",
                 f"Then multiples of {a}, then of {b}, else the number."],
                f"FizzBuzz variant with {a}/{b} and words {wa}/{wb}.")


def fam_vowels(rng: random.Random) -> Task:
    if rng.random() < 0.5:
        story = "You are given a string S of lowercase English letters. Count the vowels (a, e, i, o, u) in S."
        code = "s = input().strip()\nprint(sum(1 for c in s if c in 'aeiou'))\n"
        brief = "Count the vowels in a lowercase string."
        out = "Print the number of vowels."
    else:
        story = "You are given a string S of lowercase English letters. Remove every vowel (a, e, i, o, u) and print what remains. S contains at least one consonant."
        code = "s = input().strip()\nprint(''.join(c for c in s if c not in 'aeiou'))\n"
        brief = "Delete the vowels from a string."
        out = "Print the resulting string."

    def gen(r: random.Random) -> str:
        return _word(r, 1, 9) + r.choice("bcdfgz") + "\n"

    return Task("vowels", "Vowels", story, "S", out, ["1 \\leq |S| \\leq 100"], gen, code,
                ["Read S.", "Go through the characters and test membership in 'aeiou'.", "Print the result."], brief)


def fam_second(rng: random.Random) -> Task:
    story = "You are given N integers, not all equal. Print the second largest distinct value among them."

    def gen(r: random.Random) -> str:
        n = r.randint(2, 8)
        a = _ints(r, n, 1, 20)
        if len(set(a)) == 1:
            a[0] += 1
        return f"{n}\n{_line(a)}\n"

    return Task("second", "Second Largest", story, LIST_FORMAT, "Print the answer.",
                ["2 \\leq N \\leq 200", "1 \\leq A_i \\leq 100", "Not all A_i are equal."], gen,
                "n = int(input())\na = list(map(int, input().split()))\nvals = sorted(set(a))\nprint(vals[-2])\n",
                ["Read N and A.", "Remove duplicates with set, then sort the distinct values.",
                 "The second largest distinct value is the second to last element."],
                "Print the second largest distinct value of a list.")


def fam_digits(rng: random.Random) -> Task:
    if rng.random() < 0.5:
        story = "You are given a positive integer N. Print the sum of its decimal digits."
        code = "n = input().strip()\nprint(sum(int(c) for c in n))\n"
        steps = ["Read N as a string so each digit is a character.", "Convert each character to int and add them.", "Print the sum."]
        brief = "Print the digit sum of N."
    else:
        story = "You are given a positive integer N. Print the number of digits of N."
        code = "n = input().strip()\nprint(len(n))\n"
        steps = ["Read N as a string.", "Its length is the number of digits (N has no leading zeros).", "Print it."]
        brief = "Print how many digits N has."
    return Task("digits", "Digits", story, "N", "Print the answer.", ["1 \\leq N \\leq 10^{18}"],
                lambda r: f"{r.randint(1, 10 ** r.randint(1, 18))}\n", code, steps, brief)


def fam_arith(rng: random.Random) -> Task:
    op = rng.choice(["+", "*", "-", "divmod"])
    if op == "divmod":
        story = "You are given integers A and B. Print the quotient and the remainder of A divided by B, separated by a space."
        code = "a, b = map(int, input().split())\nprint(a // b, a % b)\n"
        gen = lambda r: f"{r.randint(0, 1000)} {r.randint(1, 50)}\n"  # noqa: E731
        steps = ["Read A and B.", "Integer division a // b and remainder a % b.", "Print both on one line."]
        cons = ["0 \\leq A \\leq 1000", "1 \\leq B \\leq 50"]
    else:
        word = {"+": "sum A + B", "*": "product A \\times B", "-": "difference A - B"}[op]
        story = f"You are given integers A and B. Print the {word}."
        code = f"a, b = map(int, input().split())\nprint(a {op} b)\n"
        gen = lambda r: f"{r.randint(-1000, 1000)} {r.randint(-1000, 1000)}\n"  # noqa: E731
        steps = ["Read A and B from one line.", f"Compute a {op} b.", "Print it."]
        cons = ["-1000 \\leq A, B \\leq 1000"]
    return Task("arith", "Arithmetic", story, "A B", "Print the answer.", cons + ["All values in the input are integers."],
                gen, code, steps, f"Arithmetic on two integers ({op}).")


def fam_distinct(rng: random.Random) -> Task:
    return Task("distinct", "Distinct Values", "You are given N integers. How many different values appear among them?",
                LIST_FORMAT, "Print the number of distinct values.", ["1 \\leq N \\leq 200", "1 \\leq A_i \\leq 10"],
                _list_input(1, 10), "n = int(input())\na = list(map(int, input().split()))\nprint(len(set(a)))\n",
                ["Read N and A.", "A set keeps each value once.", "Print the size of the set."],
                "Count distinct values in a list.")


def fam_threshold(rng: random.Random) -> Task:
    cmp = rng.choice([">", ">=", "<"])
    word = {">": "strictly greater than", ">=": "at least", "<": "strictly less than"}[cmp]
    story = f"There are N students; student i scored A_i points. How many students scored {word} K points?"

    def gen(r: random.Random) -> str:
        n = r.randint(1, 8)
        return f"{n} {r.randint(0, 100)}\n{_line(_ints(r, n, 0, 100))}\n"

    return Task("threshold", "Passing Students", story, "N K\nA_1 A_2 \\ldots A_N", "Print the answer.",
                ["1 \\leq N \\leq 200", "0 \\leq K, A_i \\leq 100"], gen,
                f"n, k = map(int, input().split())\na = list(map(int, input().split()))\nprint(sum(1 for x in a if x {cmp} k))\n",
                ["Read N, K and the scores.", f"Count scores x with x {cmp} K.", "Print the count."],
                f"Count elements {word} K.")


def fam_substring(rng: random.Random) -> Task:
    def gen(r: random.Random) -> str:
        s = _word(r, 3, 10, "ab")
        if r.random() < 0.5:
            i = r.randint(0, len(s) - 1)
            t = s[i:i + r.randint(1, 3)]
        else:
            t = _word(r, 1, 3, "ab")
        return f"{s}\n{t}\n"

    return Task("substring", "Substring", "You are given strings S and T. Print Yes if T appears in S as a contiguous substring, and No otherwise.",
                "S\nT", "Print Yes or No.", ["1 \\leq |T| \\leq |S| \\leq 100", "S and T consist of lowercase English letters."],
                gen, "s = input().strip()\nt = input().strip()\nprint('Yes' if t in s else 'No')\n",
                ["Read S and T.", "Python's 'in' operator tests for a contiguous substring.", "Print Yes or No."],
                "Check whether T occurs in S.")


def fam_leap(rng: random.Random) -> Task:
    story = ("A year Y is a leap year if it is divisible by 4, except that years divisible by 100 are not leap years "
             "unless they are also divisible by 400. Given Y, print the number of days in year Y.")
    return Task("leap", "Days in a Year", story, "Y", "Print 366 or 365.", ["1583 \\leq Y \\leq 2999"],
                lambda r: f"{r.choice([r.randint(1583, 2999), 100 * r.randint(16, 29), 4 * r.randint(400, 749)])}\n",
                "y = int(input())\nleap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0\nprint(366 if leap else 365)\n",
                ["Read Y.", "Leap if divisible by 400, or divisible by 4 but not by 100.", "Print 366 for a leap year, else 365."],
                "Print the number of days in year Y.")


def fam_series(rng: random.Random) -> Task:
    if rng.random() < 0.5:
        story = "You are given N. Print 1 + 2 + \\cdots + N."
        code = "n = int(input())\nprint(n * (n + 1) // 2)\n"
        steps = ["Read N.", "Use the formula N(N+1)/2 instead of a loop, since N can be large.", "Use integer division // and print."]
        brief = "Print 1+2+...+N."
    else:
        story = "You are given N. Print 1^2 + 2^2 + \\cdots + N^2."
        code = "n = int(input())\nprint(n * (n + 1) * (2 * n + 1) // 6)\n"
        steps = ["Read N.", "Use the formula N(N+1)(2N+1)/6.", "Use integer division // and print."]
        brief = "Print the sum of squares 1..N."
    return Task("series", "Series Sum", story, "N", "Print the answer.", ["1 \\leq N \\leq 10^9"],
                lambda r: f"{r.randint(1, 10 ** r.randint(1, 9))}\n", code, steps, brief)


def fam_replace(rng: random.Random) -> Task:
    a, b = rng.sample("abcde", 2)
    story = f"You are given a string S of lowercase English letters. Replace every occurrence of {a} with {b} and print the result."
    return Task("replace", "Replace Letters", story, "S", "Print the resulting string.",
                ["1 \\leq |S| \\leq 100"], lambda r: _word(r, 1, 10, "abcde") + "\n",
                f"s = input().strip()\nprint(s.replace('{a}', '{b}'))\n",
                ["Read S.", f"str.replace('{a}', '{b}') replaces every occurrence.", "Print the result."],
                f"Replace '{a}' by '{b}' in a string.")


def fam_time(rng: random.Random) -> Task:
    if rng.random() < 0.5:
        story = "You are given a number of seconds T. Print it as H:MM:SS, where MM and SS always have two digits."
        code = "t = int(input())\nh, rem = divmod(t, 3600)\nm, s = divmod(rem, 60)\nprint(f'{h}:{m:02d}:{s:02d}')\n"
        gen = lambda r: f"{r.randint(0, 86399)}\n"  # noqa: E731
        cons = ["0 \\leq T < 86400"]
        fmt = "T"
        steps = ["Read T.", "Hours are T // 3600; the remainder splits into minutes and seconds with divmod by 60.",
                 "Pad minutes and seconds to two digits with :02d."]
    else:
        story = "A clock shows H o'clock and M minutes. Print the time K minutes later in HH:MM format (24-hour clock)."
        code = ("h, m, k = map(int, input().split())\nt = (h * 60 + m + k) % (24 * 60)\n"
                "print(f'{t // 60:02d}:{t % 60:02d}')\n")
        gen = lambda r: f"{r.randint(0, 23)} {r.randint(0, 59)} {r.randint(0, 3000)}\n"  # noqa: E731
        cons = ["0 \\leq H \\leq 23", "0 \\leq M \\leq 59", "0 \\leq K \\leq 3000"]
        fmt = "H M K"
        steps = ["Convert the time to minutes since midnight and add K.", "Take the result modulo 1440 to wrap around midnight.",
                 "Print hours and minutes, each padded to two digits."]
    return Task("time", "Clock", story, fmt, "Print the time.", cons, gen, code, steps,
                "Format a time of day.")


def fam_caesar(rng: random.Random) -> Task:
    story = "You are given an integer K and a string S of lowercase English letters. Shift every letter K places forward in the alphabet (after z comes a) and print the result."
    code = ("k = int(input())\ns = input().strip()\n"
            "print(''.join(chr((ord(c) - ord('a') + k) % 26 + ord('a')) for c in s))\n")
    return Task("caesar", "Shift Letters", story, "K\nS", "Print the shifted string.",
                ["0 \\leq K \\leq 25", "1 \\leq |S| \\leq 100"], lambda r: f"{r.randint(0, 25)}\n{_word(r, 1, 8)}\n",
                code, ["Read K and S.", "Map each letter to 0..25, add K, take modulo 26 to wrap past z.",
                       "Convert back with chr and join."], "Caesar-shift a string by K.")


def fam_manhattan(rng: random.Random) -> Task:
    story = "Takahashi is at point (X_1, Y_1) and wants to reach (X_2, Y_2), moving one unit up, down, left or right per step. Print the minimum number of steps."
    return Task("manhattan", "Grid Walk", story, "X_1 Y_1 X_2 Y_2", "Print the answer.",
                ["-100 \\leq X_i, Y_i \\leq 100"], lambda r: _line(_ints(r, 4, -100, 100)) + "\n",
                "x1, y1, x2, y2 = map(int, input().split())\nprint(abs(x1 - x2) + abs(y1 - y2))\n",
                ["Each step changes one coordinate by 1.", "So the answer is |X_1 - X_2| + |Y_1 - Y_2| (Manhattan distance).",
                 "Read the four numbers and print that."], "Print the Manhattan distance of two points.")


def fam_pairs(rng: random.Random) -> Task:
    story = "You are given N integers A_1, \\ldots, A_N and an integer K. Count the pairs (i, j) with i < j and A_i + A_j = K."

    def gen(r: random.Random) -> str:
        n = r.randint(2, 7)
        return f"{n} {r.randint(2, 10)}\n{_line(_ints(r, n, 1, 6))}\n"

    code = ("n, k = map(int, input().split())\na = list(map(int, input().split()))\ncnt = 0\n"
            "for i in range(n):\n    for j in range(i + 1, n):\n        if a[i] + a[j] == k:\n            cnt += 1\nprint(cnt)\n")
    return Task("pairs", "Pair Sums", story, "N K\nA_1 A_2 \\ldots A_N", "Print the number of pairs.",
                ["2 \\leq N \\leq 200", "1 \\leq A_i \\leq 100", "2 \\leq K \\leq 200"], gen, code,
                ["N is at most 100, so checking all pairs i < j (about 5000) is fast.",
                 "Count the pairs whose sum is K.", "Print the count."], "Count pairs with sum K.")


def fam_words(rng: random.Random) -> Task:
    if rng.random() < 0.5:
        story = "You are given a line of text consisting of words separated by spaces. Print the number of words."
        code = "print(len(input().split()))\n"
        steps = ["Read the line.", "split() with no argument splits on any whitespace.", "Print the number of parts."]
        brief = "Count the words in a line."
    else:
        story = "You are given a line of words separated by spaces. Print the longest word; if there is a tie, print the one that appears first."
        code = "words = input().split()\nprint(max(words, key=len))\n"
        steps = ["Read and split the line.", "max with key=len returns the first longest word on ties.", "Print it."]
        brief = "Print the longest word (first on ties)."
    return Task("words", "Words", story, "W_1 W_2 \\ldots W_K", "Print the answer.", ["1 \\leq K \\leq 20"],
                lambda r: " ".join(_word(r, 1, 6) for _ in range(r.randint(1, 6))) + "\n", code, steps, brief)


def fam_argmax(rng: random.Random) -> Task:
    story = "There are N mountains; mountain i has height H_i. Print the index (1-based) of the tallest mountain. If several are tallest, print the smallest index."
    return Task("argmax", "Tallest Mountain", story, "N\nH_1 H_2 \\ldots H_N", "Print the index.",
                ["1 \\leq N \\leq 200", "1 \\leq H_i \\leq 100"], _list_input(1, 20),
                "n = int(input())\nh = list(map(int, input().split()))\nprint(h.index(max(h)) + 1)\n",
                ["Read N and H.", "max(H) is the tallest height; list.index returns its first position.",
                 "Add 1 because the answer is 1-based."], "Print the 1-based index of the first maximum.")


def fam_compare(rng: random.Random) -> Task:
    story = "You are given integers A and B. Print A<B if A is smaller than B, A>B if A is larger, and A=B if they are equal."
    code = "a, b = map(int, input().split())\nif a < b:\n    print('A<B')\nelif a > b:\n    print('A>B')\nelse:\n    print('A=B')\n"
    return Task("compare", "Compare", story, "A B", "Print A<B, A>B or A=B.", ["-100 \\leq A, B \\leq 100"],
                lambda r: f"{r.randint(-5, 5)} {r.randint(-5, 5)}\n", code,
                ["Read A and B.", "Compare them with < and >; the remaining case is equality.", "Print the matching string."],
                "Compare two integers and print A<B, A>B or A=B.")


def fam_triangle(rng: random.Random) -> Task:
    story = "You are given three stick lengths A, B and C. Print Yes if a triangle with positive area can be made from them, and No otherwise."
    code = "a, b, c = sorted(map(int, input().split()))\nprint('Yes' if a + b > c else 'No')\n"
    return Task("triangle", "Three Sticks", story, "A B C", "Print Yes or No.", ["1 \\leq A, B, C \\leq 100"],
                lambda r: _line(_ints(r, 3, 1, 12)) + "\n", code,
                ["Sort the lengths so that C is the largest.", "A triangle exists exactly when the two shorter sticks are longer together than the longest: A + B > C.",
                 "Print Yes or No."], "Can three lengths form a triangle?")


def fam_multiples(rng: random.Random) -> Task:
    if rng.random() < 0.5:
        story = "You are given positive integers N and K. How many integers between 1 and N, inclusive, are multiples of K?"
        code = "n, k = map(int, input().split())\nprint(n // k)\n"
        steps = ["The multiples of K up to N are K, 2K, ..., and there are floor(N / K) of them.", "So the answer is N // K.", "Print it."]
        gen = lambda r: f"{r.randint(1, 10 ** 9)} {r.randint(1, 100)}\n"  # noqa: E731
        cons = ["1 \\leq N \\leq 10^9", "1 \\leq K \\leq 100"]
        fmt = "N K"
    else:
        story = "You are given integers L, R and K. How many integers x with L \\leq x \\leq R are multiples of K?"
        code = "l, r, k = map(int, input().split())\nprint(r // k - (l - 1) // k)\n"
        steps = ["Count multiples of K in [1, R] as R // K.", "Subtract the ones in [1, L - 1], which is (L - 1) // K.", "Print the difference."]

        def gen(r: random.Random) -> str:
            lo = r.randint(1, 1000)
            return f"{lo} {r.randint(lo, 2000)} {r.randint(1, 30)}\n"

        cons = ["1 \\leq L \\leq R \\leq 10^{18}", "1 \\leq K \\leq 10^{18}"]
        fmt = "L R K"
    return Task("multiples", "Multiples", story, fmt, "Print the count.", cons, gen, code, steps, "Count multiples of K in a range.")


def fam_binary(rng: random.Random) -> Task:
    if rng.random() < 0.5:
        story = "You are given a non-negative integer N. Print N written in binary, without leading zeros (print 0 for N = 0)."
        code = "n = int(input())\nprint(bin(n)[2:])\n"
        steps = ["Read N.", "bin(N) returns a string like '0b101'; drop the '0b' prefix.", "Print the rest (bin(0) gives '0b0', so 0 prints 0)."]
        gen = lambda r: f"{r.randint(0, 1000)}\n"  # noqa: E731
        fmt, cons, brief = "N", ["0 \\leq N \\leq 10^9"], "Print N in binary."
    else:
        story = "You are given a string S of 0s and 1s, the binary representation of an integer. Print that integer in decimal."
        code = "s = input().strip()\nprint(int(s, 2))\n"
        steps = ["Read S.", "int(S, 2) parses a base-2 string.", "Print the value."]
        gen = lambda r: "1" + _word(r, 0, 12, "01") + "\n"  # noqa: E731
        fmt, cons, brief = "S", ["1 \\leq |S| \\leq 60", "S starts with 1."], "Convert a binary string to decimal."
    return Task("binary", "Binary", story, fmt, "Print the answer.", cons, gen, code, steps, brief)


def fam_find(rng: random.Random) -> Task:
    c = rng.choice("abcx")
    story = f"You are given a string S. Print the position (counted from 1) of the first occurrence of the letter {c} in S, or -1 if {c} does not occur."
    code = f"s = input().strip()\ni = s.find('{c}')\nprint(i + 1 if i >= 0 else -1)\n"
    return Task("find", "First Occurrence", story, "S", "Print the position or -1.",
                ["1 \\leq |S| \\leq 100", "S consists of lowercase English letters."],
                lambda r: _word(r, 1, 9, "abcxyz") + "\n", code,
                ["Read S.", f"str.find('{c}') returns the 0-based index of the first match, or -1.", "Convert to 1-based when found; print -1 otherwise."],
                f"Print the 1-based position of the first '{c}' or -1.")


def fam_ratio(rng: random.Random) -> Task:
    k = rng.choice([2, 3, 6])
    story = f"A car travels D kilometers in T hours. Print its average speed in kilometers per hour, with exactly {k} digits after the decimal point."
    code = f"d, t = map(int, input().split())\nprint(f'{{d / t:.{k}f}}')\n"
    return Task("ratio", "Average Speed", story, "D T", f"Print D / T with exactly {k} digits after the decimal point.",
                ["1 \\leq D, T \\leq 1000", "D / T is never exactly halfway between two printable values."],
                _no_tie(lambda r: f"{r.randint(1, 1000)} {r.randint(1, 60)}\n",
                        lambda inp: tuple(map(int, inp.split())), k), code,
                ["Read D and T.", "Speed is D / T; true division gives a float.", f"Print it with the format spec .{k}f."],
                f"Print D / T with {k} decimals.")


FAMILIES: tuple[Callable[[random.Random], Task], ...] = (
    fam_sum, fam_extreme, fam_count, fam_reverse, fam_parity, fam_grid, fam_sort, fam_gcd, fam_prefix, fam_case,
    fam_palindrome, fam_average, fam_fizzbuzz, fam_vowels, fam_second, fam_digits, fam_arith, fam_distinct,
    fam_threshold, fam_substring, fam_leap, fam_series, fam_replace, fam_time, fam_caesar, fam_manhattan, fam_pairs,
    fam_words, fam_argmax, fam_compare, fam_triangle, fam_multiples, fam_binary, fam_find, fam_ratio,
)
