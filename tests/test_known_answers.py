"""Known answers through the REAL sweep: training (Ray Train) still produces the checkpoints, the replay backend
serves designed completions through the shared generation pool, and everything after generation is the real thing:
code extraction, the sandboxed execution pool, grading, best-checkpoint selection on the selection/report split,
statistics, summary.json, the terminal table, the lcb_runner-shaped files and MLflow.

The replay files are written from ``--dry-run --json`` before the run (the feature's intended use), for every
checkpoint of a shortened default config and for the base model. Expectations are derived from the benchmark's
reference solutions (``tests/data/reference_solutions.jsonl``), the plan's selection/report split and the designs
below, never from a hard-coded number of problems; McNemar p-values, Wilson intervals and pass@k are computed here
by hand (exact binomial, closed form, the unbiased estimator), independently of ``codegen_ray.stats``.

Scenarios: (1) the reference solutions, fenced, for every model: 100% everywhere; (2) a designed matrix of which model
solves which problem, the unsolved cells replayed as the right program in raw text without a code fence (a compile
error, never a pass); (3) n = 6 samples per problem with a designed number of them correct: pass@1 and pass@5.

One training run (two variants) is shared by the three scenarios: each replay file has its own content hash, so its
own evaluation key, while the training key is the same and the trained checkpoints are reused.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import pytest

from codegen_ray.config import load_config

pytestmark = [pytest.mark.ray, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "tests" / "data" / "reference_solutions.jsonl"
SHORT = [  # the embedded default, shortened: 2 checkpoints per variant from a few seconds of training
    "data.variants[0].max_samples=16",
    "data.variants[1].max_samples=16",
    "training.epochs=1",
    "training.save_steps=1",
    "training.max_seq_len=384",
    "execution.timeout_s=2",
]
WRONG = 'print("codegen-ray: not an answer")'  # a wrong answer on every problem
ALPHA = 0.05


# ------------------------------------------------------------------------------------------- hand-computed statistics
def mcnemar_p(b01: int, b10: int) -> float:
    """Exact McNemar: two-sided binomial test on the discordant pairs, X ~ Binomial(b01 + b10, 1/2)."""
    m = b01 + b10
    if m == 0:
        return 1.0
    return min(1.0, 2 * sum(math.comb(m, i) for i in range(min(b01, b10) + 1)) / 2**m)


def holm(ps: list[float]) -> list[float]:
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    out, running = [0.0] * len(ps), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(ps) - rank) * ps[i]))
        out[i] = running
    return out


def wilson(successes: float, n: int) -> tuple[float, float]:
    """Wilson score interval, closed form."""
    z = NormalDist().inv_cdf(1 - ALPHA / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased estimator 1 - C(n-c, k) / C(n, k) (math.comb is 0 when n - c < k)."""
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


# ---------------------------------------------------------------------------------------------------------- the world
@dataclass
class World:
    tmp: Path
    cache_dir: Path
    plan: dict
    reference: dict[str, str]  # question_id -> reference program

    @property
    def qids(self) -> list[str]:
        return self.plan["benchmark"]["question_ids"]

    @property
    def selection(self) -> list[str]:
        return self.plan["benchmark"]["split"]["selection_ids"]

    @property
    def report(self) -> list[str]:
        return self.plan["benchmark"]["split"]["report_ids"]

    def checkpoints(self, variant: str) -> list[dict]:
        (v,) = [v for v in self.plan["variants"] if v["name"] == variant]
        return sorted(v["checkpoints"], key=lambda c: c["step"])

    def evaluated(self) -> list[tuple[str, dict]]:
        """(variant, checkpoint) for the base model and every planned checkpoint, as replay rows name them."""
        return [("base", self.plan["base"])] + [(v["name"], c) for v in self.plan["variants"]
                                                for c in sorted(v["checkpoints"], key=lambda c: c["step"])]

    def overrides(self, *extra: str) -> list[str]:
        return SHORT + [f"output.root={self.tmp / 'results'}", f"model.cache_dir={self.cache_dir}",
                        f"tracking.tracking_uri=sqlite:///{self.tmp / 'mlflow.db'}", *extra]

    def run(self, name: str, rows: list[dict], *extra: str):
        from codegen_ray.sweep import run_sweep

        path = self.tmp / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        cfg = load_config(None, self.overrides("generation.backend=replay", f"generation.replay_path={path}", *extra))
        return run_sweep(cfg, progress=False)


def fenced(code: str) -> str:
    return f"Here is my solution.\n```python\n{code}```\n"


def row(variant: str, ckpt: dict, qid: str, completions: list[str]) -> dict:
    return {"variant": variant, "step": ckpt["step"], "question_id": qid, "completions": completions}


@pytest.fixture(scope="module")
def world(ray_session, tmp_path_factory, cache_dir) -> World:
    from codegen_ray import cli

    tmp = tmp_path_factory.mktemp("known_answers")
    w = World(tmp, cache_dir, {}, {})
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["sweep", "--dry-run", "--json", *w.overrides()]) == 0
    w.plan = json.loads(out.getvalue())
    for line in REFERENCE.read_text().splitlines():
        if line.strip():
            rec = json.loads(line)
            w.reference[rec["question_id"]] = rec["code_list"][0]
    missing = sorted(set(w.qids) - set(w.reference))
    assert not missing, f"benchmark problems without a reference solution: {missing}"
    assert w.plan["benchmark"]["split"] is not None, "the default config has a selection/report split"
    assert len(w.selection) >= 3 and len(w.report) >= 5, "the designs below need 3 selection, 5 report problems"
    assert all(len(w.checkpoints(v["name"])) >= 2 for v in w.plan["variants"]), "the designs need 2 checkpoints"
    return w


def _by_key(result) -> dict:
    return {r.key: r for r in result.results}


def _key(variant: str, ckpt: dict) -> str:
    return "base" if variant == "base" else f"{variant}/{ckpt['name']}"


def _stem(key: str) -> str:
    return key.replace("/", "__")


def _lcb_dir(world: World, result, kind: str) -> Path:
    return world.tmp / "results" / "livecodebench" / kind / result.run_key


def _mlflow(world: World, result):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{world.tmp / 'mlflow.db'}")
    parent = client.get_run(result.mlflow_parent_run_id)
    children = client.search_runs([parent.info.experiment_id],
                                  filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    evals = {r.data.tags["codegen_ray.trial"].removeprefix("eval/"): r for r in children
             if r.data.tags.get("stage") == "evaluation"}
    return parent, evals


# ------------------------------------------------------------------------------------ 1. the reference solutions
@pytest.fixture(scope="module")
def reference_run(world):
    rows = [row(v, c, q, [fenced(world.reference[q])]) for v, c in world.evaluated() for q in world.qids]
    return world.run("reference", rows)


def test_plan_from_dry_run_json_is_what_the_sweep_evaluated(world, reference_run):
    got = sorted((r.variant, r.checkpoint, r.step, r.epoch) for r in reference_run.results if not r.is_base)
    want = sorted((v["name"], c["name"], c["step"], c["epoch"]) for v in world.plan["variants"]
                  for c in v["checkpoints"])
    assert got == want
    assert len(reference_run.results) == world.plan["evaluation_trials"]
    assert reference_run.counters["trainings_run"] == 2  # the first scenario trains; the others reuse it


def test_reference_solutions_score_100_percent_everywhere(world, reference_run):
    res = reference_run
    assert res.ok and len(res.results) == world.plan["evaluation_trials"]
    n = len(world.qids)
    for r in res.results:
        assert r.backend == "replay" and r.isolation
        assert (r.pass_at[1], r.solved, r.total) == (1.0, n, n), r.key
        assert r.selection_pass1 == 1.0 and r.report_pass1 == 1.0
        assert set(r.per_problem.values()) == {1.0}
    summary = json.loads((res.output_dir / "summary.json").read_text())
    for e in [summary["base"], *summary["checkpoints"]]:
        assert e["pass@1"] == 1.0 and e["solved"] == e["total"] == n and e["status"] == "ok"
    assert all(c["p_value"] == 1.0 and c["b01"] == c["b10"] == 0 for c in summary["comparisons"])
    # Every program was extracted from its fence and run in the sandbox on every test: lcb_runner's file says so.
    for r in res.results:
        records = json.loads((_lcb_dir(world, res, "evaluations") / f"{_stem(r.key)}_eval_all.json").read_text())
        assert sorted(x["question_id"] for x in records) == sorted(world.qids)
        for x in records:
            assert x["graded_list"] == [True] and x["pass@1"] == 1.0
            assert x["code_list"] == [world.reference[x["question_id"]].rstrip("\n")]
        detailed = json.loads((_lcb_dir(world, res, "detailed") / f"{_stem(r.key)}.json").read_text())
        assert detailed["status"] == "ok" and len(detailed["programs"]) == n
        assert all(p["outcome"] == "accepted" and all(t["outcome"] == "accepted" for t in p["tests"])
                   for p in detailed["programs"])
    assert all("100.0%" in line for line in res.table.splitlines()[2:2 + len(res.results)])
    parent, evals = _mlflow(world, res)
    assert set(evals) == {r.key for r in res.results}
    assert all(run.data.metrics["pass_at_1"] == 1.0 and run.info.status == "FINISHED" for run in evals.values())
    assert {k: v for k, v in parent.data.metrics.items() if k.startswith("best_pass1.")} == {
        f"best_pass1.{v['name']}": 1.0 for v in world.plan["variants"]}


# ------------------------------------------------------- 2. a designed matrix (unsolved: raw text without a fence)
def matrix_design(world: World) -> dict[str, set[str]]:
    """Which problems each evaluated model solves (by key), designed so that choosing on the selection problems
    differs from choosing on all problems (deep) and a selection tie is broken by the earlier step (diverse)."""
    S, R = world.selection, world.report
    deep, diverse = (world.checkpoints(v) for v in ("deep", "diverse"))
    design = {"base": set(S[:1] + R[:1])}
    design.update({_key("deep", c): set() for c in deep[2:]})  # any further checkpoints solve nothing
    design.update({_key("diverse", c): set() for c in diverse[2:]})
    design[_key("deep", deep[0])] = set(S[:1] + R)  # best on all problems and on the report problems ...
    design[_key("deep", deep[1])] = set(S[:3] + R[:1])  # ... but this one is best on the selection problems
    design[_key("diverse", diverse[0])] = set(S[:2] + R[1:])  # tie on the selection problems: earlier step wins
    design[_key("diverse", diverse[1])] = set(S[:2] + R)
    return design


def unfenced(i: int, code: str) -> str:
    """The program as bare text, or after prose and an opening fence that is never closed: either way fewer than two
    fence lines, so nothing is extracted (as lcb_runner) and it may never pass, although the program is right."""
    return code if i % 2 else f"Sure, here you go:\n```python\n{code}"


@pytest.fixture(scope="module")
def matrix_run(world):
    design = matrix_design(world)
    rows = [row(v, c, q, [fenced(world.reference[q]) if q in design[_key(v, c)] else unfenced(i, world.reference[q])])
            for v, c in world.evaluated() for i, q in enumerate(world.qids)]
    return world.run("matrix", rows)


def test_raw_text_without_a_fence_is_a_compile_error_never_a_pass(world, matrix_run):
    design = matrix_design(world)
    unsolved_cells = 0
    for r in matrix_run.results:
        records = json.loads((_lcb_dir(world, matrix_run, "evaluations") / f"{_stem(r.key)}_eval_all.json").read_text())
        outcomes = {p["question_id"]: p["outcome"] for p in json.loads(
            (_lcb_dir(world, matrix_run, "detailed") / f"{_stem(r.key)}.json").read_text())["programs"]}
        for x in records:
            q = x["question_id"]
            if q in design[r.key]:
                assert x["graded_list"] == [True] and outcomes[q] == "accepted", (r.key, q)
                continue
            unsolved_cells += 1
            meta = json.loads(x["metadata"][0])
            assert x["graded_list"] == [False] and x["code_list"] == [""], (r.key, q)
            assert meta["outcome"] == "compile_error" and meta["error_code"] == -4 and outcomes[q] == "compile_error"
    assert unsolved_cells >= len(world.qids)  # plenty of them, every model has some


def test_matrix_grades_exactly_as_designed(world, matrix_run):
    design = matrix_design(world)
    by_key = _by_key(matrix_run)
    assert set(by_key) == set(design)
    for key, solved in design.items():
        r = by_key[key]
        assert r.per_problem == {q: float(q in solved) for q in world.qids}, key
        assert r.solved == len(solved) and r.pass_at[1] == pytest.approx(len(solved) / len(world.qids))


def test_matrix_best_checkpoint_is_chosen_on_the_selection_problems(world, matrix_run):
    deep, diverse = world.checkpoints("deep"), world.checkpoints("diverse")
    want = {"deep": _key("deep", deep[1]), "diverse": _key("diverse", diverse[0])}
    assert {v: r.key for v, r in matrix_run.best.items()} == want
    summary = json.loads((matrix_run.output_dir / "summary.json").read_text())
    assert summary["best_by_variant"] == want and summary["best_overall"] == want["deep"]
    # ... although deep's other checkpoint is better on all problems and on the report problems
    by_key = _by_key(matrix_run)
    assert by_key[_key("deep", deep[0])].pass1 > by_key[want["deep"]].pass1
    assert by_key[_key("deep", deep[0])].report_pass1 > by_key[want["deep"]].report_pass1
    starred = {line.split()[1] for line in matrix_run.table.splitlines() if line.rstrip().endswith("*")}
    assert starred == {deep[1]["name"], diverse[0]["name"]}


def test_matrix_mcnemar_and_wilson_equal_hand_computed_values(world, matrix_run):
    design = matrix_design(world)
    S, R, N = world.selection, world.report, world.qids
    summary = json.loads((matrix_run.output_dir / "summary.json").read_text())
    best = summary["best_by_variant"]
    # Comparisons: the best checkpoints pairwise, then each against the base model, on the report problems only.
    pairs = [(best["deep"], best["diverse"]), (best["deep"], "base"), (best["diverse"], "base")]
    comps = summary["comparisons"]
    assert [(c["a_key"], c["b_key"]) for c in comps] == pairs
    ps = []
    for (a, b), c in zip(pairs, comps):
        b10 = len([q for q in R if q in design[a] and q not in design[b]])
        b01 = len([q for q in R if q in design[b] and q not in design[a]])
        assert (c["b01"], c["b10"], c["problems"], c["problem_set"]) == (b01, b10, len(R), "report")
        assert c["p_value"] == pytest.approx(mcnemar_p(b01, b10), rel=1e-9, abs=1e-12)
        assert c["significant"] == (mcnemar_p(b01, b10) < ALPHA)
        ps.append(mcnemar_p(b01, b10))
    for c, p in zip(comps, holm(ps)):
        assert c["p_holm"] == pytest.approx(p, rel=1e-9, abs=1e-12)
    assert 0 < ps[0] < 1  # the design makes deep's and diverse's best disagree both ways
    # Wilson intervals of every model: all problems, selection problems, report problems.
    for e in [summary["base"], *summary["checkpoints"]]:
        solved = design[e["key"]]
        for field, ids in (("pass1_wilson", N), ("selection_pass1_wilson", S), ("report_pass1_wilson", R)):
            low, high = wilson(len(solved & set(ids)), len(ids))
            assert e[field] == [pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9)], (e["key"], field)


def test_matrix_headline_is_the_report_pass1_in_table_and_mlflow(world, matrix_run):
    design = matrix_design(world)
    R, N = world.report, world.qids
    best = {v: r.key for v, r in matrix_run.best.items()}
    parent, evals = _mlflow(world, matrix_run)
    for variant, key in best.items():
        assert parent.data.metrics[f"best_pass1.{variant}"] == pytest.approx(len(design[key] & set(R)) / len(R))
        assert parent.data.metrics[f"best_pass1_all.{variant}"] == pytest.approx(len(design[key]) / len(N))
    assert parent.data.metrics["best_pass1"] == pytest.approx(len(design[best["deep"]] & set(R)) / len(R))
    assert parent.data.tags["pass1_problems"].startswith(f"the {len(R)} report problems")
    for key, run in evals.items():
        assert run.data.metrics["pass_at_1"] == pytest.approx(len(design[key] & set(R)) / len(R)), key
        assert run.data.metrics["pass_at_1_all"] == pytest.approx(len(design[key]) / len(N)), key
        assert run.data.tags["is_best"] == str(key in best.values()).lower()
    header = matrix_run.table.splitlines()[0]
    assert header.split()[6:8] == ["report", "Pass@1"]  # after "val loss"
    row_text = next(line for line in matrix_run.table.splitlines() if line.rstrip().endswith("*")
                    and line.startswith("deep"))
    r = _by_key(matrix_run)[best["deep"]]
    assert row_text.split()[5:8] == [f"{100 * r.report_pass1:.1f}%", f"{100 * r.selection_pass1:.1f}%",
                                     f"{100 * r.pass1:.1f}%"]


# --------------------------------------------------------------------------------------- 3. pass@k with n > 1
N_SAMPLES = 6


def correct_count(e: int, j: int) -> int:
    """Correct samples (0..6) of evaluated model e on problem j."""
    return (e + 2 * j) % (N_SAMPLES + 1)


@pytest.fixture(scope="module")
def passk_run(world):
    # Four problems (two on each side of the split) keep this cheap; every count 0..n occurs.
    qids = world.selection[:2] + world.report[:2]
    rows = []
    for e, (v, c) in enumerate(world.evaluated()):
        for j, q in enumerate(qids):
            correct = correct_count(e, j)
            texts = []
            for i in range(N_SAMPLES):  # correct samples spread over the positions; the others wrong or unfenced
                if (5 * i + e + j) % N_SAMPLES < correct:
                    texts.append(fenced(world.reference[q]))
                else:
                    texts.append(fenced(WRONG) if i % 2 else WRONG)
            rows.append(row(v, c, q, texts))
    return qids, world.run("passk", rows, f"generation.n={N_SAMPLES}", f"benchmark.question_ids=[{', '.join(qids)}]")


def test_pass_at_k_with_several_samples_equals_the_unbiased_estimator(world, passk_run):
    qids, res = passk_run
    assert res.ok
    by_key = _by_key(res)
    summary = json.loads((res.output_dir / "summary.json").read_text())
    entries = {e["key"]: e for e in [summary["base"], *summary["checkpoints"]]}
    parent, evals = _mlflow(world, res)
    report_ids = [q for q in qids if q in world.report]
    for e, (v, c) in enumerate(world.evaluated()):
        key = _key(v, c)
        counts = {q: correct_count(e, j) for j, q in enumerate(qids)}
        want1 = sum(pass_at_k(N_SAMPLES, k, 1) for k in counts.values()) / len(qids)
        want5 = sum(pass_at_k(N_SAMPLES, k, 5) for k in counts.values()) / len(qids)
        r = by_key[key]
        assert r.pass_at[1] == pytest.approx(want1) and r.pass_at[5] == pytest.approx(want5), key
        assert set(r.pass_at) == {1, 5}
        assert r.per_problem == pytest.approx({q: k / N_SAMPLES for q, k in counts.items()})
        assert r.solved == sum(1 for k in counts.values() if k > 0)
        assert entries[key]["pass_at"] == {"1": pytest.approx(want1), "5": pytest.approx(want5)}
        want_report = sum(counts[q] for q in report_ids) / (N_SAMPLES * len(report_ids))
        assert evals[key].data.metrics["pass_at_1"] == pytest.approx(want_report)
        assert evals[key].data.metrics["pass_at_5_all"] == pytest.approx(want5)
        assert evals[key].data.metrics["pass_at_1_all"] == pytest.approx(want1)
        # every sample graded: exactly the designed number accepted per problem, in the sandbox
        detailed = json.loads((_lcb_dir(world, res, "detailed") / f"{_stem(key)}.json").read_text())
        accepted = {q: 0 for q in qids}
        for p in detailed["programs"]:
            accepted[p["question_id"]] += p["outcome"] == "accepted"
        assert accepted == counts
    assert summary["statistics"]["num_samples"] == N_SAMPLES
    assert summary["statistics"]["test"] == "paired bootstrap"
