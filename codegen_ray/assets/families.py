"""Task families for the builtin training data: a pure data table of small competitive-programming stdin/stdout tasks.

Each family is a function ``(rng) -> Task`` that picks its own variant, wording and parameters from the given
``random.Random`` instance. Every variant has several story phrasings that use the words a statement about that
skill would use ("sum", "even", "largest", ...), so a small model learns the skill rather than one sentence. Every
task carries a CORRECT reference program that reads stdin and writes stdout; sample outputs are never typed by
hand, they are produced by running that program (see ``make_data.run_inline``). All text here is written by this
project. Each builtin benchmark problem names the family that teaches its skill (``BenchProblem.family``); the
statements themselves never share a 13-token run with anything these families produce
(tests/test_assets_data.py checks both).
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
LIST_READ = "n = int(input())\na = list(map(int, input().split()))\n"
NAMES = ("Takahashi", "Aoki", "Snuke", "Ringo", "Hanako", "Jiro")
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


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


def _digits_phrase(rng: random.Random, k: int) -> str:
    """'2 digits' or 'two digits' ('1 digit' / 'one digit')."""
    num = rng.choice([str(k), NUMBER_WORDS[k]])
    return f"{num} digit{'s' if k > 1 else ''}"


# ------------------------------------------------------------------------------------------------------ families
def fam_sum(rng: random.Random) -> Task:
    kind = rng.choice(["list", "list", "lines", "even", "even", "odd"])
    what = rng.choice(["apples", "coins", "points", "minutes", "stones", "tickets", "candies", "books"])
    name = rng.choice(NAMES)
    if kind in ("even", "odd"):
        par = kind
        story = rng.choice([
            f"You are given N integers A_1, \\ldots, A_N.\nPrint the sum of those A_i that are {par}. If none of them is {par}, print 0.",
            f"There are N cards, and card i shows the number A_i.\nAdd up the numbers on the cards that show an {par} number and print the total (0 if no card shows an {par} number).",
            f"Among A_1, \\ldots, A_N, take every {par} value and compute the total of those values.\nPrint it; when there is no {par} value at all, the total is 0.",
            f"{name} keeps only the {par} numbers of the list A_1, \\ldots, A_N and adds them up.\nWhat sum does {name} get? If no number is {par}, the sum is 0.",
        ])
        rem = 0 if par == "even" else 1
        code = LIST_READ + f"print(sum(x for x in a if x % 2 == {rem}))\n"
        return Task("sum", f"{par.title()} Sum", story, LIST_FORMAT, f"Print the sum of the {par} values.",
                    ["1 \\leq N \\leq 200", "1 \\leq A_i \\leq 1000", "All values in the input are integers."],
                    _list_input(1, 1000), code,
                    ["Read N and the list A.", f"A number x is {par} exactly when x % 2 == {rem}; keep only those.",
                     "Add the kept numbers with sum() (an empty sum is 0) and print it."],
                    f"Print the sum of the {par} numbers among N integers.")
    story = rng.choice([
        f"There are N boxes. Box i contains A_i {what}.\nFind the total number of {what} in all boxes.",
        f"{name} received {what} on N different days, A_i {what} on day i.\nHow many {what} did {name} receive in total?",
        "You are given N integers A_1, \\ldots, A_N.\nPrint their sum, A_1 + A_2 + \\cdots + A_N.",
        f"N friends each bring some {what}: friend i brings A_i of them.\nCompute the sum of all the {what} they bring together.",
    ])
    if kind == "list":
        code = LIST_READ + "print(sum(a))\n"
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
        "sum", f"Total {what.title()}", story, fmt, rng.choice(["Print the total.", "Print the sum.", "Print the answer."]),
        ["1 \\leq N \\leq 200", "0 \\leq A_i \\leq 1000", "All values in the input are integers."],
        gen, code, steps, "Read N integers and print their sum.")


def fam_extreme(rng: random.Random) -> Task:
    kind = rng.choice(["max", "min", "range"])
    noun, things = rng.choice([("temperature", "days"), ("score", "players"), ("height", "trees"),
                               ("price", "items"), ("weight", "bags"), ("speed", "cars")])
    gen = _list_input(-100, 100) if noun == "temperature" else _list_input(1, 1000)
    lo = "-100" if noun == "temperature" else "1"
    hi = "100" if noun == "temperature" else "1000"
    intro = rng.choice([
        f"You are given N values A_1, \\ldots, A_N, where A_i is the {noun} on day i.",
        f"The {noun} was recorded N times; the i-th record is A_i.",
        f"There are N {things}, and the {noun} of the i-th one is A_i.",
    ])
    if kind == "max":
        ask = rng.choice([f"Print the largest {noun}.", f"Print the maximum {noun}.",
                          f"What is the highest {noun}? Print it."])
        code = LIST_READ + "print(max(a))\n"
        steps = ["Read N and the list A.", "The answer is the largest element, so use max(A).", "Print it."]
        brief = "Read N integers and print the maximum."
    elif kind == "min":
        ask = rng.choice([f"Print the smallest {noun}.", f"Print the minimum {noun}.",
                          f"What is the lowest {noun}? Print it."])
        code = LIST_READ + "print(min(a))\n"
        steps = ["Read N and the list A.", "The answer is the smallest element, so use min(A).", "Print it."]
        brief = "Read N integers and print the minimum."
    else:
        ask = rng.choice([f"Print the difference between the largest and the smallest {noun}.",
                          f"Print the maximum {noun} minus the minimum {noun}.",
                          f"How far apart are the highest and the lowest {noun}? Print that difference."])
        code = LIST_READ + "print(max(a) - min(a))\n"
        steps = ["Read N and the list A.", "Find the maximum and the minimum of A.",
                 "Print maximum minus minimum (it is never negative)."]
        brief = "Read N integers and print the maximum minus the minimum."
    return Task("extreme", f"{kind.title()} {noun.title()}", f"{intro}\n{ask}", LIST_FORMAT, "Print the answer.",
                ["2 \\leq N \\leq 200", f"{lo} \\leq A_i \\leq {hi}", "All values in the input are integers."],
                gen, code, steps, brief)


def fam_count(rng: random.Random) -> Task:
    if rng.random() < 0.5:
        things = rng.choice(["balls", "cards", "tokens", "dice"])
        story = rng.choice([
            "You are given N integers A_1, \\ldots, A_N and an integer X.\nHow many indices i satisfy A_i = X?",
            f"There are N {things}; the i-th one has the number A_i written on it.\nHow many of them show the number X?",
            "Count how many of the N integers A_1, \\ldots, A_N are equal to X, and print that count.",
        ])
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
        story = rng.choice([
            f"You are given a string S of lowercase English letters.\nCount how many times the letter {c} appears in S.",
            f"How many characters of the string S are the letter {c}? S consists of lowercase English letters.",
            f"Given a lowercase string S, print the number of occurrences of the character {c} in it.",
        ])
        fmt = "S"

        def gen(r: random.Random) -> str:
            return _word(r, 1, 12, "abcxyz" + c * 2) + "\n"

        code = f"s = input().strip()\nprint(s.count('{c}'))\n"
        steps = ["Read the string S.", f"Use S.count('{c}') to count the occurrences of {c}.", "Print the count."]
        brief = f"Read a string and print how many times '{c}' occurs in it."
        cons = ["S is a string of length between 1 and 100 consisting of lowercase English letters."]
    return Task("count", "Counting", story, fmt, "Print the answer as an integer.", cons, gen, code, steps, brief)


def fam_reverse(rng: random.Random) -> Task:
    name = rng.choice(NAMES)
    if rng.random() < 0.6:
        story = rng.choice([
            "You are given a string S. Print S reversed, that is, read from the last character to the first.",
            "Print the string obtained by reading the given string S from right to left.",
            f"{name} wrote the word S backwards. Reverse the order of the characters of S and print what {name} wrote.",
        ])
        fmt = "S"
        gen = lambda r: _word(r, 1, 10) + "\n"  # noqa: E731
        code = "s = input().strip()\nprint(s[::-1])\n"
        steps = ["Read S.", "Slicing with step -1, S[::-1], gives the reversed string.", "Print it."]
        brief = "Reverse the input string."
        cons = ["S consists of lowercase English letters.", "1 \\leq |S| \\leq 100"]
    else:
        story = rng.choice([
            "You are given a sentence of words separated by single spaces.\nPrint the words in reverse order, separated by single spaces.",
            "A sentence is given as K words separated by spaces. Print the same words with the last word first and the first word last, one space between words.",
            "Reverse the order of the words on the given line and print them separated by single spaces.",
        ])
        fmt = "W_1 W_2 \\ldots W_K"
        gen = lambda r: " ".join(_word(r, 1, 5) for _ in range(r.randint(2, 5))) + "\n"  # noqa: E731
        code = "words = input().split()\nprint(' '.join(reversed(words)))\n"
        steps = ["Read the line and split it into words.", "Reverse the list of words.",
                 "Join them with single spaces and print."]
        brief = "Print the words of the input line in reverse order."
        cons = ["1 \\leq K \\leq 20", "Each W_i consists of lowercase English letters."]
    return Task("reverse", "Reverse", story, fmt, "Print the answer.", cons, gen, code, steps, brief)


def fam_parity(rng: random.Random) -> Task:
    name = rng.choice(NAMES)
    what = rng.choice(["candies", "marbles", "cookies", "socks"])
    if rng.random() < 0.5:
        story = rng.choice([
            "You are given an integer N. Print Even if N is even, and Odd if N is odd.",
            "Determine whether the integer N is even or odd, and print Even or Odd accordingly.",
            "Is N divisible by 2? Print Even if it is, and Odd if it is not.",
            f"{name} has N {what}. Print Even if the number of {what} is even; otherwise print Odd.",
        ])
        code = "n = int(input())\nprint('Even' if n % 2 == 0 else 'Odd')\n"
        out = "Print Even or Odd."
        brief = "Print Even or Odd for the given integer."
    else:
        story = rng.choice([
            f"{name} has N {what}. Can {name} split them equally between two friends? Print Yes if so, and No otherwise.",
            f"N {what} must be packed into pairs with nothing left over. Print Yes if that is possible and No otherwise.",
            "Print Yes if the integer N is a multiple of 2, and No if it is not.",
        ])
        code = "n = int(input())\nprint('Yes' if n % 2 == 0 else 'No')\n"
        out = "Print Yes or No."
        brief = "Print Yes if the integer is even, otherwise No."
    return Task("parity", "Even or Odd", story, "N", out, ["1 \\leq N \\leq 10^9", "All values in the input are integers."],
                lambda r: f"{r.randint(1, 10**9)}\n", code,
                ["Read N.", "N is even exactly when N % 2 == 0.", "Print the matching word."], brief)


def _grid_gen(r: random.Random) -> str:
    h, w = r.randint(1, 4), r.randint(1, 5)
    return f"{h} {w}\n" + "".join("".join(r.choice("#..") for _ in range(w)) + "\n" for _ in range(h))


def fam_grid(rng: random.Random) -> Task:
    kind = rng.choice(["black", "white", "row", "column"])
    on, off = rng.choice([("black", "white"), ("painted", "unpainted"), ("filled", "empty")])
    cell = rng.choice(["cell", "square", "tile"])
    art = "an" if off[0] in "aeiou" else "a"
    fmt = "H W\nS_1\nS_2\n\\vdots\nS_H"
    intro = rng.choice([
        f"There is a grid with H rows and W columns. Each {cell} is {on} or {off}: the j-th character of S_i is # if the "
        f"{cell} in row i, column j is {on}, and . if it is {off}.",
        f"A board has H rows and W columns of {cell}s. The {cell} in row i and column j is {on} when the j-th character "
        f"of S_i is #, and {off} when that character is ..",
        f"You are given H strings S_1, \\ldots, S_H of length W that describe a grid: # marks a {on} {cell} and . "
        f"marks {art} {off} {cell}.",
    ])
    if kind == "black":
        ask = rng.choice([f"Count the {on} {cell}s.", f"How many {cell}s are {on}?",
                          f"Print the number of {on} {cell}s in the grid."])
        code = "h, w = map(int, input().split())\nprint(sum(input().count('#') for _ in range(h)))\n"
        steps = ["Read H and W.", "For each of the H rows, count the # characters.", "Print the sum over all rows."]
        brief = "Count the '#' cells in an H by W grid."
    elif kind == "white":
        ask = rng.choice([f"Count the {off} {cell}s.", f"How many {cell}s are {off}?",
                          f"Print the number of {off} {cell}s in the grid."])
        code = "h, w = map(int, input().split())\nprint(sum(input().count('.') for _ in range(h)))\n"
        steps = ["Read H and W.", "For each of the H rows, count the . characters.", "Print the sum over all rows."]
        brief = "Count the '.' cells in an H by W grid."
    elif kind == "row":
        ask = rng.choice([f"Print the number of rows that contain at least one {on} {cell}.",
                          f"How many rows have one or more {on} {cell}s?",
                          f"Count the rows in which some {cell} is {on}."])
        code = "h, w = map(int, input().split())\nprint(sum(1 for _ in range(h) if '#' in input()))\n"
        steps = ["Read H and W.", "Read each row and check whether it contains #.", "Print how many rows do."]
        brief = "Count the rows of a grid that contain a '#'."
    else:
        ask = rng.choice([f"Print the number of columns that have no {on} {cell} at all.",
                          f"How many columns consist only of {off} {cell}s?",
                          f"Count the columns in which every {cell} is {off}."])
        code = ("h, w = map(int, input().split())\ng = [input() for _ in range(h)]\n"
                "print(sum(1 for j in range(w) if all(row[j] == '.' for row in g)))\n")
        steps = ["Read H and W, then the H rows into a list.",
                 "Column j is empty when row[j] == '.' for every row; check that with all().",
                 "Count such columns over j = 0..W-1 and print the count."]
        brief = "Count the columns of a grid that contain no '#'."
    return Task("grid", "Grid Cells", f"{intro}\n{ask}", fmt, "Print the answer.",
                ["1 \\leq H, W \\leq 10", "Each S_i has length W and consists of # and ."],
                _grid_gen, code, steps, brief)


def fam_sort(rng: random.Random) -> Task:
    desc = rng.random() < 0.4
    order = rng.choice(["descending", "decreasing"] if desc else ["ascending", "increasing"])
    first, last = ("largest", "smallest") if desc else ("smallest", "largest")
    noun, things = rng.choice([("height", "children"), ("weight", "boxes"), ("price", "items"), ("score", "players")])
    story = rng.choice([
        f"You are given N integers. Print them sorted in {order} order, separated by spaces.",
        f"There are N {things}, and the {noun} of the i-th one is A_i. Arrange the {noun}s from the {first} to the "
        f"{last} and print them on one line, separated by spaces.",
        f"Sort the sequence A_1, \\ldots, A_N in {order} order and print the result with spaces between the numbers.",
    ])
    code = LIST_READ + f"a.sort({'reverse=True' if desc else ''})\nprint(*a)\n"
    return Task("sort", "Sort", story, LIST_FORMAT, f"Print A sorted in {order} order, separated by spaces.",
                ["1 \\leq N \\leq 200", "1 \\leq A_i \\leq 1000"], _list_input(1, 1000), code,
                ["Read N and the list.", f"Sort the list in {order} order.", "Print the elements separated by spaces with print(*a)."],
                f"Sort N integers in {order} order and print them.")


def fam_gcd(rng: random.Random) -> Task:
    kind = rng.choice(["gcd", "gcd", "lcm", "gcdn", "gcdn"])
    name = rng.choice(NAMES)
    what = rng.choice(["pencils", "flowers", "stamps"])
    if kind == "gcdn":
        story = rng.choice([
            "You are given N positive integers A_1, \\ldots, A_N. Print their greatest common divisor.",
            "Print the largest positive integer that divides every one of A_1, \\ldots, A_N.",
            "Find the greatest common divisor of all N numbers A_1, A_2, \\ldots, A_N.",
        ])

        def gen(r: random.Random) -> str:
            n, g = r.randint(1, 6), r.randint(1, 30)
            return f"{n}\n{_line(g * x for x in _ints(r, n, 1, 40))}\n"

        return Task("gcd", "Common Divisor of Many", story, LIST_FORMAT, "Print the answer.",
                    ["1 \\leq N \\leq 200", "1 \\leq A_i \\leq 10^6"], gen,
                    "import math\n" + LIST_READ + "print(math.gcd(*a))\n",
                    ["Read N and the list A.", "math.gcd accepts any number of arguments, so math.gcd(*A) is the gcd of all of them.",
                     "Print it."], "Print the gcd of N integers.")
    lcm = kind == "lcm"
    if lcm:
        story = rng.choice([
            "You are given two positive integers A and B. Print their least common multiple.",
            "Find the smallest positive integer that is a multiple of both A and B.",
            "Two lamps blink together at time 0; one blinks every A seconds and the other every B seconds. After how "
            "many seconds do they next blink at the same time? This is the least common multiple of A and B.",
        ])
    else:
        story = rng.choice([
            "You are given two positive integers A and B. Print their greatest common divisor.",
            "Find the largest positive integer that divides both A and B, and print it.",
            f"{name} has A red {what} and B blue {what} and wants to split them into identical groups with nothing "
            "left over. Print the largest possible number of groups, which is the greatest common divisor of A and B.",
        ])
    name_ = "least common multiple" if lcm else "greatest common divisor"
    code = ("import math\na, b = map(int, input().split())\n"
            + ("print(a * b // math.gcd(a, b))\n" if lcm else "print(math.gcd(a, b))\n"))
    steps = ["Read A and B.", "math.gcd gives the greatest common divisor."]
    if lcm:
        steps.append("The least common multiple is A * B // gcd(A, B); Python integers do not overflow.")
    steps.append("Print the result.")
    return Task("gcd", name_.title(), story, "A B", "Print the answer.", ["1 \\leq A, B \\leq 10^6"],
                lambda r: f"{r.randint(1, 60) * r.randint(1, 12)} {r.randint(1, 60) * r.randint(1, 12)}\n",
                code, steps, f"Print the {name_} of two integers.")


def fam_prefix(rng: random.Random) -> Task:
    what = rng.choice(["visitors", "steps", "orders"])
    name = rng.choice(NAMES)
    story = rng.choice([
        "You are given N integers A_1, \\ldots, A_N and Q queries. The i-th query gives L_i and R_i; "
        "print A_{L_i} + A_{L_i+1} + \\cdots + A_{R_i}.",
        "An array A_1, \\ldots, A_N is given, followed by Q questions. Question i asks for the total "
        "A_{L_i} + \\cdots + A_{R_i}. Answer every question.",
        f"{name} counted A_i {what} on day i, for N days. For each of Q queries (L_i, R_i), print the sum of the "
        f"{what} counted on days L_i through R_i.",
    ])
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
    kind = rng.choice(["upper", "lower", "swapcase", "count_upper", "count_upper", "count_lower"])
    name = rng.choice(NAMES)
    cons = ["1 \\leq |S| \\leq 100", "S consists of uppercase and lowercase English letters."]
    gen = lambda r: _word(r, 1, 10, string.ascii_letters) + "\n"  # noqa: E731
    if kind.startswith("count_"):
        which = kind[len("count_"):] + "case"
        method = "isupper" if which == "uppercase" else "islower"
        story = rng.choice([
            f"You are given a string S of uppercase and lowercase English letters. How many {which} letters does S contain?",
            f"Count the {'capital' if which == 'uppercase' else 'small'} ({which}) letters in the string S and print the count.",
            f"Print the number of positions i such that the i-th character of S is an {which} letter.",
        ])
        return Task("case", f"Count {which.title()}", story, "S", f"Print the number of {which} letters.", cons, gen,
                    f"s = input().strip()\nprint(sum(1 for c in s if c.{method}()))\n",
                    ["Read S.", f"c.{method}() tells whether the character c is an {which} letter.",
                     "Count the characters for which it is true and print the count."],
                    f"Count the {which} letters of a string.")
    story = rng.choice({
        "upper": ["You are given a string S of English letters. Convert every lowercase letter to uppercase and print the result.",
                  "Print the string S with all of its letters converted to uppercase (capital letters).",
                  f"{name} wants to write the word S in capitals. Print S in uppercase letters."],
        "lower": ["You are given a string S of English letters. Convert every uppercase letter to lowercase and print the result.",
                  "Print S with every uppercase letter replaced by the matching lowercase letter.",
                  "Convert all letters of S to lowercase (small letters) and print the result."],
        "swapcase": ["You are given a string S of English letters. Change every uppercase letter to lowercase and every "
                     "lowercase letter to uppercase, then print the result.",
                     "Flip the case of each letter of S: uppercase letters become lowercase and lowercase letters "
                     "become uppercase. Print the new string.",
                     "Print the string obtained from S by swapping the case of every letter."],
    }[kind])
    return Task("case", "Case Conversion", story, "S", "Print the converted string.", cons, gen,
                f"s = input().strip()\nprint(s.{kind}())\n",
                ["Read S.", f"Python's str.{kind}() does exactly this conversion.", "Print the result."],
                f"Apply {kind} to the input string.")


def fam_palindrome(rng: random.Random) -> Task:
    def gen(r: random.Random) -> str:
        half = _word(r, 1, 4, "abc")
        return (half + half[::-1][r.randint(0, 1):] if r.random() < 0.5 else _word(r, 1, 7, "abc")) + "\n"

    name = rng.choice(NAMES)
    story = rng.choice([
        "You are given a string S. Print Yes if S reads the same forwards and backwards, and No otherwise.",
        "A string is a palindrome if it is equal to its reverse. Is S a palindrome? Print Yes or No.",
        f"{name} wrote the string S. Print Yes if S does not change when its characters are reversed, otherwise print No.",
    ])
    return Task("palindrome", "Palindrome", story,
                "S", "Print Yes or No.", ["1 \\leq |S| \\leq 100", "S consists of lowercase English letters."],
                gen, "s = input().strip()\nprint('Yes' if s == s[::-1] else 'No')\n",
                ["Read S.", "S is a palindrome exactly when it equals its reverse S[::-1].", "Print Yes or No."],
                "Check whether a string is a palindrome (Yes/No).")


def fam_average(rng: random.Random) -> Task:
    k = rng.choice([1, 2, 3])
    kd = _digits_phrase(rng, k)
    people = rng.choice(["students", "runners", "players"])
    story = rng.choice([
        f"You are given N integers. Print their average, rounded to exactly {kd} after the decimal point.",
        f"There are N {people}, and the i-th one scored A_i points. Print the average of their scores, rounded to "
        f"{kd} after the decimal point.",
        f"Compute the arithmetic mean of A_1, \\ldots, A_N and print it with exactly {kd} after the decimal point.",
    ])
    code = LIST_READ + f"print(f'{{sum(a) / n:.{k}f}}')\n"
    return Task("average", "Average", story, LIST_FORMAT, f"Print the average with exactly {k} digits after the decimal point.",
                ["1 \\leq N \\leq 200", "0 \\leq A_i \\leq 100", "The average is never exactly halfway between two printable values."],
                _no_tie(_list_input(0, 100), lambda inp: (sum(map(int, inp.split()[1:])), int(inp.split()[0])), k), code,
                ["Read N and the list.", "The average is sum(A) / N as a float.",
                 f"Format it with f'{{x:.{k}f}}' so exactly {k} decimals are printed."],
                f"Print the average of N integers with {k} decimals.")


def fam_fizzbuzz(rng: random.Random) -> Task:
    a, b = rng.choice([(3, 5), (2, 7), (3, 4), (4, 6)])
    wa, wb = rng.choice([("Fizz", "Buzz"), ("Foo", "Bar"), ("Ping", "Pong"), ("Clap", "Stomp")])
    name = rng.choice(NAMES)
    story = rng.choice([
        f"For each integer i from 1 to N, print one line: {wa}{wb} if i is a multiple of both {a} and {b}, "
        f"{wa} if it is a multiple of {a} only, {wb} if it is a multiple of {b} only, and i itself otherwise.",
        f"{name} counts from 1 to N, one line per number. A number divisible by both {a} and {b} is replaced by "
        f"{wa}{wb}, any other number divisible by {a} by {wa}, any other number divisible by {b} by {wb}. Print the N lines.",
        f"Print N lines. On line i, print {wa}{wb} when i is divisible by {a} and by {b}, {wa} when i is divisible by "
        f"{a} but not by {b}, {wb} when i is divisible by {b} but not by {a}, and the number i in all other cases.",
    ])
    code = (f"n = int(input())\nfor i in range(1, n + 1):\n    if i % {a} == 0 and i % {b} == 0:\n        print('{wa}{wb}')\n"
            f"    elif i % {a} == 0:\n        print('{wa}')\n    elif i % {b} == 0:\n        print('{wb}')\n"
            "    else:\n        print(i)\n")
    return Task("fizzbuzz", f"{wa}{wb}", story, "N", "Print N lines.", ["1 \\leq N \\leq 200"],
                lambda r: f"{r.randint(6, 9)}\n", code,
                ["Loop i from 1 to N.", f"Check the case 'multiple of both' first, otherwise it would print only {wa}.",
                 f"Then multiples of {a}, then of {b}, else the number."],
                f"FizzBuzz variant with {a}/{b} and words {wa}/{wb}.")


def fam_vowels(rng: random.Random) -> Task:
    if rng.random() < 0.5:
        story = rng.choice([
            "You are given a string S of lowercase English letters. Count the vowels (a, e, i, o, u) in S.",
            "How many characters of S are vowels? Here the vowels are the letters a, e, i, o and u.",
            "Print the number of letters of S that belong to the set {a, e, i, o, u}.",
        ])
        code = "s = input().strip()\nprint(sum(1 for c in s if c in 'aeiou'))\n"
        brief = "Count the vowels in a lowercase string."
        out = "Print the number of vowels."
    else:
        story = rng.choice([
            "You are given a string S of lowercase English letters. Remove every vowel (a, e, i, o, u) and print what remains. S contains at least one consonant.",
            "Delete all vowels (a, e, i, o, u) from S and print the string that remains. S contains at least one consonant.",
            "Print S after erasing every a, e, i, o and u from it. At least one character is left.",
        ])
        code = "s = input().strip()\nprint(''.join(c for c in s if c not in 'aeiou'))\n"
        brief = "Delete the vowels from a string."
        out = "Print the resulting string."

    def gen(r: random.Random) -> str:
        return _word(r, 1, 9) + r.choice("bcdfgz") + "\n"

    return Task("vowels", "Vowels", story, "S", out, ["1 \\leq |S| \\leq 100"], gen, code,
                ["Read S.", "Go through the characters and test membership in 'aeiou'.", "Print the result."], brief)


def fam_second(rng: random.Random) -> Task:
    name = rng.choice(NAMES)
    things = rng.choice(["games", "rounds", "matches"])
    story = rng.choice([
        "You are given N integers, not all equal. Print the second largest distinct value among them.",
        "Among the distinct values of A_1, \\ldots, A_N (there are at least two), print the second greatest one.",
        f"{name} wrote down the scores A_1, \\ldots, A_N of N {things}; not all of them are the same. What is the "
        "second highest distinct score?",
    ])

    def gen(r: random.Random) -> str:
        n = r.randint(2, 8)
        a = _ints(r, n, 1, 20)
        if len(set(a)) == 1:
            a[0] += 1
        return f"{n}\n{_line(a)}\n"

    return Task("second", "Second Largest", story, LIST_FORMAT, "Print the answer.",
                ["2 \\leq N \\leq 200", "1 \\leq A_i \\leq 100", "Not all A_i are equal."], gen,
                LIST_READ + "vals = sorted(set(a))\nprint(vals[-2])\n",
                ["Read N and A.", "Remove duplicates with set, then sort the distinct values.",
                 "The second largest distinct value is the second to last element."],
                "Print the second largest distinct value of a list.")


def fam_digits(rng: random.Random) -> Task:
    name = rng.choice(NAMES)
    if rng.random() < 0.5:
        story = rng.choice([
            "You are given a positive integer N. Print the sum of its decimal digits.",
            "Add up all the decimal digits of the positive integer N and print the total.",
            f"{name} writes the number N on a sheet of paper. Print the sum of the digits {name} wrote.",
        ])
        code = "n = input().strip()\nprint(sum(int(c) for c in n))\n"
        steps = ["Read N as a string so each digit is a character.", "Convert each character to int and add them.", "Print the sum."]
        brief = "Print the digit sum of N."
    else:
        story = rng.choice([
            "You are given a positive integer N. Print the number of digits of N.",
            "How many digits does the positive integer N have when written in decimal?",
            "Print the length of the decimal representation of N.",
        ])
        code = "n = input().strip()\nprint(len(n))\n"
        steps = ["Read N as a string.", "Its length is the number of digits (N has no leading zeros).", "Print it."]
        brief = "Print how many digits N has."
    return Task("digits", "Digits", story, "N", "Print the answer.", ["1 \\leq N \\leq 10^{18}"],
                lambda r: f"{r.randint(1, 10 ** r.randint(1, 18))}\n", code, steps, brief)


def fam_arith(rng: random.Random) -> Task:
    op = rng.choice(["+", "*", "-", "divmod"])
    name = rng.choice(NAMES)
    what = rng.choice(["eggs", "pens", "cards"])
    if op == "divmod":
        story = rng.choice([
            "You are given integers A and B. Print the quotient and the remainder of A divided by B, separated by a space.",
            "Divide A by B. Print the integer quotient and the remainder on one line, separated by a space.",
            f"{name} packs A {what} into bags of B each. Print the number of full bags and the number of {what} left "
            "over, separated by a space.",
        ])
        code = "a, b = map(int, input().split())\nprint(a // b, a % b)\n"
        gen = lambda r: f"{r.randint(0, 1000)} {r.randint(1, 50)}\n"  # noqa: E731
        steps = ["Read A and B.", "Integer division a // b and remainder a % b.", "Print both on one line."]
        cons = ["0 \\leq A \\leq 1000", "1 \\leq B \\leq 50"]
    else:
        story = rng.choice({
            "+": ["You are given integers A and B. Print the sum A + B.",
                  "Add the two integers A and B and print the result.",
                  "Print the value of A + B for the given integers A and B."],
            "*": ["You are given integers A and B. Print the product A \\times B.",
                  "Multiply A by B and print the result.",
                  "A rectangle has side lengths A and B. Print its area, A \\times B."],
            "-": ["You are given integers A and B. Print the difference A - B.",
                  "Subtract B from A and print the result.",
                  "Print A minus B for the given integers A and B."],
        }[op])
        code = f"a, b = map(int, input().split())\nprint(a {op} b)\n"
        if op == "*":
            gen = lambda r: f"{r.randint(0, 1000)} {r.randint(0, 1000)}\n"  # noqa: E731
            cons = ["0 \\leq A, B \\leq 1000"]
        else:
            gen = lambda r: f"{r.randint(-1000, 1000)} {r.randint(-1000, 1000)}\n"  # noqa: E731
            cons = ["-1000 \\leq A, B \\leq 1000"]
        steps = ["Read A and B from one line.", f"Compute a {op} b.", "Print it."]
    return Task("arith", "Arithmetic", story, "A B", "Print the answer.", cons + ["All values in the input are integers."],
                gen, code, steps, f"Arithmetic on two integers ({op}).")


def fam_distinct(rng: random.Random) -> Task:
    things = rng.choice(["animals", "stamps", "shells", "flags"])
    if rng.random() < 0.5:
        story = rng.choice([
            "You are given N integers. How many different values appear among them?",
            f"There are N {things}; the kind of the i-th one is A_i. How many distinct kinds are there?",
            "Print the number of distinct values in the sequence A_1, \\ldots, A_N.",
        ])
        return Task("distinct", "Distinct Values", story,
                    LIST_FORMAT, "Print the number of distinct values.", ["1 \\leq N \\leq 200", "1 \\leq A_i \\leq 10"],
                    _list_input(1, 10), LIST_READ + "print(len(set(a)))\n",
                    ["Read N and A.", "A set keeps each value once.", "Print the size of the set."],
                    "Count distinct values in a list.")
    story = rng.choice([
        "You are given N integers. Remove the duplicates and print the distinct values in ascending order, separated by spaces.",
        "Print every value that appears in A_1, \\ldots, A_N once, from the smallest to the largest, separated by spaces.",
        "Sort the distinct values among A_1, \\ldots, A_N in increasing order and print them on one line.",
    ])
    return Task("distinct", "Distinct Sorted", story, LIST_FORMAT, "Print the values separated by spaces.",
                ["1 \\leq N \\leq 200", "1 \\leq A_i \\leq 10"], _list_input(1, 10), LIST_READ + "print(*sorted(set(a)))\n",
                ["Read N and A.", "set(A) drops the duplicates and sorted() puts the values in ascending order.",
                 "Print them separated by spaces with print(*...)."],
                "Print the distinct values of a list in ascending order.")


def fam_threshold(rng: random.Random) -> Task:
    cmp = rng.choice([">", ">=", "<"])
    word = rng.choice({">": ["strictly greater than", "more than", "greater than"],
                       ">=": ["at least", "greater than or equal to", "no less than"],
                       "<": ["strictly less than", "less than", "below"]}[cmp])
    latex = {">": ">", ">=": "\\geq", "<": "<"}[cmp]
    name = rng.choice(NAMES)
    noun = rng.choice(["temperature", "weight", "length"])
    story = rng.choice([
        f"There are N students; student i scored A_i points. How many students scored {word} K points?",
        f"{name} measured the {noun} of N objects: A_1, \\ldots, A_N. Count how many of them are {word} K.",
        f"Given N integers A_1, \\ldots, A_N and an integer K, print the number of indices i with A_i {latex} K.",
    ])

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

    name = rng.choice(NAMES)
    story = rng.choice([
        "You are given strings S and T. Print Yes if T appears in S as a contiguous substring, and No otherwise.",
        "Does the string T occur somewhere in S as a run of consecutive characters? Print Yes or No.",
        f"{name} is looking for the word T inside the text S. Print Yes if S contains T as a substring, and No if it does not.",
    ])
    return Task("substring", "Substring", story,
                "S\nT", "Print Yes or No.", ["1 \\leq |T| \\leq |S| \\leq 100", "S and T consist of lowercase English letters."],
                gen, "s = input().strip()\nt = input().strip()\nprint('Yes' if t in s else 'No')\n",
                ["Read S and T.", "Python's 'in' operator tests for a contiguous substring.", "Print Yes or No."],
                "Check whether T occurs in S.")


def fam_leap(rng: random.Random) -> Task:
    rule = rng.choice([
        "A year Y is a leap year if it is divisible by 4, except that years divisible by 100 are not leap years "
        "unless they are also divisible by 400.",
        "Leap years are the years divisible by 400, together with the years divisible by 4 but not by 100.",
        "In the calendar used here, Y is a leap year when Y is a multiple of 400, or when Y is a multiple of 4 and "
        "not a multiple of 100.",
    ])
    leap = "y = int(input())\nleap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0\n"
    gen = lambda r: f"{r.choice([r.randint(1583, 2999), 100 * r.randint(16, 29), 4 * r.randint(400, 749)])}\n"  # noqa: E731
    rule_step = "Leap if divisible by 400, or divisible by 4 but not by 100."
    if rng.random() < 0.5:
        ask = rng.choice(["Given Y, print the number of days in year Y.",
                          "Print 366 if Y is a leap year and 365 otherwise.",
                          "How many days does the year Y have?"])
        return Task("leap", "Days in a Year", f"{rule} {ask}", "Y", "Print 366 or 365.", ["1583 \\leq Y \\leq 2999"],
                    gen, leap + "print(366 if leap else 365)\n",
                    ["Read Y.", rule_step, "Print 366 for a leap year, else 365."], "Print the number of days in year Y.")
    ask = rng.choice(["For the given Y, print how many days February has in year Y: 29 in a leap year, 28 otherwise.",
                      "February has 29 days in leap years and 28 days in other years. Print the length of February in year Y.",
                      "How many days does February of the year Y have?"])
    return Task("leap", "Days in February", f"{rule} {ask}", "Y", "Print 29 or 28.", ["1583 \\leq Y \\leq 2999"],
                gen, leap + "print(29 if leap else 28)\n",
                ["Read Y.", rule_step, "February has 29 days in a leap year and 28 otherwise; print that."],
                "Print how many days February has in year Y.")


def fam_series(rng: random.Random) -> Task:
    name = rng.choice(NAMES)
    if rng.random() < 0.5:
        story = rng.choice([
            "You are given N. Print 1 + 2 + \\cdots + N.",
            "Print the sum of all integers from 1 to N, inclusive.",
            f"On day i, {name} saves i yen. How many yen has {name} saved in total after N days?",
        ])
        code = "n = int(input())\nprint(n * (n + 1) // 2)\n"
        steps = ["Read N.", "Use the formula N(N+1)/2 instead of a loop, since N can be large.", "Use integer division // and print."]
        brief = "Print 1+2+...+N."
    else:
        story = rng.choice([
            "You are given N. Print 1^2 + 2^2 + \\cdots + N^2.",
            "Print the sum of the squares of the integers from 1 to N.",
            "A pyramid has N layers, and layer i is made of i \\times i cubes. How many cubes does the pyramid have?",
        ])
        code = "n = int(input())\nprint(n * (n + 1) * (2 * n + 1) // 6)\n"
        steps = ["Read N.", "Use the formula N(N+1)(2N+1)/6.", "Use integer division // and print."]
        brief = "Print the sum of squares 1..N."
    return Task("series", "Series Sum", story, "N", "Print the answer.", ["1 \\leq N \\leq 10^9"],
                lambda r: f"{r.randint(1, 10 ** r.randint(1, 9))}\n", code, steps, brief)


def fam_replace(rng: random.Random) -> Task:
    a, b = rng.sample("abcde", 2)
    name = rng.choice(NAMES)
    story = rng.choice([
        f"You are given a string S of lowercase English letters. Replace every occurrence of {a} with {b} and print the result.",
        f"{name}'s keyboard is broken: whenever {name} wanted to type {b}, the letter {a} appeared instead. Fix the "
        f"string S by changing every {a} into {b}, and print it.",
        f"Print the string obtained from S by turning each letter {a} into the letter {b} (other letters stay as they are).",
    ])
    return Task("replace", "Replace Letters", story, "S", "Print the resulting string.",
                ["1 \\leq |S| \\leq 100"], lambda r: _word(r, 1, 10, "abcde") + "\n",
                f"s = input().strip()\nprint(s.replace('{a}', '{b}'))\n",
                ["Read S.", f"str.replace('{a}', '{b}') replaces every occurrence.", "Print the result."],
                f"Replace '{a}' by '{b}' in a string.")


def fam_time(rng: random.Random) -> Task:
    kind = rng.choice(["hms", "hhmmss", "later"])
    name = rng.choice(NAMES)
    if kind in ("hms", "hhmmss"):
        if kind == "hms":
            story = rng.choice([
                "You are given a number of seconds T. Print it as H:MM:SS, where MM and SS always have two digits.",
                "Convert T seconds into hours, minutes and seconds and print H:MM:SS; the hours are printed without "
                "padding, while minutes and seconds always use two digits.",
                "A timer has run for T seconds. Show it as H:MM:SS (MM and SS zero-padded to two digits, H as it is).",
            ])
            code = "t = int(input())\nh, rem = divmod(t, 3600)\nm, s = divmod(rem, 60)\nprint(f'{h}:{m:02d}:{s:02d}')\n"
            pad = "Pad minutes and seconds to two digits with :02d."
        else:
            story = rng.choice([
                "You are given a number of seconds T, less than one day. Print it as HH:MM:SS, where HH, MM and SS all "
                "have exactly two digits.",
                "Convert T seconds into hours, minutes and seconds and print them as HH:MM:SS, padding each part with a "
                "leading zero when it has only one digit.",
                f"{name}'s clock started at 00:00:00 and has been running for T seconds. Print the time it shows, "
                "as HH:MM:SS with two digits per part.",
            ])
            code = "t = int(input())\nh, rem = divmod(t, 3600)\nm, s = divmod(rem, 60)\nprint(f'{h:02d}:{m:02d}:{s:02d}')\n"
            pad = "Pad hours, minutes and seconds to two digits each with :02d."
        gen = lambda r: f"{r.randint(0, 86399)}\n"  # noqa: E731
        cons = ["0 \\leq T < 86400"]
        fmt = "T"
        steps = ["Read T.", "Hours are T // 3600; the remainder splits into minutes and seconds with divmod by 60.", pad]
    else:
        story = rng.choice([
            "A clock shows H o'clock and M minutes. Print the time K minutes later in HH:MM format (24-hour clock).",
            "The current time is H:M on a 24-hour clock. What time will it be after K minutes? Print it as HH:MM with "
            "two digits each.",
            f"{name} starts a task at H hours M minutes, and it takes K minutes. Print the finishing time as HH:MM "
            "(24-hour clock, wrapping past midnight).",
        ])
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
    story = rng.choice([
        "You are given an integer K and a string S of lowercase English letters. Shift every letter K places forward "
        "in the alphabet (after z comes a) and print the result.",
        "Encrypt the string S by replacing each letter with the one that comes K places after it in the alphabet; the "
        "alphabet is circular, so z is followed by a.",
        "Apply a Caesar shift of K to S: each lowercase letter moves forward K places, wrapping around from z to a. "
        "Print the shifted string.",
    ])
    code = ("k = int(input())\ns = input().strip()\n"
            "print(''.join(chr((ord(c) - ord('a') + k) % 26 + ord('a')) for c in s))\n")
    return Task("caesar", "Shift Letters", story, "K\nS", "Print the shifted string.",
                ["0 \\leq K \\leq 25", "1 \\leq |S| \\leq 100"], lambda r: f"{r.randint(0, 25)}\n{_word(r, 1, 8)}\n",
                code, ["Read K and S.", "Map each letter to 0..25, add K, take modulo 26 to wrap past z.",
                       "Convert back with chr and join."], "Caesar-shift a string by K.")


def fam_manhattan(rng: random.Random) -> Task:
    name = rng.choice(NAMES)
    story = rng.choice([
        f"{name} is at point (X_1, Y_1) and wants to reach (X_2, Y_2), moving one unit up, down, left or right per "
        "step. Print the minimum number of steps.",
        "Print the Manhattan distance |X_1 - X_2| + |Y_1 - Y_2| between the points (X_1, Y_1) and (X_2, Y_2).",
        "A robot on a grid moves one cell north, south, east or west at a time. What is the fewest number of moves "
        "it needs to go from (X_1, Y_1) to (X_2, Y_2)?",
    ])
    return Task("manhattan", "Grid Walk", story, "X_1 Y_1 X_2 Y_2", "Print the answer.",
                ["-100 \\leq X_i, Y_i \\leq 100"], lambda r: _line(_ints(r, 4, -100, 100)) + "\n",
                "x1, y1, x2, y2 = map(int, input().split())\nprint(abs(x1 - x2) + abs(y1 - y2))\n",
                ["Each step changes one coordinate by 1.", "So the answer is |X_1 - X_2| + |Y_1 - Y_2| (Manhattan distance).",
                 "Read the four numbers and print that."], "Print the Manhattan distance of two points.")


def fam_pairs(rng: random.Random) -> Task:
    things = rng.choice(["cards", "coins", "tiles"])
    story = rng.choice([
        "You are given N integers A_1, \\ldots, A_N and an integer K. Count the pairs (i, j) with i < j and A_i + A_j = K.",
        "How many pairs of indices i < j satisfy A_i + A_j = K?",
        f"There are N {things}, the i-th showing the number A_i. In how many ways can two different {things} be "
        "picked so that their numbers add up to K?",
    ])

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
    name = rng.choice(NAMES)
    if rng.random() < 0.5:
        story = rng.choice([
            "You are given a line of text consisting of words separated by spaces. Print the number of words.",
            "How many words are on the given line? Words are separated by spaces.",
            f"{name} wrote a sentence of K words separated by spaces. Print K.",
        ])
        code = "print(len(input().split()))\n"
        steps = ["Read the line.", "split() with no argument splits on any whitespace.", "Print the number of parts."]
        brief = "Count the words in a line."
    else:
        story = rng.choice([
            "You are given a line of words separated by spaces. Print the longest word; if there is a tie, print the one that appears first.",
            "Find the longest word on the line (the first one if several have the same length) and print it.",
            "Print the word with the most letters; when several words share the greatest length, print the earliest of them.",
        ])
        code = "words = input().split()\nprint(max(words, key=len))\n"
        steps = ["Read and split the line.", "max with key=len returns the first longest word on ties.", "Print it."]
        brief = "Print the longest word (first on ties)."
    return Task("words", "Words", story, "W_1 W_2 \\ldots W_K", "Print the answer.", ["1 \\leq K \\leq 20"],
                lambda r: " ".join(_word(r, 1, 6) for _ in range(r.randint(1, 6))) + "\n", code, steps, brief)


def fam_argmax(rng: random.Random) -> Task:
    players = rng.choice(["students", "runners", "teams"])
    story = rng.choice([
        "There are N mountains; mountain i has height H_i. Print the index (1-based) of the tallest mountain. If "
        "several are tallest, print the smallest index.",
        f"N {players} have scores H_1, \\ldots, H_N. Print the number (counted from 1) of the one with the highest "
        "score; if there is a tie, print the smallest such number.",
        "Print the position, counting from 1, of the maximum of H_1, \\ldots, H_N. If the maximum occurs more than "
        "once, print its first position.",
    ])
    return Task("argmax", "Tallest Mountain", story, "N\nH_1 H_2 \\ldots H_N", "Print the index.",
                ["1 \\leq N \\leq 200", "1 \\leq H_i \\leq 100"], _list_input(1, 20),
                "n = int(input())\nh = list(map(int, input().split()))\nprint(h.index(max(h)) + 1)\n",
                ["Read N and H.", "max(H) is the tallest height; list.index returns its first position.",
                 "Add 1 because the answer is 1-based."], "Print the 1-based index of the first maximum.")


def fam_compare(rng: random.Random) -> Task:
    story = rng.choice([
        "You are given integers A and B. Print A<B if A is smaller than B, A>B if A is larger, and A=B if they are equal.",
        "Compare the integers A and B. If A is less than B print A<B, if A is greater than B print A>B, and if they "
        "are the same print A=B.",
        "Two numbers A and B are written on a board. Print A>B when A is bigger, A<B when B is bigger, and A=B when "
        "both are the same.",
    ])
    code = "a, b = map(int, input().split())\nif a < b:\n    print('A<B')\nelif a > b:\n    print('A>B')\nelse:\n    print('A=B')\n"
    return Task("compare", "Compare", story, "A B", "Print A<B, A>B or A=B.", ["-100 \\leq A, B \\leq 100"],
                lambda r: f"{r.randint(-5, 5)} {r.randint(-5, 5)}\n", code,
                ["Read A and B.", "Compare them with < and >; the remaining case is equality.", "Print the matching string."],
                "Compare two integers and print A<B, A>B or A=B.")


def fam_triangle(rng: random.Random) -> Task:
    name = rng.choice(NAMES)
    sticks = rng.choice(["sticks", "rods", "straws"])
    story = rng.choice([
        "You are given three stick lengths A, B and C. Print Yes if a triangle with positive area can be made from "
        "them, and No otherwise.",
        "Can three segments of lengths A, B and C be the sides of a non-degenerate triangle? Print Yes or No.",
        f"{name} has three {sticks} of lengths A, B and C. Print Yes if they can form a triangle whose area is "
        "positive, and No otherwise.",
    ])
    code = "a, b, c = sorted(map(int, input().split()))\nprint('Yes' if a + b > c else 'No')\n"
    return Task("triangle", "Three Sticks", story, "A B C", "Print Yes or No.", ["1 \\leq A, B, C \\leq 100"],
                lambda r: _line(_ints(r, 3, 1, 12)) + "\n", code,
                ["Sort the lengths so that C is the largest.", "A triangle exists exactly when the two shorter sticks are longer together than the longest: A + B > C.",
                 "Print Yes or No."], "Can three lengths form a triangle?")


def fam_multiples(rng: random.Random) -> Task:
    if rng.random() < 0.5:
        event = rng.choice(["market", "festival", "delivery"])
        story = rng.choice([
            "You are given positive integers N and K. How many integers between 1 and N, inclusive, are multiples of K?",
            "Print how many of the integers 1, 2, \\ldots, N are divisible by K.",
            f"A {event} takes place every K days: on day K, day 2K, day 3K and so on. How many times does it take "
            "place during days 1 through N?",
        ])
        code = "n, k = map(int, input().split())\nprint(n // k)\n"
        steps = ["The multiples of K up to N are K, 2K, ..., and there are floor(N / K) of them.", "So the answer is N // K.", "Print it."]
        gen = lambda r: f"{r.randint(1, 10 ** 9)} {r.randint(1, 100)}\n"  # noqa: E731
        cons = ["1 \\leq N \\leq 10^9", "1 \\leq K \\leq 100"]
        fmt = "N K"
    else:
        story = rng.choice([
            "You are given integers L, R and K. How many integers x with L \\leq x \\leq R are multiples of K?",
            "Print the number of multiples of K between L and R, inclusive.",
            "How many integers in the range from L to R (both ends included) are divisible by K?",
        ])
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
        story = rng.choice([
            "You are given a non-negative integer N. Print N written in binary, without leading zeros (print 0 for N = 0).",
            "Convert the non-negative integer N to base 2 and print the result without leading zeros (N = 0 is printed as 0).",
            "Print the binary representation of N, with no leading zeros; for N = 0 print 0.",
        ])
        code = "n = int(input())\nprint(bin(n)[2:])\n"
        steps = ["Read N.", "bin(N) returns a string like '0b101'; drop the '0b' prefix.", "Print the rest (bin(0) gives '0b0', so 0 prints 0)."]
        gen = lambda r: f"{r.randint(0, 1000)}\n"  # noqa: E731
        fmt, cons, brief = "N", ["0 \\leq N \\leq 10^9"], "Print N in binary."
    else:
        story = rng.choice([
            "You are given a string S of 0s and 1s, the binary representation of an integer. Print that integer in decimal.",
            "The string S is a number written in base 2. Print its value in base 10.",
            "Convert the binary number S to decimal and print it.",
        ])
        code = "s = input().strip()\nprint(int(s, 2))\n"
        steps = ["Read S.", "int(S, 2) parses a base-2 string.", "Print the value."]
        gen = lambda r: "1" + _word(r, 0, 12, "01") + "\n"  # noqa: E731
        fmt, cons, brief = "S", ["1 \\leq |S| \\leq 60", "S starts with 1."], "Convert a binary string to decimal."
    return Task("binary", "Binary", story, fmt, "Print the answer.", cons, gen, code, steps, brief)


def fam_find(rng: random.Random) -> Task:
    c = rng.choice("abcx")
    story = rng.choice([
        f"You are given a string S. Print the position (counted from 1) of the first occurrence of the letter {c} in "
        f"S, or -1 if {c} does not occur.",
        f"Find where the letter {c} first appears in S. Print its 1-based position, or -1 if S has no {c}.",
        f"Scanning S from left to right, at which position (starting from 1) do you first meet the character {c}? "
        "Print -1 if it never appears.",
    ])
    code = f"s = input().strip()\ni = s.find('{c}')\nprint(i + 1 if i >= 0 else -1)\n"
    return Task("find", "First Occurrence", story, "S", "Print the position or -1.",
                ["1 \\leq |S| \\leq 100", "S consists of lowercase English letters."],
                lambda r: _word(r, 1, 9, "abcxyz") + "\n", code,
                ["Read S.", f"str.find('{c}') returns the 0-based index of the first match, or -1.", "Convert to 1-based when found; print -1 otherwise."],
                f"Print the 1-based position of the first '{c}' or -1.")


def fam_ratio(rng: random.Random) -> Task:
    k = rng.choice([2, 3, 4, 6])
    kd = _digits_phrase(rng, k)
    if rng.random() < 0.5:
        story = rng.choice([
            f"A car travels D kilometers in T hours. Print its average speed in kilometers per hour, with exactly {kd} after the decimal point.",
            f"D liters of water are poured equally into T bottles. Print the amount in each bottle, with exactly {kd} after the decimal point.",
            f"Print the quotient D / T with exactly {kd} after the decimal point.",
        ])
        fmt, expr, a_, b_ = "D T", "D / T", "d", "t"
    else:
        item = rng.choice(["apples", "stickers", "pencils"])
        story = rng.choice([
            f"A friends share a bill of B yen equally. Print how much each friend pays, with exactly {kd} after the decimal point.",
            f"You are given integers A and B. Compute B divided by A and print it with exactly {kd} after the decimal point.",
            f"With A coins you can buy B {item}, so one coin buys B / A of them. Print that amount with exactly {kd} after the decimal point.",
        ])
        fmt, expr, a_, b_ = "A B", "B / A", "b", "a"
    first, second = fmt.lower().split()
    code = f"{first}, {second} = map(int, input().split())\nprint(f'{{{a_} / {b_}:.{k}f}}')\n"
    if fmt == "D T":
        frac = lambda inp: tuple(map(int, inp.split()))  # noqa: E731
    else:
        frac = lambda inp: tuple(map(int, inp.split()))[::-1]  # noqa: E731
    return Task("ratio", "Average Speed" if fmt == "D T" else "Fair Share", story, fmt,
                f"Print {expr} with exactly {k} digits after the decimal point.",
                [f"1 \\leq {fmt[0]} \\leq {1000 if fmt == 'D T' else 60}",
                 f"1 \\leq {fmt[2]} \\leq {60 if fmt == 'D T' else 1000}",
                 f"{expr} is never exactly halfway between two printable values."],
                _no_tie(lambda r: f"{r.randint(1, 1000)} {r.randint(1, 60)}\n" if fmt == "D T"
                        else f"{r.randint(1, 60)} {r.randint(1, 1000)}\n", frac, k), code,
                [f"Read {first.upper()} and {second.upper()}.", f"The value is {expr}; true division gives a float.",
                 f"Print it with the format spec .{k}f."],
                f"Print {expr} with {k} decimals.")


FAMILIES: tuple[Callable[[random.Random], Task], ...] = (
    fam_sum, fam_extreme, fam_count, fam_reverse, fam_parity, fam_grid, fam_sort, fam_gcd, fam_prefix, fam_case,
    fam_palindrome, fam_average, fam_fizzbuzz, fam_vowels, fam_second, fam_digits, fam_arith, fam_distinct,
    fam_threshold, fam_substring, fam_leap, fam_series, fam_replace, fam_time, fam_caesar, fam_manhattan, fam_pairs,
    fam_words, fam_argmax, fam_compare, fam_triangle, fam_multiples, fam_binary, fam_find, fam_ratio,
)

#: Task.family string -> the family function (what ``BenchProblem.family`` names).
FAMILY_BY_NAME: dict[str, Callable[[random.Random], Task]] = {
    f.__name__[len("fam_"):]: f for f in FAMILIES
}
