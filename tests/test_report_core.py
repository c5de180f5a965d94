"""Best-checkpoint choice, paired comparisons, summary.json, report.md and the terminal table (no Ray, no plots)."""

from __future__ import annotations

import dataclasses
import json
import random
import re

import pytest

from codegen_ray.contamination import ContaminationSummary
from codegen_ray.report import (
    VOLATILE_KEY,
    CheckpointResult,
    EvalStatus,
    SelectionSplit,
    SweepReportInput,
    TrainingCurve,
    analyse,
    apply_split,
    build_summary,
    choose_best,
    choose_best_overall,
    compare,
    format_table,
    load_summary,
    render_report_md,
    split_by_date,
    write_summary_json,
)
from codegen_ray.types import Problem, checkpoint_dir_name

QIDS = [f"q{i:02d}" for i in range(41)]


def result(variant, step, solved_ids, *, epoch=1, val_loss=1.0, checkpoint=None, qids=QIDS, **kw):
    per = {q: (1.0 if q in solved_ids else 0.0) for q in qids}
    s = int(sum(per.values()))
    return CheckpointResult(
        variant=variant,
        checkpoint=checkpoint or checkpoint_dir_name(step, epoch),
        step=step,
        epoch=epoch,
        val_loss=val_loss,
        train_loss=None if val_loss is None else val_loss - 0.1,
        pass_at={1: s / len(qids)},
        solved=s,
        total=len(qids),
        per_problem=per,
        backend="hf",
        isolation="rlimits",
        **kw,
    )


def base(solved_ids):
    return result("base", 0, solved_ids, epoch=0, val_loss=None, checkpoint="base")


def failed(variant, step):
    return CheckpointResult(
        variant, checkpoint_dir_name(step, 1), step, 1, status="failed", failure="HarnessError: actor died"
    )


def make_input(results, **kw):
    defaults = dict(curves=[], config_hash="cfg123", num_samples=1, alpha=0.05, bootstrap_samples=2000,
                    bootstrap_seed=0)
    defaults.update(kw)
    return SweepReportInput(results=results, **defaults)


# ------------------------------------------------------------------------------------------------------ records
def test_result_validation():
    with pytest.raises(ValueError):
        CheckpointResult("v", "c", 1, 1, status="failed")  # no reason
    with pytest.raises(ValueError):
        CheckpointResult("v", "c", 1, 1, pass_at={}, solved=0, total=1)  # no pass@1
    with pytest.raises(ValueError):
        CheckpointResult("v", "c", 1, 1, pass_at={1: 0.5}, solved=3, total=2)
    r = CheckpointResult("v", "c", 1, 1, status="failed", failure="x")
    assert r.status is EvalStatus.FAILED and r.pass1 is None and r.selection_score is None


# ---------------------------------------------------------------------------------------------------- selection
def test_choose_best_highest_pass1_then_earlier_step_then_lower_val_loss():
    rs = [
        result("deep", 10, QIDS[:5]),
        result("deep", 20, QIDS[:9], val_loss=0.9),
        result("deep", 30, QIDS[:9], val_loss=0.5),  # same Pass@1 as step 20, later step -> loses
        result("diverse", 10, QIDS[:7], val_loss=0.8, checkpoint="b-ckpt"),
        result("diverse", 10, QIDS[:7], val_loss=0.7, checkpoint="a-ckpt-lower-val"),  # same step: lower val wins
        result("diverse", 5, QIDS[:6]),
    ]
    best = choose_best(rs)
    assert list(best) == ["deep", "diverse"]
    assert best["deep"].step == 20
    assert best["diverse"].checkpoint == "a-ckpt-lower-val"
    # order of input does not matter
    shuffled = rs[:]
    random.Random(0).shuffle(shuffled)
    assert choose_best(shuffled) == best
    assert choose_best_overall(best).key == "deep/" + checkpoint_dir_name(20, 1)


def test_base_model_is_never_best_and_failed_never_counted():
    rs = [
        base(QIDS[:30]),  # the base model beats everything
        result("deep", 10, QIDS[:3]),
        failed("deep", 20),
        failed("diverse", 10),
    ]
    best = choose_best(rs)
    assert set(best) == {"deep"}
    assert best["deep"].step == 10
    inp = make_input(rs)
    summary = build_summary(inp)
    assert summary["failed"] == ["deep/" + checkpoint_dir_name(20, 1), "diverse/" + checkpoint_dir_name(10, 1)]
    failed_rows = [c for c in summary["checkpoints"] if c["status"] == "failed"]
    assert all(c["pass_at"] == {} and c["solved"] is None and not c["is_best"] for c in failed_rows)
    assert summary["base"]["key"] == "base"
    assert summary["best_by_variant"] == {"deep": "deep/" + checkpoint_dir_name(10, 1)}
    md = render_report_md(inp)
    assert "No best checkpoint (every evaluation failed or none ran): diverse." in md
    failed_lines = [line for line in md.splitlines() if "| FAILED |" in line]
    assert len(failed_lines) == 2 and not any("0.0%" in line for line in failed_lines)


def test_selection_split_chooses_on_selection_and_reports_on_report_problems():
    sel, rep = QIDS[:20], QIDS[20:]
    split = SelectionSplit(frozenset(sel), frozenset(rep), "first 20 select, last 21 report")
    rs = [
        result("deep", 10, sel[:10] + rep[:2]),  # best on selection (10/20), weak on report
        result("deep", 20, sel[:4] + rep[:15]),  # best on all problems, but not on selection
        base(sel[:2] + rep[:2]),
    ]
    assert choose_best(rs)["deep"].step == 20  # without the split
    rs = apply_split(rs, split)
    assert rs[0].selection_pass1 == pytest.approx(0.5) and rs[0].report_pass1 == pytest.approx(2 / 21)
    best = choose_best(rs)
    assert best["deep"].step == 10
    # comparisons use only the report problems
    inp = make_input(rs, split=split)
    an = analyse(inp)
    (c,) = an.comparisons
    assert c.test.n == 21 and c.problem_set == "report"
    assert c.test.mean_a == pytest.approx(2 / 21) and c.test.mean_b == pytest.approx(2 / 21)
    assert c.sentence == (
        "deep's best (9.5%) vs the base model (9.5%): difference not significant at 0.05 "
        "(exact McNemar p=1, 21 report problems)"
    )
    md = render_report_md(inp, an)
    assert "chosen on the 20 selection problems and reported, and compared, on the 21 report problems" in md
    # ... and again on all 41 problems, labelled as such: deep's best solves 12, the base 4, all of them in deep's
    # 12 (sel[:2] and rep[:2]), so 8 discordant pairs all one way: exact McNemar p = 2 * 0.5**8
    (a,) = an.comparisons_all
    assert a.problem_set == "all" and a.test.n == 41 and (a.test.b10, a.test.b01) == (8, 0)
    assert a.test.p_value == pytest.approx(2 * 0.5 ** 8) and a.test.significant
    assert "### The same tests on all problems" in md and "p=0.00781, 41 problems" in md
    assert [c["problem_set"] for c in build_summary(inp, an)["comparisons_all_problems"]] == ["all"]
    assert analyse(make_input(rs, split=None)).comparisons_all == ()


def test_mixed_selection_scores_rejected():
    split = SelectionSplit(frozenset(QIDS[:20]), frozenset(QIDS[20:]), "d")
    a = apply_split([result("deep", 10, QIDS[:5])], split)[0]
    with pytest.raises(ValueError):
        choose_best([a, result("deep", 20, QIDS[:5])])


def test_split_by_date_and_validation():
    def prob(q, date):
        return Problem(q, q, "s", "atcoder", "abc", date, "", "easy", (), ())

    split = split_by_date([prob("a", "2024-08-31T00:00:00"), prob("b", "2024-09-01T00:00:00")], "2024-08-31")
    assert split.selection_ids == {"a"} and split.report_ids == {"b"}
    assert "on or before 2024-08-31" in split.description
    with pytest.raises(ValueError):
        SelectionSplit(frozenset({"a"}), frozenset({"a", "b"}), "overlap")
    with pytest.raises(ValueError):
        split_by_date([prob("a", "2024-08-01T00:00:00")], "2024-08-31")  # empty report side


# --------------------------------------------------------------------------------------------------- comparison
def _deep_diverse():
    # deep solves 15/41, diverse 12/41; 9 both, 6 only deep, 3 only diverse -> p = 2*P(X<=3|9) = 260/512
    deep_ids = QIDS[:15]
    diverse_ids = QIDS[:9] + QIDS[15:18]
    return result("deep", 30, deep_ids), result("diverse", 20, diverse_ids)


def test_compare_sentence_in_words():
    deep, diverse = _deep_diverse()
    (c,) = compare({"deep": deep, "diverse": diverse}, None, num_samples=1, alpha=0.05, bootstrap_samples=10,
                   bootstrap_seed=0)
    assert (c.test.b10, c.test.b01) == (6, 3)
    assert c.test.p_value == pytest.approx(260 / 512)
    assert c.sentence == (
        "deep's best (36.6%) vs diverse's best (29.3%): difference not significant at 0.05 "
        "(exact McNemar p=0.508, 41 problems)"
    )


def test_compare_with_base_says_which_is_better_and_holm():
    deep, diverse = _deep_diverse()
    b = base(QIDS[:1])  # 1/41: deep has 14 only-deep problems, 0 only-base
    cs = compare({"diverse": diverse, "deep": deep}, b, num_samples=1, alpha=0.05, bootstrap_samples=10,
                 bootstrap_seed=0)
    assert [(c.a, c.b) for c in cs] == [
        ("deep's best", "diverse's best"),
        ("deep's best", "the base model"),
        ("diverse's best", "the base model"),
    ]
    assert cs[1].test.p_value == pytest.approx(2 / 2**14)
    assert cs[1].sentence.startswith("deep's best (36.6%) vs the base model (2.4%): deep's best is significantly "
                                     "better at 0.05 (exact McNemar p<0.001, 41 problems)")
    # reversed roles: the better one is named
    weak = dataclasses.replace(b, variant="weak", checkpoint="c1")
    strong_base = dataclasses.replace(deep, variant="base", checkpoint="base")
    (rev,) = compare({"weak": weak}, strong_base, num_samples=1, alpha=0.05, bootstrap_samples=10, bootstrap_seed=0)
    assert "the base model is significantly better at 0.05" in rev.sentence
    assert all(c.p_holm >= c.test.p_value for c in cs)


def test_compare_with_several_samples_uses_paired_bootstrap():
    rng = random.Random(5)
    a_pp = {q: rng.choice([0.6, 0.8, 1.0]) for q in QIDS}
    b_pp = {q: max(0.0, v - 0.4) for q, v in a_pp.items()}

    def mk(variant, pp):
        p1 = sum(pp.values()) / len(pp)
        return CheckpointResult(variant, "c", 10, 1, pass_at={1: p1, 5: 1.0}, solved=sum(v > 0 for v in pp.values()),
                                total=len(pp), per_problem=pp)

    (c,) = compare({"x": mk("x", a_pp), "y": mk("y", b_pp)}, None, num_samples=5, alpha=0.05,
                   bootstrap_samples=1000, bootstrap_seed=3)
    assert c.test.test == "paired bootstrap" and c.test.significant
    assert re.search(r"x's best is significantly better at 0\.05 \(paired bootstrap p=0\.\d+, 95% CI of the "
                     r"difference \[\+\d+\.\d, \+\d+\.\d\] points, 41 problems, 1000 resamples\)", c.sentence)


# ------------------------------------------------------------------------------------------------- summary.json
def _full_input(volatile=None, order_seed=None):
    deep, diverse = _deep_diverse()
    rs = [base(QIDS[:3]), result("deep", 10, QIDS[:4], val_loss=1.2), deep, diverse,
          result("diverse", 10, QIDS[:2], val_loss=float("nan")), failed("diverse", 30)]
    if order_seed is not None:
        random.Random(order_seed).shuffle(rs)
    curves = [TrainingCurve("deep", [1, 2, 3], [2.0, 1.5, 1.2], [2], [1.4]),
              TrainingCurve("diverse", [1, 2], [2.1, 1.9])]
    cont = ContaminationSummary(13, {"deep": 100, "diverse": 80}, {"deep": 2, "diverse": 0},
                                {"deep": 1, "diverse": 0}, 41, False, "contamination.jsonl")
    return make_input(rs, curves=curves, contamination=cont, run_info={"model": "builtin:tiny-qwen2"},
                      volatile=volatile or {})


def test_summary_json_deterministic_apart_from_volatile(tmp_path):
    p1 = write_summary_json(tmp_path / "a" / "summary.json", _full_input({"started_at": "t1", "duration_s": 1.5}))
    p2 = write_summary_json(tmp_path / "b" / "summary.json",
                            _full_input({"started_at": "t2", "duration_s": 9.0}, order_seed=1))
    assert p1.read_text() != p2.read_text()
    assert load_summary(p1) == load_summary(p2)
    assert load_summary(p1, include_volatile=True)[VOLATILE_KEY] == {"started_at": "t1", "duration_s": 1.5}
    assert sorted(x.name for x in p1.parent.iterdir()) == ["summary.json"]  # atomic: no temp file left
    text = p1.read_text()
    data = json.loads(text)
    assert list(data) == sorted(data)  # keys sorted
    assert "NaN" not in text
    assert data["best_by_variant"] == {"deep": "deep/checkpoint-step-30-epoch-1",
                                       "diverse": "diverse/checkpoint-step-20-epoch-1"}
    assert data["best_overall"] == "deep/checkpoint-step-30-epoch-1"
    assert data["contamination"]["rows_flagged"] == {"deep": 2, "diverse": 0}
    deep_best = next(c for c in data["checkpoints"] if c["key"] == "deep/checkpoint-step-30-epoch-1")
    assert deep_best["pass1_wilson"] == pytest.approx([0.235898, 0.518793], abs=1e-4)
    assert deep_best["is_best"] and deep_best["pass_at"] == {"1": pytest.approx(15 / 41)}
    nan_row = next(c for c in data["checkpoints"] if c["key"] == "diverse/checkpoint-step-10-epoch-1")
    assert nan_row["val_loss"] is None
    assert [c["sentence"].split(":")[0] for c in data["comparisons"]] == [
        "deep's best (36.6%) vs diverse's best (29.3%)",
        "deep's best (36.6%) vs the base model (7.3%)",
        "diverse's best (29.3%) vs the base model (7.3%)",
    ]
    assert data["statistics"]["test"] == "exact McNemar"


def test_given_best_must_be_an_ok_checkpoint():
    inp = _full_input()
    bad = make_input(list(inp.results), best_by_variant={"deep": inp.base_result})
    with pytest.raises(ValueError):
        analyse(bad)


# ---------------------------------------------------------------------------------------------------- report.md
def test_report_md_sections():
    md = render_report_md(_full_input(), plots=["pass1_vs_step.png"])
    for heading in ("## All checkpoints", "## Best checkpoint per variant", "## Selection and report problems",
                    "## Statistics", "## Contamination", "## Plots"):
        assert heading in md
    assert "| deep | checkpoint-step-30-epoch-1 | 30 | 1 | 0.9000 | 1.0000 | 36.6% | [23.6, 51.9] | 15/41 |" in md
    assert ("- deep's best (36.6%) vs diverse's best (29.3%): difference not significant at 0.05 "
            "(exact McNemar p=0.508, 41 problems).") in md
    assert "No selection/report split is configured" in md
    assert "- Generation backend: hf\n- Execution isolation: rlimits" in md
    assert "| deep | 100 | 2 | 1 |" in md
    assert "![Pass@1 vs step](pass1_vs_step.png)" in md
    assert "`diverse/checkpoint-step-30-epoch-1`: HarnessError: actor died" in md


# -------------------------------------------------------------------------------------------------- terminal table
def test_format_table_aligned_with_best_marker_and_failures():
    inp = _full_input()
    table = format_table(inp.results, analyse(inp).best_by_variant)
    lines = table.splitlines()
    header, rule = lines[0], lines[1]
    assert header.split() == ["variant", "checkpoint", "step", "epoch", "val", "loss", "Pass@1", "solved/total",
                              "best"]
    assert set(rule) <= {"-", " "}
    rows = lines[2:8]
    assert rows[0].startswith("(base model)")
    end = header.index("Pass@1") + len("Pass@1")
    deep_best = next(r for r in rows if "checkpoint-step-30-epoch-1" in r and r.startswith("deep"))
    assert deep_best[end - len("36.6%"):end] == "36.6%"  # right-aligned under the header
    assert deep_best.rstrip().endswith("*")
    assert sum(r.rstrip().endswith("*") for r in rows) == 2
    failed_row = next(r for r in rows if "step-30" in r and r.startswith("diverse"))
    assert "FAILED" in failed_row and "0.0%" not in failed_row
    assert "FAILED diverse/checkpoint-step-30-epoch-1: HarnessError: actor died" in table
    # numeric columns are right-aligned: every row ends its solved/total cell under the header's end
    solved_end = header.index("solved/total") + len("solved/total")
    assert all(r[solved_end - 1] != " " and r[solved_end] == " " for r in rows if len(r) > solved_end)
    assert all(len(r) >= solved_end for r in rows)


def test_format_table_with_a_split_leads_with_report_pass1():
    """With a selection/report split the headline column is report Pass@1 (labelled), the selection Pass@1 that chose
    the best and the Pass@1 on all problems beside it."""
    sel, rep = QIDS[:20], QIDS[20:]
    split = SelectionSplit(frozenset(sel), frozenset(rep), "d")
    # deep step 10: 10/20 selection, 3/21 report; step 20: 8/20 selection, 15/21 report -> step 10 is chosen.
    results = apply_split([base(sel[:2] + rep[:1]), result("deep", 10, sel[:10] + rep[:3]),
                           result("deep", 20, sel[:8] + rep[:15]), failed("deep", 30)], split)
    best = choose_best(results)
    assert best["deep"].step == 10
    table = format_table(results, best, split)
    lines = table.splitlines()
    header = lines[0]
    assert header.split() == ["variant", "checkpoint", "step", "epoch", "val", "loss", "report", "Pass@1",
                              "selection", "Pass@1", "all", "Pass@1", "solved/total", "best"]
    row = next(line for line in lines if "checkpoint-step-10-" in line)
    cells = row.split()
    assert cells[-5:] == [f"{100 * 3 / 21:.1f}%", "50.0%", f"{100 * 13 / 41:.1f}%", "13/41", "*"]
    end = header.index("report Pass@1") + len("report Pass@1")
    assert row[end - len("14.3%"):end] == "14.3%"  # under its header
    failed_row = next(line for line in lines if "checkpoint-step-30-" in line)
    assert "FAILED" in failed_row and "%" not in failed_row
    assert "report Pass@1: on the 21 report problems, which played no part in choosing the best" in table
    assert "selection Pass@1: on the 20 selection problems" in table and "all 41 problems" in table
    assert results[1].headline_pass1 == pytest.approx(3 / 21) and results[1].pass1 == pytest.approx(13 / 41)
    assert results[3].headline_pass1 is None
    # without a split nothing changes: one Pass@1 column, on all problems
    plain = format_table([base(sel[:2]), result("deep", 10, sel[:10])], {})
    assert "report" not in plain and plain.splitlines()[0].split()[6] == "Pass@1"
    assert result("deep", 10, sel[:10]).headline_pass1 == pytest.approx(10 / 41)
