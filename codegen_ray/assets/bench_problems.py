"""The builtin mini benchmark, a pure data table: AtCoder-style easy stdin problems written by this project.

Each problem has a reference program (trusted, ours), hand-picked public inputs and a seeded generator for private
inputs; expected outputs are produced by running the reference program in-process (``make_data.run_inline``).
Contest numbers start at 901 so ids never collide with real AtCoder contests. Each problem also carries one
deliberately broken program and the verdict it must get, used by the grading and sandbox tests, and names the
training task family (``families.py``, its ``Task.family`` string) whose programs solve it: the benchmark teaches
nothing itself, but every skill it asks for is one the builtin training data teaches in other words.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class BenchProblem:
    number: int  # contest abc{number}
    date: str  # naive ISO
    title: str
    story: str
    input_format: str
    output_desc: str
    constraints: tuple[str, ...]
    reference: str
    public_inputs: tuple[str, ...]
    gen_private: Callable[[random.Random], str]
    broken: str
    broken_outcome: str
    explanation: str = ""  # for sample 1
    family: str = ""  # the training task family that teaches this skill (Task.family); required

    def __post_init__(self) -> None:
        if not self.family:
            raise ValueError(f"abc{self.number}_a: BenchProblem.family must name a task family")

    @property
    def question_id(self) -> str:
        return f"abc{self.number}_a"

    @property
    def contest_id(self) -> str:
        return f"abc{self.number}"


def _ints(r: random.Random, n: int, lo: int, hi: int) -> str:
    return " ".join(str(r.randint(lo, hi)) for _ in range(n))


def _word(r: random.Random, lo: int, hi: int, alphabet: str = string.ascii_lowercase) -> str:
    return "".join(r.choice(alphabet) for _ in range(r.randint(lo, hi)))


def _gen_list(nmax: int, lo: int, hi: int) -> Callable[[random.Random], str]:
    def gen(r: random.Random) -> str:
        n = r.randint(1, nmax)
        return f"{n}\n{_ints(r, n, lo, hi)}\n"

    return gen


# Broken programs by the verdict they must get. They read the input first so the failure is the program's own.
TLE = "import sys\ndata = sys.stdin.read()\nx = 0\nwhile True:\n    x += 1\n"
MLE = "import sys\ndata = sys.stdin.read()\nblock = bytearray(6 * 1024 ** 3)\nprint(len(block))\n"
OLE = "import sys\ndata = sys.stdin.read()\nline = 'x' * 4096\nwhile True:\n    sys.stdout.write(line)\n"


def _ordered_problems() -> list[BenchProblem]:
    P = BenchProblem
    return [
        P(901, "2024-07-06T00:00:00", "Even Total",
          "You are given N integers A_1, A_2, \\ldots, A_N.\nFind the sum of the even numbers among them. If there is no even number, the sum is 0.",
          "N\nA_1 A_2 \\ldots A_N", "Print the answer.",
          ("1 \\leq N \\leq 100", "1 \\leq A_i \\leq 1000", "All input values are integers."),
          "n = int(input())\na = list(map(int, input().split()))\nprint(sum(x for x in a if x % 2 == 0))\n",
          ("5\n1 2 3 4 5\n", "3\n7 9 11\n"), _gen_list(30, 1, 1000),
          "n = int(input())\na = list(map(int, input().split()))\nprint(sum(x for x in a if x % 2 == 1))\n",
          "wrong_answer", "The even numbers are 2 and 4, and 2 + 4 = 6.", family="sum"),
        P(902, "2024-07-13T00:00:00", "Capital Letters",
          "You are given a string S consisting of uppercase and lowercase English letters.\nHow many characters of S are uppercase letters?",
          "S", "Print the number of uppercase letters in S.",
          ("S is a string of length between 1 and 100, inclusive, consisting of uppercase and lowercase English letters.",),
          "s = input().strip()\nprint(sum(1 for c in s if c.isupper()))\n",
          ("AtCoder\n", "abc\n"), lambda r: _word(r, 1, 60, string.ascii_letters) + "\n",
          "s = input().strip()\nprint(sum(1 for c in s if c.isupper())\n",
          "compile_error", "The uppercase letters are A and C.", family="case"),
        P(903, "2024-07-20T00:00:00", "Highest Tower",
          "There are N towers in a row. The i-th tower from the left has a height of H_i.\nPrint the position (counted from 1) of the highest tower. If several towers share the largest height, print the leftmost one.",
          "N\nH_1 H_2 \\ldots H_N", "Print the answer.",
          ("1 \\leq N \\leq 100", "1 \\leq H_i \\leq 100", "All input values are integers."),
          "n = int(input())\nh = list(map(int, input().split()))\nprint(h.index(max(h)) + 1)\n",
          ("4\n3 8 2 8\n", "1\n5\n"), _gen_list(20, 1, 10),
          "n = int(input())\nh = list(map(int, input().split()))\nbest = 0\nfor i in range(n):\n    if h[i] > h[best]:\n        best = i\nprint(best + 1)\n",
          "accepted", "The highest towers are the 2nd and the 4th; the leftmost one is the 2nd.", family="argmax"),
        P(904, "2024-07-27T00:00:00", "Mean Score",
          "N people took an exam. The i-th person scored A_i points.\nPrint the mean score of the N people, rounded to exactly two digits after the decimal point.",
          "N\nA_1 A_2 \\ldots A_N", "Print the mean score with exactly two digits after the decimal point.",
          ("1 \\leq N \\leq 100", "0 \\leq A_i \\leq 100", "All input values are integers.",
           "The exact mean never lies exactly halfway between two values with two decimal digits."),
          "n = int(input())\na = list(map(int, input().split()))\nprint(f'{sum(a) / n:.2f}')\n",
          ("3\n70 80 95\n", "2\n100 100\n"), _gen_mean,
          "n = int(input())\na = list(map(int, input().split()))\nprint(sum(a) // n)\n",
          "wrong_answer", "The mean is 245 / 3 = 81.666..., which is 81.67 after rounding.", family="average"),
        P(905, "2024-08-03T00:00:00", "Stopwatch",
          "A stopwatch shows T seconds.\nConvert T to hours, minutes and seconds and print it in the form HH:MM:SS, where each of HH, MM and SS has exactly two digits (with a leading zero if needed).",
          "T", "Print the time in the form HH:MM:SS.",
          ("0 \\leq T \\leq 86399", "T is an integer."),
          "t = int(input())\nprint(f'{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}')\n",
          ("3725\n", "59\n"), lambda r: f"{r.choice([r.randint(0, 86399), r.randint(0, 600)])}\n",
          "t = int(input())\nprint(f'{t // 3600}:{t % 3600 // 60}:{t % 60}')\n",
          "wrong_answer", "3725 seconds are 1 hour, 2 minutes and 5 seconds.", family="time"),
        P(906, "2024-08-10T00:00:00", "Mirror Word",
          "You are given a string S consisting of lowercase English letters.\nIf S is the same when read from right to left, print Yes; otherwise, print No.",
          "S", "Print Yes or No.",
          ("S is a string of length between 1 and 100, inclusive, consisting of lowercase English letters.",),
          "s = input().strip()\nprint('Yes' if s == s[::-1] else 'No')\n",
          ("level\n", "atcoder\n", "z\n"), _gen_palindrome,
          "s = input().strip()\nprint('Yes' if s[len(s)] == s[0] else 'No')\n",
          "runtime_error", "level read from right to left is level.", family="palindrome"),
        P(907, "2024-08-17T00:00:00", "Painted Tiles",
          "There is a floor of tiles arranged in H rows and W columns. The tile in the i-th row and j-th column is painted if the j-th character of S_i is #, and unpainted if it is ..\nPrint the number of columns that contain no painted tile.",
          "H W\nS_1\nS_2\n\\vdots\nS_H", "Print the answer.",
          ("1 \\leq H, W \\leq 10", "H and W are integers.", "Each S_i is a string of length W consisting of # and .."),
          "h, w = map(int, input().split())\ng = [input().strip() for _ in range(h)]\nprint(sum(1 for j in range(w) if all(row[j] == '.' for row in g)))\n",
          ("2 3\n#..\n..#\n", "1 4\n....\n"), _gen_grid,
          TLE, "time_limit", "Only the 2nd column has no painted tile.", family="grid"),
        P(908, "2024-08-24T00:00:00", "Common Divisor",
          "You are given N positive integers A_1, A_2, \\ldots, A_N.\nPrint the largest positive integer that divides all of them.",
          "N\nA_1 A_2 \\ldots A_N", "Print the answer.",
          ("1 \\leq N \\leq 100", "1 \\leq A_i \\leq 10^9", "All input values are integers."),
          "import math\nfrom functools import reduce\nn = int(input())\na = list(map(int, input().split()))\nprint(reduce(math.gcd, a))\n",
          ("3\n12 18 30\n", "2\n7 13\n"), _gen_gcd,
          MLE, "memory_limit", "6 divides 12, 18 and 30, and no larger integer does.", family="gcd"),
        P(909, "2024-09-07T00:00:00", "Rainfall Queries",
          "The rainfall on day i was D_i millimeters, for i = 1, 2, \\ldots, N.\nAnswer Q questions. The j-th question asks for the total rainfall from day L_j to day R_j, inclusive.",
          "N Q\nD_1 D_2 \\ldots D_N\nL_1 R_1\nL_2 R_2\n\\vdots\nL_Q R_Q",
          "Print Q lines. The j-th line should contain the answer to the j-th question.",
          ("1 \\leq N, Q \\leq 2 \\times 10^5", "0 \\leq D_i \\leq 10^4", "1 \\leq L_j \\leq R_j \\leq N", "All input values are integers."),
          "import sys\ndata = sys.stdin.buffer.read().split()\nn, q = int(data[0]), int(data[1])\npre = [0] * (n + 1)\nfor i in range(n):\n    pre[i + 1] = pre[i] + int(data[2 + i])\nout = []\nfor j in range(q):\n    l = int(data[2 + n + 2 * j])\n    r = int(data[3 + n + 2 * j])\n    out.append(pre[r] - pre[l - 1])\nprint('\\n'.join(map(str, out)))\n",
          ("5 3\n3 0 4 1 5\n1 3\n2 2\n1 5\n",), _gen_queries,
          "import sys\ndata = sys.stdin.buffer.read().split()\nn, q = int(data[0]), int(data[1])\na = [int(x) for x in data[2:2 + n]]\nout = []\nfor j in range(q):\n    l = int(data[2 + n + 2 * j])\n    r = int(data[3 + n + 2 * j])\n    out.append(sum(a[l:r + 1]))\nprint('\\n'.join(map(str, out)))\n",
          "wrong_answer", "Days 1 to 3 had 3 + 0 + 4 = 7 millimeters of rain.", family="prefix"),
        P(910, "2024-09-21T00:00:00", "Unique Sorted",
          "You are given N integers A_1, A_2, \\ldots, A_N.\nRemove duplicated values and print the remaining values in ascending order, separated by spaces.",
          "N\nA_1 A_2 \\ldots A_N", "Print the distinct values in ascending order, separated by spaces.",
          ("1 \\leq N \\leq 100", "1 \\leq A_i \\leq 100", "All input values are integers."),
          "n = int(input())\na = list(map(int, input().split()))\nprint(*sorted(set(a)))\n",
          ("6\n5 3 5 1 3 9\n", "3\n2 2 2\n"), _gen_list(30, 1, 20),
          OLE, "output_limit", "The distinct values are 1, 3, 5 and 9.", family="distinct"),
        P(911, "2024-09-28T00:00:00", "Flip Case",
          "You are given a string S consisting of uppercase and lowercase English letters.\nChange each uppercase letter of S to lowercase and each lowercase letter to uppercase, and print the resulting string.",
          "S", "Print the answer.",
          ("S is a string of length between 1 and 100, inclusive, consisting of uppercase and lowercase English letters.",),
          "print(input().strip().swapcase())\n",
          ("AtCoder\n", "xyz\n"), lambda r: _word(r, 1, 40, string.ascii_letters) + "\n",
          "print(input().strip().upper())\n",
          "wrong_answer", "", family="case"),
        P(912, "2024-10-05T00:00:00", "Clap and Stomp",
          "Takahashi counts from 1 to N. For each number i he does the following:\n- if i is a multiple of both 3 and 4, he says ClapStomp;\n- otherwise, if i is a multiple of 3, he says Clap;\n- otherwise, if i is a multiple of 4, he says Stomp;\n- otherwise, he says the number i.\nPrint what he says, one per line.",
          "N", "Print N lines.",
          ("1 \\leq N \\leq 100", "N is an integer."),
          "n = int(input())\nfor i in range(1, n + 1):\n    if i % 12 == 0:\n        print('ClapStomp')\n    elif i % 3 == 0:\n        print('Clap')\n    elif i % 4 == 0:\n        print('Stomp')\n    else:\n        print(i)\n",
          ("5\n", "12\n"), lambda r: f"{r.randint(1, 100)}\n",
          "n = int(input())\nfor i in range(1, n + 1):\n    if i % 3 == 0:\n        print('Clap')\n    elif i % 4 == 0:\n        print('Stomp')\n    elif i % 12 == 0:\n        print('ClapStomp')\n    else:\n        print(i)\n",
          "wrong_answer", "", family="fizzbuzz"),
        P(913, "2024-10-12T00:00:00", "Exchange Rate",
          "One unit of currency X can be exchanged for B / A units of currency Y.\nGiven A and B, print B / A rounded to exactly four digits after the decimal point.",
          "A B", "Print B / A with exactly four digits after the decimal point.",
          ("1 \\leq A, B \\leq 10^6", "All input values are integers.",
           "The exact value of B / A never lies exactly halfway between two values with four decimal digits."),
          "a, b = map(int, input().split())\nprint(f'{b / a:.4f}')\n",
          ("3 2\n", "4 10\n"), _gen_ratio,
          "a, b = map(int, input().split())\nprint(b / a)\n",
          "wrong_answer", "2 / 3 = 0.66666..., which rounds to 0.6667.", family="ratio"),
        P(914, "2024-10-19T00:00:00", "Vowel Count",
          "You are given a string S consisting of lowercase English letters.\nPrint how many characters of S are one of a, e, i, o and u.",
          "S", "Print the answer.",
          ("S is a string of length between 1 and 100, inclusive, consisting of lowercase English letters.",),
          "s = input().strip()\nprint(sum(s.count(v) for v in 'aeiou'))\n",
          ("programming\n", "rhythm\n"), lambda r: _word(r, 1, 80) + "\n",
          "s = input().strip()\nprint(sum(s.count(v) for v in 'aeiou') / 0)\n",
          "runtime_error", "The characters o, a and i are vowels.", family="vowels"),
        P(915, "2024-10-26T00:00:00", "Temperature Swing",
          "The temperature was measured N times; the i-th measurement was T_i degrees.\nPrint the difference between the highest and the lowest measurement.",
          "N\nT_1 T_2 \\ldots T_N", "Print the answer.",
          ("1 \\leq N \\leq 100", "-50 \\leq T_i \\leq 50", "All input values are integers."),
          "n = int(input())\nt = list(map(int, input().split()))\nprint(max(t) - min(t))\n",
          ("4\n-3 10 4 -8\n", "1\n0\n"), _gen_list(30, -50, 50),
          "n = int(input())\nt = list(map(int, input().split()))\nprint(max(t) - min(t)\n",
          "compile_error", "The highest is 10 and the lowest is -8, so the answer is 18.", family="extreme"),
        P(916, "2024-11-02T00:00:00", "February Days",
          "In the Gregorian calendar, a year is a leap year if it is a multiple of 4, except that multiples of 100 are not leap years unless they are also multiples of 400.\nFebruary has 29 days in a leap year and 28 days otherwise. Given a year Y, print the number of days in February of year Y.",
          "Y", "Print the answer.",
          ("1600 \\leq Y \\leq 3000", "Y is an integer."),
          "y = int(input())\nprint(29 if y % 400 == 0 or (y % 4 == 0 and y % 100 != 0) else 28)\n",
          ("2024\n", "1900\n", "2000\n"), lambda r: f"{r.choice([r.randint(1600, 3000), 100 * r.randint(16, 30), 4 * r.randint(400, 750)])}\n",
          "y = int(input())\nprint(29 if y % 4 == 0 else 28)\n",
          "wrong_answer", "", family="leap"),
        P(917, "2024-11-16T00:00:00", "Runner-up",
          "N players took part in a game, and player i scored A_i points. At least two different scores appear.\nPrint the second highest score, counting equal scores once.",
          "N\nA_1 A_2 \\ldots A_N", "Print the answer.",
          ("2 \\leq N \\leq 100", "1 \\leq A_i \\leq 100", "Not all A_i are equal.", "All input values are integers."),
          "n = int(input())\na = list(map(int, input().split()))\nprint(sorted(set(a))[-2])\n",
          ("5\n10 30 20 30 5\n", "2\n1 2\n"), _gen_second,
          "n = int(input())\na = list(map(int, input().split()))\nprint(sorted(set(a))[-2])\nwhile True:\n    pass\n",
          "time_limit", "The highest score is 30 and the second highest is 20.", family="second"),
        P(918, "2024-11-23T00:00:00", "Matching Cards",
          "There are N cards; card i has an integer A_i written on it. Choose two different cards.\nHow many ways are there to choose them so that the sum of the two integers is exactly K?",
          "N K\nA_1 A_2 \\ldots A_N", "Print the answer.",
          ("2 \\leq N \\leq 100", "1 \\leq A_i \\leq 100", "2 \\leq K \\leq 200", "All input values are integers."),
          "n, k = map(int, input().split())\na = list(map(int, input().split()))\nprint(sum(1 for i in range(n) for j in range(i + 1, n) if a[i] + a[j] == k))\n",
          ("4 5\n1 4 2 3\n", "3 4\n2 2 2\n"), _gen_pairs,
          "n, k = map(int, input().split())\na = list(map(int, input().split()))\nprint(sum(1 for i in range(n) for j in range(n) if i != j and a[i] + a[j] == k))\n",
          "wrong_answer", "The pairs (1, 4) and (2, 3) have sum 5.", family="pairs"),
        # ---- abc919..abc941: each teaches nothing new; its skill is taught by the named family in other words
        P(919, "2024-07-02T00:00:00", "Line Up",
          "N children stand in a row. The height of the i-th child is H_i centimeters.\nPrint the N heights sorted in ascending order, with a space between consecutive values.",
          "N\nH_1 H_2 \\ldots H_N", "Print the sorted heights on one line.",
          ("1 \\leq N \\leq 100", "100 \\leq H_i \\leq 200", "All input values are integers."),
          "n = int(input())\nh = list(map(int, input().split()))\nh.sort()\nprint(*h)\n",
          ("5\n152 138 171 138 160\n", "1\n125\n"), _gen_list(30, 100, 200),
          "n = int(input())\nh = list(map(int, input().split()))\nh.sort(reverse=True)\nprint(*h)\n",
          "wrong_answer", "From the shortest to the tallest, the heights are 138, 138, 152, 160 and 171.", family="sort"),
        P(920, "2024-09-18T00:00:00", "Back Side",
          "Aoki wrote a string S of lowercase English letters on a transparent sheet, and Takahashi looks at the sheet from the back.\nFrom the back, the characters of S appear in reverse order. Print the string that Takahashi sees.",
          "S", "Print the answer.",
          ("S is a string of length between 1 and 100, inclusive, consisting of lowercase English letters.",),
          "s = input().strip()\nprint(s[::-1])\n",
          ("atcoder\n", "x\n"), lambda r: _word(r, 1, 60) + "\n",
          "s = input().strip()\nprint(s[::-1] + 1)\n",
          "runtime_error", "Read from the back, atcoder becomes redocta.", family="reverse"),
        P(921, "2024-07-10T00:00:00", "Fruit Basket",
          "There are N fruits in a basket. The kind of the i-th fruit is given as an integer A_i, and fruits with equal integers are of the same kind.\nHow many different kinds of fruit are in the basket?",
          "N\nA_1 A_2 \\ldots A_N", "Print the answer.",
          ("1 \\leq N \\leq 100", "1 \\leq A_i \\leq 10^9", "All input values are integers."),
          "n = int(input())\na = list(map(int, input().split()))\nprint(len(set(a)))\n",
          ("6\n3 1 4 1 5 3\n", "3\n7 7 7\n"), _gen_list(20, 1, 8),
          "n = int(input())\na = list(map(int, input().split()))\nprint len(set(a))\n",
          "compile_error", "The kinds are 1, 3, 4 and 5.", family="distinct"),
        P(922, "2024-09-25T00:00:00", "Hidden Word",
          "You are given two strings S and T consisting of lowercase English letters.\nIf T can be found in S as a sequence of consecutive characters, print Yes; if not, print No.",
          "S\nT", "Print Yes or No.",
          ("S and T are strings of length between 1 and 100, inclusive, consisting of lowercase English letters.",),
          "s = input().strip()\nt = input().strip()\nprint('Yes' if t in s else 'No')\n",
          ("atcoder\ncode\n", "banana\nnab\n"), _gen_substring,
          "s = input().strip()\nt = input().strip()\nprint('Yes' if s.startswith(t) else 'No')\n",
          "wrong_answer", "code appears in atcoder starting at its 3rd character.", family="substring"),
        P(923, "2024-07-16T00:00:00", "Rotating Letters",
          "Snuke encodes a string S of lowercase English letters by shifting each of its letters K positions forward in the alphabet, where the letter after z is a.\nPrint the encoded string.",
          "K\nS", "Print the encoded string.",
          ("0 \\leq K \\leq 25", "K is an integer.", "S is a string of length between 1 and 100, inclusive, consisting of lowercase English letters."),
          "k = int(input())\ns = input().strip()\nprint(''.join(chr((ord(c) - ord('a') + k) % 26 + ord('a')) for c in s))\n",
          ("3\nxyzzy\n", "13\nhello\n"), lambda r: f"{r.randint(0, 25)}\n{_word(r, 1, 30)}\n",
          "k = int(input())\ns = input().strip()\nprint(''.join(chr(ord(c) + k) for c in s))\n",
          "wrong_answer", "x becomes a, y becomes b and z becomes c.", family="caesar"),
        P(924, "2024-07-24T00:00:00", "Taxi Route",
          "In a city, roads run along every line x = c and every line y = c for integers c. A taxi at the intersection (A, B) has to drive to the intersection (C, D) using only these roads.\nPrint the minimum distance the taxi has to drive.",
          "A B C D", "Print the answer.",
          ("-1000 \\leq A, B, C, D \\leq 1000", "All input values are integers."),
          "a, b, c, d = map(int, input().split())\nprint(abs(a - c) + abs(b - d))\n",
          ("0 0 3 4\n", "-2 5 -2 5\n"), lambda r: _ints(r, 4, -1000, 1000) + "\n",
          "a, b = map(int, input().split())\nprint(abs(a - b))\n",
          "runtime_error", "For example, the taxi can drive 3 east and then 4 north: 3 + 4 = 7.", family="manhattan"),
        P(925, "2024-10-02T00:00:00", "Score Comparison",
          "Takahashi scored A points and Aoki scored B points.\nPrint A<B if Takahashi scored fewer points than Aoki, A>B if he scored more, and A=B if they scored the same.",
          "A B", "Print one of A<B, A>B and A=B.",
          ("0 \\leq A, B \\leq 100", "All input values are integers."),
          "a, b = map(int, input().split())\nprint('A<B' if a < b else 'A>B' if a > b else 'A=B')\n",
          ("30 75\n", "100 100\n", "62 8\n"), _gen_compare,
          "a, b = map(int, input().split())\nprint('A<B' if a < b else 'A>B')\n",
          "wrong_answer", "Takahashi scored fewer points than Aoki.", family="compare"),
        P(926, "2024-07-31T00:00:00", "Triangular Fence",
          "Takahashi has three boards of lengths A, B and C, and wants to build a triangular fence whose three sides are these boards.\nThe fence must not be flat: the triangle has to have a positive area.",
          "A B C", "If such a fence can be built, print Yes; otherwise, print No.",
          ("A, B and C are integers between 1 and 50, inclusive.",),
          "a, b, c = sorted(map(int, input().split()))\nprint('Yes' if a + b > c else 'No')\n",
          ("3 4 5\n", "1 2 3\n", "10 3 4\n"), lambda r: _ints(r, 3, 1, 20) + "\n",
          "a, b, c = sorted(map(int, input().split()))\nprint('Yes' if a + b >= c else 'No')\n",
          "wrong_answer", "A triangle with sides 3, 4 and 5 has a positive area.", family="triangle"),
        P(927, "2024-10-09T00:00:00", "Departures",
          "A bus leaves the terminal every K minutes, the first one K minutes after the terminal opens: at minute K, at minute 2K, and so on.\nHow many buses leave within the first N minutes, that is, at a minute between 1 and N, inclusive?",
          "N K", "Print the answer.",
          ("1 \\leq N \\leq 10^9", "1 \\leq K \\leq 1000", "All input values are integers."),
          "n, k = map(int, input().split())\nprint(n // k)\n",
          ("10 3\n", "5 7\n"), lambda r: f"{r.randint(1, 10 ** r.randint(1, 9))} {r.randint(1, 1000)}\n",
          "n, k = map(int, input().split())\nprint(n // k + 1)\n",
          "wrong_answer", "Buses leave at minutes 3, 6 and 9.", family="multiples"),
        P(928, "2024-08-07T00:00:00", "Lamp Panel",
          "A panel of lamps shows numbers in binary: each lamp is either on (1) or off (0).\nYou are given a non-negative integer N. Print N in base 2 without leading zeros. If N = 0, print 0.",
          "N", "Print the answer.",
          ("0 \\leq N \\leq 10^9", "N is an integer."),
          "n = int(input())\nprint(bin(n)[2:])\n",
          ("13\n", "0\n"), lambda r: f"{r.randint(0, 10 ** r.randint(1, 9))}\n",
          "n = int(input())\n  print(bin(n)[2:])\n",
          "compile_error", "13 = 8 + 4 + 1, which is 1101 in binary.", family="binary"),
        P(929, "2024-10-16T00:00:00", "First A",
          "You are given a string S consisting of lowercase English letters.\nPrint the position of the first a in S, counting positions from 1. If the letter a does not appear in S, print -1.",
          "S", "Print the answer.",
          ("S is a string of length between 1 and 100, inclusive, consisting of lowercase English letters.",),
          "s = input().strip()\ni = s.find('a')\nprint(i + 1 if i >= 0 else -1)\n",
          ("banana\n", "xyz\n"), lambda r: _word(r, 1, 20, r.choice(["abcd", "bcdxyz", "xyza"])) + "\n",
          "s = input().strip()\nprint(s.find('a'))\n",
          "wrong_answer", "The 1st character of banana is b and the 2nd is a.", family="find"),
        P(930, "2024-08-14T00:00:00", "Staircase",
          "Takahashi builds a staircase out of blocks. The first step is made of 1 block, the second step of 2 blocks, and in general the i-th step of i blocks.\nHow many blocks does a staircase with N steps use in total?",
          "N", "Print the answer.",
          ("1 \\leq N \\leq 10^9", "N is an integer."),
          "n = int(input())\nprint(n * (n + 1) // 2)\n",
          ("4\n", "1\n"), lambda r: f"{r.choice([r.randint(1, 100), r.randint(10 ** 8, 10 ** 9)])}\n",
          "n = int(input())\ntotal = 0\nfor i in range(1, n + 1):\n    total += i\nprint(total)\n",
          "time_limit", "1 + 2 + 3 + 4 = 10 blocks.", family="series"),
        P(931, "2024-08-21T00:00:00", "Receipt Digits",
          "Takahashi found a receipt with the positive integer N printed on it.\nPrint the sum of the digits of N.",
          "N", "Print the answer.",
          ("1 \\leq N \\leq 10^{18}", "N is an integer."),
          "n = input().strip()\nprint(sum(int(c) for c in n))\n",
          ("2024\n", "999999999999999999\n"), lambda r: f"{r.randint(1, 10 ** r.randint(1, 18))}\n",
          "n = int(input())\nprint(sum(int(c) for c in n))\n",
          "runtime_error", "2 + 0 + 2 + 4 = 8.", family="digits"),
        P(932, "2024-10-23T00:00:00", "Field Area",
          "A rectangular field is A meters wide and B meters long.\nPrint the area of the field in square meters.",
          "A B", "Print the answer.",
          ("1 \\leq A, B \\leq 100", "All input values are integers."),
          "a, b = map(int, input().split())\nprint(a * b)\n",
          ("3 5\n", "100 100\n"), lambda r: f"{r.randint(1, 100)} {r.randint(1, 100)}\n",
          "a, b = map(int, input().split())\nprint(2 * (a + b))\n",
          "wrong_answer", "The area is 3 \\times 5 = 15 square meters.", family="arith"),
        P(933, "2024-08-28T00:00:00", "Word Count",
          "Aoki wrote a sentence S made of lowercase English words. Adjacent words are separated by exactly one space.\nHow many words does the sentence contain?",
          "S", "Print the answer.",
          ("S is a string of length between 1 and 100, inclusive, consisting of lowercase English letters and spaces.",
           "S does not start or end with a space, and no two spaces in S are adjacent."),
          "print(len(input().split()))\n",
          ("this is a pen\n", "hello\n"), _gen_sentence,
          "print(input().count(' '))\n",
          "wrong_answer", "The words are this, is, a and pen.", family="words"),
        P(934, "2024-10-30T00:00:00", "Faulty Key",
          "Snuke typed a string S, but his keyboard has a fault: every time he pressed the d key, the letter b was typed.\nPrint the string Snuke meant to type, that is, S with every b replaced by d.",
          "S", "Print the answer.",
          ("S is a string of length between 1 and 100, inclusive, consisting of lowercase English letters.",),
          "s = input().strip()\nprint(s.replace('b', 'd'))\n",
          ("abba\n", "xyz\n"), lambda r: _word(r, 1, 40, "abcdbxyz") + "\n",
          OLE, "output_limit", "Both b's become d.", family="replace"),
        P(935, "2024-09-03T00:00:00", "Capital Sign",
          "An electronic sign can display only uppercase English letters.\nGiven a string S of lowercase English letters, print what the sign displays: S with every letter converted to uppercase.",
          "S", "Print the answer.",
          ("S is a string of length between 1 and 100, inclusive, consisting of lowercase English letters.",),
          "s = input().strip()\nprint(s.upper())\n",
          ("atcoder\n", "z\n"), lambda r: _word(r, 1, 60) + "\n",
          "s = input().strip()\nprint(''.join(chr(ord(c) - 32) for c in s))\n",
          "accepted", "", family="case"),
        P(936, "2024-11-06T00:00:00", "Dice Total",
          "Takahashi rolled some dice, and the numbers of pips add up to N.\nIf N is an even number, print Even; if N is an odd number, print Odd.",
          "N", "Print the answer.",
          ("1 \\leq N \\leq 600", "N is an integer."),
          "n = int(input())\nprint('Even' if n % 2 == 0 else 'Odd')\n",
          ("7\n", "12\n"), lambda r: f"{r.randint(1, 600)}\n",
          "n = int(input())\nprint('Odd' if n % 2 == 0 else 'Even')\n",
          "wrong_answer", "7 is an odd number.", family="parity"),
        P(937, "2024-09-12T00:00:00", "Shopping Total",
          "Takahashi bought N items at a store. The price of the i-th item is P_i yen.\nHow much does he have to pay in total?",
          "N\nP_1 P_2 \\ldots P_N", "Print the total price in yen.",
          ("1 \\leq N \\leq 100", "1 \\leq P_i \\leq 10000", "All input values are integers."),
          "n = int(input())\np = list(map(int, input().split()))\nprint(sum(p))\n",
          ("3\n100 250 80\n", "1\n5000\n"), _gen_list(50, 1, 10000),
          "n = int(input())\np = int(input())\nprint(p)\n",
          "runtime_error", "100 + 250 + 80 = 430 yen.", family="sum"),
        P(938, "2024-11-09T00:00:00", "Passing Line",
          "N students took an exam, and the i-th student scored A_i points.\nA student passes when the score is at least K points. How many students passed?",
          "N K\nA_1 A_2 \\ldots A_N", "Print how many students passed.",
          ("1 \\leq N \\leq 100", "0 \\leq A_i \\leq 100", "0 \\leq K \\leq 100", "All input values are integers."),
          "n, k = map(int, input().split())\na = list(map(int, input().split()))\nprint(sum(1 for x in a if x >= k))\n",
          ("5 60\n59 60 85 30 100\n", "2 0\n0 0\n"), _gen_threshold,
          "n, k = map(int, input().split())\na = list(map(int, input().split()))\nprint(sum(1 for x in a if x > k))\n",
          "wrong_answer", "The students who scored 60, 85 and 100 points passed.", family="threshold"),
        P(939, "2024-11-13T00:00:00", "Lucky Cards",
          "Takahashi's lucky number is X. He has N cards, and the integer A_i is written on the i-th card.\nHow many of his cards show his lucky number?",
          "N X\nA_1 A_2 \\ldots A_N", "Print how many cards show X.",
          ("1 \\leq N \\leq 100", "1 \\leq X \\leq 100", "1 \\leq A_i \\leq 100", "All input values are integers."),
          "n, x = map(int, input().split())\na = list(map(int, input().split()))\nprint(a.count(x))\n",
          ("6 7\n7 3 7 1 7 2\n", "3 5\n1 2 3\n"), _gen_lucky,
          "n, x = map(int, input().split())\na = list(map(int, input().split()))\nprint(a.count(x)\n",
          "compile_error", "The 1st, 3rd and 5th cards show 7.", family="count"),
        P(940, "2024-11-20T00:00:00", "Two Lighthouses",
          "Two lighthouses stand on the coast. The first flashes every A seconds and the second every B seconds, and both flashed at the same moment just now.\nAfter how many seconds will they flash at the same moment again?",
          "A B", "Print the answer.",
          ("1 \\leq A, B \\leq 1000", "All input values are integers."),
          "import math\na, b = map(int, input().split())\nprint(a * b // math.gcd(a, b))\n",
          ("4 6\n", "5 5\n"), lambda r: f"{r.randint(1, 40) * r.randint(1, 25)} {r.randint(1, 40) * r.randint(1, 25)}\n",
          MLE, "memory_limit", "They flash together after 12, 24, 36, ... seconds; the first of these is 12.", family="gcd"),
        P(941, "2024-11-27T00:00:00", "Kitchen Timer",
          "The clock now shows H hours and M minutes on a 24-hour clock. Takahashi starts a timer that rings K minutes from now.\nPrint the time at which the timer rings, in the form HH:MM, where HH and MM have exactly two digits each.",
          "H M K", "Print the time in the form HH:MM.",
          ("0 \\leq H < 24", "0 \\leq M < 60", "0 \\leq K \\leq 10000", "All input values are integers."),
          "h, m, k = map(int, input().split())\nt = (h * 60 + m + k) % (24 * 60)\nprint(f'{t // 60:02d}:{t % 60:02d}')\n",
          ("23 50 15\n", "9 5 0\n"), lambda r: f"{r.randint(0, 23)} {r.randint(0, 59)} {r.randint(0, 10000)}\n",
          "h, m, k = map(int, input().split())\nt = h * 60 + m + k\nprint(f'{t // 60:02d}:{t % 60:02d}')\n",
          "wrong_answer", "15 minutes after 23:50 it is 00:05 of the next day.", family="time"),
    ]


# ------------------------------------------------------------------------------------------- private input generators
def _gen_mean(r: random.Random) -> str:
    from fractions import Fraction

    while True:
        n = r.randint(1, 40)
        a = [r.randint(0, 100) for _ in range(n)]
        scaled = Fraction(sum(a) * 100, n)
        if scaled.denominator == 1 or (scaled - int(scaled)) != Fraction(1, 2):
            return f"{n}\n{' '.join(map(str, a))}\n"


def _gen_ratio(r: random.Random) -> str:
    from fractions import Fraction

    while True:
        a, b = r.randint(1, 10 ** r.randint(1, 6)), r.randint(1, 10 ** r.randint(1, 6))
        scaled = Fraction(b * 10000, a)
        if scaled - int(scaled) != Fraction(1, 2):
            return f"{a} {b}\n"


def _gen_palindrome(r: random.Random) -> str:
    half = _word(r, 1, 20, "ab")
    if r.random() < 0.6:
        return half + half[::-1][r.randint(0, 1):] + "\n"
    return _word(r, 1, 30, "ab") + "\n"


def _gen_grid(r: random.Random) -> str:
    h, w = r.randint(1, 10), r.randint(1, 10)
    p = r.choice([0.1, 0.3, 0.6])
    return f"{h} {w}\n" + "".join("".join("#" if r.random() < p else "." for _ in range(w)) + "\n" for _ in range(h))


def _gen_gcd(r: random.Random) -> str:
    n = r.randint(1, 20)
    g = r.randint(1, 1000)
    return f"{n}\n" + " ".join(str(g * r.randint(1, 10 ** 6)) for _ in range(n)) + "\n"


def _gen_queries(r: random.Random) -> str:
    n, q = r.randint(1, 50), r.randint(1, 30)
    lines = [f"{n} {q}", _ints(r, n, 0, 10 ** 4)]
    for _ in range(q):
        lo = r.randint(1, n)
        lines.append(f"{lo} {r.randint(lo, n)}")
    return "\n".join(lines) + "\n"


def _gen_second(r: random.Random) -> str:
    n = r.randint(2, 40)
    a = [r.randint(1, 100) for _ in range(n)]
    if len(set(a)) == 1:
        a[-1] = a[0] % 100 + 1
    return f"{n}\n{' '.join(map(str, a))}\n"


def _gen_pairs(r: random.Random) -> str:
    n = r.randint(2, 100)
    return f"{n} {r.randint(2, 40)}\n{_ints(r, n, 1, 20)}\n"


def _gen_substring(r: random.Random) -> str:
    s = _word(r, 1, 20, "ab")
    if r.random() < 0.5:
        i = r.randint(0, len(s) - 1)
        t = s[i:i + r.randint(1, 4)]
    else:
        t = _word(r, 1, 4, "ab")
    return f"{s}\n{t}\n"


def _gen_compare(r: random.Random) -> str:
    a = r.randint(0, 100)
    return f"{a} {r.choice([a, r.randint(0, 100), r.randint(0, 100)])}\n"


def _gen_sentence(r: random.Random) -> str:
    return " ".join(_word(r, 1, 7) for _ in range(r.randint(1, 12))) + "\n"


def _gen_threshold(r: random.Random) -> str:
    n, k = r.randint(1, 30), r.randint(0, 100)
    return f"{n} {k}\n" + " ".join(str(r.choice([k, r.randint(0, 100)])) for _ in range(n)) + "\n"


def _gen_lucky(r: random.Random) -> str:
    n, x = r.randint(1, 40), r.randint(1, 10)
    return f"{n} {x}\n{_ints(r, n, 1, 10)}\n"

BENCH_PROBLEMS: tuple[BenchProblem, ...] = tuple(_ordered_problems())
