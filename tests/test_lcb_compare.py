"""Every stdin comparison rule of lcb_runner's grade_stdio, plus the opt-in tolerance."""

import pytest

from codegen_ray.lcb.grading import compare_stdout, compare_stdout_detail


@pytest.mark.parametrize("actual,expected,ok", [
    ("3\n", "3\n", True),
    ("3   \n", "3", True),                      # trailing spaces
    ("3\n\n\n", "3\n", True),                   # blank trailing lines
    ("\n\n3", "3", True),                       # leading blank lines (whole output stripped)
    ("1 2\r\n3\r\n", "1 2\n3\n", True),         # CRLF: each line stripped
    ("0.50", "0.5", True),                      # Decimal equality
    ("1e2", "100", True),
    ("100", "1E+2", True),
    ("-0", "0", True),
    ("0.333333", "0.3333333333", False),        # no tolerance by default
    ("Yes", "yes", False),                      # case sensitive
    ("YES", "Yes", False),
    ("1  2", "1 2", True),                      # inner double space on a numeric line: tokens compared
    ("a  b", "a b", False),                     # ... but not on a non-numeric line
    ("1 2 3", "1 2", False),
    ("1\n2", "1\n2\n3", False),                 # line-count mismatch
    ("1\n\n2", "1\n2", False),                  # inner blank line is a line
    ("", "", True),
    ("", "0", False),
    ("1.0 x", "1 x", False),                    # one non-numeric token → string comparison only
    ("nan", "nan", True),                       # equal strings
    ("NaN", "nan", False),                      # Decimal NaN never equals
    ("1_000", "1000", True),                    # Decimal accepts underscores, as upstream
])
def test_rules(actual, expected, ok):
    assert compare_stdout(actual, expected) is ok


def test_tolerance_is_opt_in():
    assert not compare_stdout("0.333333", "0.3333333333")
    assert compare_stdout("0.333333", "0.3333333333", float_tolerance=1e-6)
    assert not compare_stdout("0.3333", "0.3333333333", float_tolerance=1e-6)
    # relative for large values: |a-b| <= tol * max(1, |expected|)
    assert compare_stdout("1000000.5", "1000000.0", float_tolerance=1e-6)
    assert not compare_stdout("1000002", "1000000", float_tolerance=1e-6)
    # never makes non-numeric lines match
    assert not compare_stdout("abc", "abd", float_tolerance=1.0)


def test_detail_names_the_line():
    ok, detail = compare_stdout_detail("1\n5\n3", "1\n2\n3")
    assert not ok and "line 2" in detail and "'5'" in detail
    ok, detail = compare_stdout_detail("1", "1\n2")
    assert not ok and "1 line(s), expected 2" in detail
