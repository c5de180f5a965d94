"""The sweep's stages as Ray Tune experiments: training (one trial per variant) and evaluation (one trial per
checkpoint), plus the stage functions usable on their own (:func:`evaluate_checkpoint`).

Each trial is a small Tune *function trainable*; heavy state (the config, the problems, the shared generation and
execution pools) reaches it through ``tune.with_parameters``. Trials write their outputs to disk (atomically) and
report a few metrics; the driver reads the ``ResultGrid`` back.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .config import SweepConfig
from .errors import HarnessError
from .fileio import atomic_write_text
from .types import CheckpointRef, Completion, Outcome, Problem, ProgramVerdict, SamplingSettings

# --------------------------------------------------------------------------------------------------- progress bars


def _progress_callback(total: int, desc: str, enabled: bool, metric_fmt=None):
    """A Tune callback driving one tqdm bar in the driver: trials finished / total, latest metrics as postfix."""
    from ray.tune import Callback

    class _Progress(Callback):
        def __init__(self) -> None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="trial", disable=not enabled, leave=True, dynamic_ncols=True)

        def on_trial_result(self, iteration, trials, trial, result, **info):
            if metric_fmt is not None:
                text = metric_fmt(result)
                if text:
                    self.bar.set_postfix_str(text, refresh=True)

        def on_trial_complete(self, iteration, trials, trial, **info):
            self.bar.update(1)

        def on_trial_error(self, iteration, trials, trial, **info):
            self.bar.update(1)

        def on_experiment_end(self, trials, **info):
            self.bar.close()

    return _Progress()


def _tune_run_config(name: str, storage: str, callbacks: list, verbose: bool):
    from ray import tune

    return tune.RunConfig(
        name=name,
        storage_path=storage,
        verbose=2 if verbose else 0,
        callbacks=callbacks,
        failure_config=tune.FailureConfig(max_failures=0),
    )


def _max_concurrent(per_trial_cpu: float, per_trial_gpu: float, wanted: int) -> int:
    """How many trials fit the cluster at once (never 0), so nothing deadlocks on 2 CPUs or on 8 GPUs."""
    import ray

    res = ray.cluster_resources()
    fits = [wanted]
    if per_trial_cpu > 0:
        fits.append(int(res.get("CPU", 1) // per_trial_cpu))
    if per_trial_gpu > 0:
        fits.append(int(res.get("GPU", 0) // per_trial_gpu))
    return max(1, min(fits))


# ---------------------------------------------------------------------------------------------------- training
@dataclass(frozen=True)
class TrainingContext:
    cfg: SweepConfig
    model_path: str
    excluded: dict[str, frozenset[str]]
    tracking_uri: Optional[str]


def _train_trial(config: dict[str, Any], ctx: TrainingContext) -> None:
    from ray import tune

    from .train.trainer import train_variant

    variant = next(v for v in ctx.cfg.data.variants if v.name == config["trial"]["variant"])
    result = train_variant(
        ctx.cfg,
        variant,
        Path(config["trial"]["output_dir"]),
        model_path=ctx.model_path,
        exclude_sources=ctx.excluded.get(variant.name, frozenset()),
        mlflow_run_id=config["trial"]["mlflow_run_id"],
        tracking_uri=ctx.tracking_uri,
    )
    last = result.checkpoints[-1] if result.checkpoints else None
    tune.report({
        "variant": variant.name,
        "num_checkpoints": len(result.checkpoints),
        "final_train_loss": last.train_loss if last else float("nan"),
        "final_val_loss": last.val_loss if last else float("nan"),
        "reused": int(bool(getattr(result, "reused", False))),
        "done": 1,
    })


def _training_postfix(result: dict[str, Any]) -> str:
    variant = result.get("config", {}).get("trial", {}).get("variant", "")
    if "num_checkpoints" in result:
        return f"{variant}: done, {result['num_checkpoints']} checkpoints"
    if "step" in result:
        val = result.get("val_loss")
        return f"{variant}: step {result['step']} epoch {result.get('epoch')}" + (
            f" val_loss {val:.3f}" if isinstance(val, float) else "")
    return variant


def run_training_stage(plan, paths, tracker, progress: bool = True, verbose: bool = False) -> dict[str, Any]:
    """One Tune trial per variant; returns ``{variant: TrainingResult}`` read back from each output directory."""
    from ray import tune

    from .train.trainer import read_training_result

    cfg: SweepConfig = plan.cfg
    trials = []
    for v in cfg.data.variants:
        run_id = None
        if tracker is not None:
            hp = dataclasses.asdict(cfg.training_for(v))
            run_id = tracker.child(f"train/{v.name}", f"train-{v.name}",
                                   {"variant": v.name, "stage": "training"},
                                   params={**{f"training.{k}": val for k, val in hp.items()},
                                           **{f"lora.{k}": val for k, val in dataclasses.asdict(cfg.lora).items()},
                                           "data.path": v.path, "data.format": v.format})
        trials.append({"variant": v.name, "output_dir": str(paths.training_dir(v.name)), "mlflow_run_id": run_id})
    ctx = TrainingContext(cfg, plan.model_path, plan.excluded_sources, tracker.tracking_uri if tracker else None)
    t = cfg.training
    per_trial_cpu = t.num_workers * t.cpus_per_worker
    per_trial_gpu = t.num_workers * t.gpus_per_worker if t.use_gpu else 0.0
    concurrent = cfg.ray.max_concurrent_trials or _max_concurrent(per_trial_cpu, per_trial_gpu, len(trials))
    bar = _progress_callback(len(trials), "training", progress, _training_postfix)
    tuner = tune.Tuner(
        tune.with_resources(tune.with_parameters(_train_trial, ctx=ctx), {"CPU": 0.01}),
        param_space={"trial": tune.grid_search(trials)},
        tune_config=tune.TuneConfig(max_concurrent_trials=concurrent),
        run_config=_tune_run_config(f"train-{paths.train_key}", paths.ray_storage, [bar], verbose),
    )
    grid = tuner.fit()
    errors = [r.error for r in grid if r.error is not None]
    if errors:
        raise HarnessError(f"training failed for {len(errors)} variant(s): {errors[0]}")
    reused = {r.metrics["variant"]: bool(r.metrics.get("reused")) for r in grid if r.metrics and "variant" in r.metrics}
    out = {}
    for trial in trials:
        try:
            out[trial["variant"]] = read_training_result(Path(trial["output_dir"]))
            out[trial["variant"]].reused = reused.get(trial["variant"], False)
        except FileNotFoundError:
            raise HarnessError(f"training of {trial['variant']} ended without a result "
                               f"(trial stopped early?); rerun to resume from its last checkpoint") from None
    if tracker is not None:
        for name, res in out.items():
            tracker.finish(tracker.child(f"train/{name}", f"train-{name}", {"variant": name}))
    return out


# -------------------------------------------------------------------------------------------------- evaluation
@dataclass
class CheckpointEvaluation:
    """One checkpoint scored on the benchmark: what the evaluation trial writes and the driver reads back."""

    variant: str
    checkpoint: str
    step: int
    epoch: int
    train_loss: Optional[float]
    val_loss: Optional[float]
    n: int
    pass_at: dict[int, float]
    solved: int
    total: int
    per_problem: dict[str, float]  # question_id -> per-problem pass@1 estimate (c / n)
    outcomes: dict[str, list[str]]  # question_id -> Outcome value per sample
    status: str  # "ok" | "failed"
    failure: Optional[str]
    backend: str
    isolation: str
    generated: int  # samples generated by this run (the rest came from the cache)
    reused_generations: int
    reused: bool = False  # the whole evaluation came from disk

    def to_json(self) -> str:
        d = dataclasses.asdict(self)
        d["pass_at"] = {str(k): v for k, v in self.pass_at.items()}
        return json.dumps(d, sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "CheckpointEvaluation":
        d = json.loads(text)
        d["pass_at"] = {int(k): v for k, v in d["pass_at"].items()}
        return cls(**d)


@dataclass(frozen=True)
class EvaluationContext:
    cfg: SweepConfig
    problems: tuple[Problem, ...]
    paths: Any  # SweepPaths
    gen_pool: Any  # generation.pool.GenerationPool
    exec_pool: Any  # execution.pool.ExecutionPool
    sampling: SamplingSettings


def _ckpt_file_stem(ckpt: CheckpointRef) -> str:
    return ckpt.key.replace("/", "__")


def evaluate_checkpoint(ctx: EvaluationContext, ckpt: CheckpointRef) -> CheckpointEvaluation:
    """Generate → extract → execute → grade → pass@k for one checkpoint; reuses a finished evaluation on disk.

    Infrastructure failures (generation crashed, harness errors that persisted after retries) mark the
    evaluation ``failed`` — never a Pass@1 of zero — and leave no ``_eval_all.json`` (lcb_runner's score scripts would
    read one as a score).
    """
    from .execution.pool import GradeJob
    from .generation.cache import generate_cached
    from .lcb.compat import write_eval_all
    from .lcb.extraction import extract_code
    from .lcb.metrics import pass_at_k
    from .lcb.prompts import build_prompt, resolve_prompt_style

    cfg, paths = ctx.cfg, ctx.paths
    eval_file = paths.evaluations_dir / f"{_ckpt_file_stem(ckpt)}.json"
    eval_all = paths.evaluations_dir / f"{_ckpt_file_stem(ckpt)}_eval_all.json"
    if eval_file.is_file():
        ev = CheckpointEvaluation.from_json(eval_file.read_text(encoding="utf-8"))
        if ev.status == "ok":
            return dataclasses.replace(ev, reused=True, generated=0, reused_generations=ev.n * ev.total)
    style = resolve_prompt_style(cfg.benchmark.prompt_style, cfg.model.name_or_path)
    prompts = [build_prompt(p, style) for p in ctx.problems]
    base = dict(variant=ckpt.variant, checkpoint=ckpt.name, step=ckpt.step, epoch=ckpt.epoch,
                train_loss=ckpt.train_loss, val_loss=ckpt.val_loss, n=ctx.sampling.n,
                total=len(ctx.problems), backend=ctx.gen_pool.backend_name)
    try:
        gen = generate_cached(ctx.gen_pool, paths.generations_dir, ckpt, prompts, ctx.sampling)
    except Exception as err:  # noqa: BLE001 - an infrastructure failure, recorded, never a zero score
        cause = getattr(err, "cause", None) or err  # a Ray task error: the backend's own exception
        eval_all.unlink(missing_ok=True)  # a failed checkpoint leaves nothing readable as a score
        return _failed(base, f"generation failed: {type(cause).__name__}: {cause}", eval_file)
    completions: list[list[Completion]] = gen.completions
    codes = [[extract_code(c.text) for c in per_problem] for per_problem in completions]
    jobs = [GradeJob(problem=p, code=code, sample_index=i)
            for p, per_problem in zip(ctx.problems, codes) for i, code in enumerate(per_problem)]
    verdicts: list[ProgramVerdict] = ctx.exec_pool.grade(jobs)
    by_problem: dict[str, list[ProgramVerdict]] = {}
    for v in verdicts:
        by_problem.setdefault(v.question_id, []).append(v)
    harness = [v for v in verdicts if v.outcome is Outcome.HARNESS_ERROR]
    isolation = verdicts[0].isolation if verdicts else ""
    detailed = paths.detailed_dir / f"{_ckpt_file_stem(ckpt)}.json"
    if harness:
        # No lcb_runner-shaped file: its score scripts would read the harness-error problems as pass@1 = 0. The
        # per-program verdicts are kept (they show what failed), in a record marked failed.
        eval_all.unlink(missing_ok=True)
        _write_detailed(detailed, ckpt, ctx.problems, codes, by_problem, status="failed")
        return _failed({**base, "isolation": isolation}, f"{len(harness)} program(s) hit persistent harness errors "
                       f"(e.g. {harness[0].question_id}: {harness[0].tests[-1].detail if harness[0].tests else ''})",
                       eval_file)
    write_eval_all(eval_all, list(ctx.problems), [[c.text for c in cs] for cs in completions], codes,
                   [by_problem[p.question_id] for p in ctx.problems])
    _write_detailed(detailed, ckpt, ctx.problems, codes, by_problem, status="ok")
    n = ctx.sampling.n
    correct = {qid: sum(v.passed for v in vs) for qid, vs in by_problem.items()}
    ks = [k for k in (1, 5, 10, 25, 100) if k <= n]
    pass_at = {k: sum(pass_at_k(n, correct[p.question_id], k) for p in ctx.problems) / len(ctx.problems)
               for k in ks}
    ev = CheckpointEvaluation(
        **base, pass_at=pass_at, solved=sum(1 for c in correct.values() if c > 0),
        per_problem={p.question_id: correct[p.question_id] / n for p in ctx.problems},
        outcomes={qid: [v.outcome.value for v in sorted(vs, key=lambda v: v.sample_index)]
                  for qid, vs in sorted(by_problem.items())},
        status="ok", failure=None, isolation=isolation, generated=gen.generated, reused_generations=gen.reused,
    )
    atomic_write_text(eval_file, ev.to_json())
    return ev


def _failed(base: dict[str, Any], reason: str, eval_file: Path) -> CheckpointEvaluation:
    ev = CheckpointEvaluation(**{"isolation": "", **base}, pass_at={}, solved=0, per_problem={}, outcomes={},
                              status="failed", failure=reason, generated=0, reused_generations=0)
    atomic_write_text(eval_file, ev.to_json())
    return ev


def _write_detailed(path: Path, ckpt: CheckpointRef, problems, codes, by_problem, status: str) -> None:
    records = []
    for p, per_problem in zip(problems, codes):
        for v in sorted(by_problem.get(p.question_id, []), key=lambda v: v.sample_index):
            records.append({
                "question_id": p.question_id, "sample_index": v.sample_index, "outcome": v.outcome.value,
                "isolation": v.isolation, "code": per_problem[v.sample_index],
                "tests": [{"index": t.index, "outcome": t.outcome.value, "cpu_time_s": round(t.cpu_time_s, 4),
                           "detail": t.detail} for t in v.tests],
            })
    atomic_write_text(path, json.dumps({"checkpoint": ckpt.key, "status": status, "programs": records}, indent=1))


def _eval_trial(config: dict[str, Any], ctx: EvaluationContext) -> None:
    from ray import tune

    ckpt = CheckpointRef(**config["checkpoint"])
    started = time.time()
    ev = evaluate_checkpoint(ctx, ckpt)
    tune.report({
        "variant": ev.variant, "checkpoint": ev.checkpoint, "step": ev.step, "epoch": ev.epoch,
        "val_loss": ev.val_loss if ev.val_loss is not None else float("nan"),
        "pass@1": ev.pass_at.get(1, float("nan")), **{f"pass@{k}": v for k, v in ev.pass_at.items() if k > 1},
        "solved": ev.solved, "total": ev.total, "failed": int(ev.status != "ok"),
        "generated": ev.generated, "reused_generations": ev.reused_generations, "reused": int(ev.reused),
        "eval_seconds": time.time() - started,
    })


def checkpoints_to_evaluate(trainings: dict[str, Any]) -> list[CheckpointRef]:
    """The base model (step 0, shared by all variants) first, then every checkpoint of every variant by step."""
    refs = [CheckpointRef(variant="base", step=0, epoch=0)]
    for name in sorted(trainings):
        refs.extend(sorted(trainings[name].checkpoints, key=lambda c: c.step))
    return refs


def run_evaluation_stage(plan, paths, trainings, progress: bool = True, verbose: bool = False):
    """One Tune trial per checkpoint, all sharing one generation pool and one execution pool."""
    from ray import tune

    from .execution.pool import ExecutionPool
    from .generation.pool import GenerationPool
    from .lcb.grading import LcbGrader
    from .generation.base import sampling_from_config

    cfg: SweepConfig = plan.cfg
    refs = checkpoints_to_evaluate(trainings)
    gen_pool = GenerationPool.create(plan.model_path, plan.generation_config, cfg.model.dtype, plan.backend)
    exec_pool = ExecutionPool(cfg.execution, LcbGrader.from_execution_config(cfg.execution))
    try:
        ctx = EvaluationContext(cfg, tuple(plan.problems), paths, gen_pool, exec_pool, sampling_from_config(cfg.generation))
        # Trials only wait on the pools; a few per generation actor keep every actor's engine busy.
        concurrent = cfg.ray.max_concurrent_trials or max(1, 2 * cfg.generation.num_actors)
        bar = _progress_callback(len(refs), "evaluating checkpoints", progress,
                                 lambda r: f"{r.get('variant')}/{r.get('checkpoint')}: "
                                           f"pass@1 on all problems={r.get('pass@1', 0):.3f}")
        tuner = tune.Tuner(
            tune.with_resources(tune.with_parameters(_eval_trial, ctx=ctx), {"CPU": 0.01}),
            param_space={"checkpoint": tune.grid_search([dataclasses.asdict(r) for r in refs])},
            tune_config=tune.TuneConfig(max_concurrent_trials=concurrent),
            run_config=_tune_run_config(f"eval-{paths.eval_key}-{int(time.time())}", paths.ray_storage, [bar],
                                        verbose),
        )
        grid = tuner.fit()
    finally:
        gen_pool.shutdown()
        exec_pool.shutdown()
    return EvaluationStage(refs, grid, paths)


@dataclass
class EvaluationStage:
    refs: list[CheckpointRef]
    grid: Any  # ray.tune.ResultGrid
    paths: Any

    def evaluations(self) -> list[CheckpointEvaluation]:
        """Every checkpoint's evaluation; a trial that crashed becomes a ``failed`` entry, never a zero."""
        runs = {(r.metrics["variant"], r.metrics["checkpoint"]): r.metrics for r in self.grid
                if r.metrics and "checkpoint" in r.metrics}
        out = []
        for ref in self.refs:
            f = self.paths.evaluations_dir / f"{_ckpt_file_stem(ref)}.json"
            if f.is_file():
                ev = CheckpointEvaluation.from_json(f.read_text(encoding="utf-8"))
                m = runs.get((ev.variant, ev.checkpoint), {})  # what this run did (the file says what was measured)
                out.append(dataclasses.replace(ev, reused=bool(m.get("reused", 0)),
                                               generated=int(m.get("generated", 0)),
                                               reused_generations=int(m.get("reused_generations", 0))))
            else:
                err = next((str(r.error) for r in self.grid
                            if r.error is not None and r.config["checkpoint"]["variant"] == ref.variant
                            and r.config["checkpoint"]["step"] == ref.step), "no result written")
                out.append(CheckpointEvaluation(
                    variant=ref.variant, checkpoint=ref.name, step=ref.step, epoch=ref.epoch,
                    train_loss=ref.train_loss, val_loss=ref.val_loss, n=0, pass_at={}, solved=0, total=0,
                    per_problem={}, outcomes={}, status="failed", failure=err.splitlines()[0] if err else err,
                    backend="", isolation="", generated=0, reused_generations=0))
        return out

    def best_from_grid(self, results_by_key: dict[str, Any]) -> dict[str, Any]:
        """Best checkpoint per variant among the ResultGrid's successful trials, ranked by
        :func:`codegen_ray.report.choose_best` (highest selection Pass@1, then earlier step, then lower val loss).
        ``results_by_key``: the sweep's CheckpointResults (split applied) by key. Failed trials never win."""
        from .report import choose_best

        finished = [results_by_key[f"{m['variant']}/{m['checkpoint']}"] for m in
                    (r.metrics for r in self.grid if r.error is None and r.metrics and not r.metrics.get("failed", 1))
                    if m["variant"] != "base"]
        return choose_best(finished)


# ------------------------------------------------------------------------------------------------------- outputs
def _to_result(ev: CheckpointEvaluation):
    from .report import CheckpointResult

    return CheckpointResult(
        variant=ev.variant, checkpoint=ev.checkpoint, step=ev.step, epoch=ev.epoch, val_loss=ev.val_loss,
        train_loss=ev.train_loss, pass_at=ev.pass_at, solved=ev.solved, total=ev.total, per_problem=ev.per_problem,
        status=ev.status, failure=ev.failure, backend=ev.backend, isolation=ev.isolation,
    )


def _curves(trainings: dict[str, Any]):
    from .report import TrainingCurve

    curves = []
    for name in sorted(trainings):
        tr = trainings[name]
        vals = [(c.step, c.val_loss) for c in tr.checkpoints if c.val_loss is not None]
        curves.append(TrainingCurve(
            variant=name, steps=[h.step for h in tr.history], train_loss=[h.loss for h in tr.history],
            val_steps=[s for s, _ in vals], val_loss=[v for _, v in vals],
        ))
    return curves


def write_outputs(plan, paths, trainings, stage: EvaluationStage, tracker, started: float):
    """Summary, report, plots, the latest-run copies, and the MLflow evaluation runs."""
    from . import report as rp
    from .contamination import write_contamination_jsonl
    from .sweep import SweepResult, copy_latest

    cfg: SweepConfig = plan.cfg
    evals = stage.evaluations()
    results = [_to_result(ev) for ev in evals]
    if plan.split is not None:
        results = rp.apply_split(results, plan.split)
    best = stage.best_from_grid({r.key: r for r in results})
    run_dir = paths.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    contamination_file = write_contamination_jsonl(run_dir / "contamination.jsonl", plan.contamination)
    inp = rp.SweepReportInput(
        results=results, curves=_curves(trainings), config_hash=paths.eval_key, num_samples=cfg.generation.n,
        alpha=cfg.report.alpha, bootstrap_samples=cfg.report.bootstrap_samples,
        bootstrap_seed=cfg.report.bootstrap_seed, split=plan.split,
        contamination=plan.contamination.summary(dropped=cfg.data.drop_contaminated,
                                                 artifact=contamination_file.name),
        best_by_variant=best,
        run_info={"model": cfg.model.name_or_path, "benchmark": cfg.benchmark.source,
                  "problems": len(plan.problems), "backend": plan.backend, "training_key": paths.train_key,
                  "evaluation_key": paths.eval_key, "variants": [v.name for v in cfg.data.variants]},
        volatile={"started_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started)),
                  "wall_seconds": round(time.time() - started, 1)},
    )
    files = rp.write_report(run_dir, inp)
    latest = paths.benchmark_root
    copy_latest(files.summary_json, latest / "summary.json")
    copy_latest(files.report_md, latest / "report.md")
    counters = {
        "trainings_run": sum(0 if getattr(t, "reused", False) else 1 for t in trainings.values()),
        "trainings_reused": sum(1 if getattr(t, "reused", False) else 0 for t in trainings.values()),
        "evaluations_run": sum(0 if ev.reused else 1 for ev in evals),
        "evaluations_reused": sum(1 if ev.reused else 0 for ev in evals),
        "generations_run": sum(ev.generated for ev in evals),
        "generations_reused": sum(ev.reused_generations for ev in evals),
    }
    if tracker is not None:
        _track_evaluations(tracker, results, best, paths, plan.split)
        for f in (files.summary_json, files.report_md, contamination_file, *files.plots):
            tracker.log_artifact(tracker.parent_run_id, f, "report")
        overall = rp.choose_best_overall(best)
        # Headline: Pass@1 on the report problems when a split is configured (beside it, on all problems).
        metrics = {f"best_pass1.{v}": r.headline_pass1 for v, r in best.items()}
        metrics["best_pass1"] = overall.headline_pass1 if overall else None
        if plan.split is not None:
            metrics.update({f"best_pass1_all.{v}": r.pass1 for v, r in best.items()})
            metrics.update({f"best_selection_pass1.{v}": r.selection_pass1 for v, r in best.items()})
            metrics["best_pass1_all"] = overall.pass1 if overall else None
        tracker.log_metrics(tracker.parent_run_id, metrics)
        tags = {"pass1_problems": _pass1_problems_label(plan.split, len(plan.problems))}
        if overall is not None:
            tags["best_checkpoint"] = overall.key
        tracker.set_tags(tracker.parent_run_id, tags)
        tracker.finish(tracker.parent_run_id, "FINISHED" if all(r.ok for r in results) else "FAILED")
    return SweepResult(
        run_key=paths.eval_key, output_dir=run_dir, results=results, best=best,
        summary_path=latest / "summary.json", report_path=latest / "report.md",
        table=rp.format_table(results, best, plan.split),
        mlflow_parent_run_id=tracker.parent_run_id if tracker else None, counters=counters,
    )


def _pass1_problems_label(split, total: int) -> str:
    """What the headline Pass@1 metrics (``pass_at_1``, ``best_pass1.*``) are computed on, for an MLflow tag."""
    if split is None:
        return f"all {total} problems"
    return (f"the {len(split.report_ids)} report problems, which played no part in choosing the best checkpoint "
            f"(metrics ending in _all: all {total} problems; {split.description})")


def _track_evaluations(tracker, results, best, paths, split=None) -> None:
    """One MLflow run per evaluation. Main metric ``pass_at_1``: the headline Pass@1 (report problems with a split,
    then ``pass_at_1_all`` and ``pass_at_K_all`` beside it; all problems without one)."""
    best_keys = {r.key for r in best.values()}
    label = _pass1_problems_label(split, max((r.total for r in results if r.ok), default=0))
    for r in results:
        tags = {"variant": r.variant, "step": r.step, "epoch": r.epoch, "checkpoint": r.checkpoint,
                "is_best": str(r.key in best_keys).lower(), "status": r.status.value, "stage": "evaluation",
                "backend": r.backend, "isolation": r.isolation, "pass1_problems": label}
        run_id = tracker.child(f"eval/{r.key}", f"eval-{r.key.replace('/', '-')}", tags)
        if r.ok:
            suffix = "" if split is None else "_all"
            metrics = {f"pass_at_{k}{suffix}": v for k, v in r.pass_at.items()}  # MLflow names allow no '@'
            metrics["pass_at_1"] = r.headline_pass1
            metrics.update({"solved": r.solved, "total": r.total, "val_loss": r.val_loss,
                            "train_loss": r.train_loss, "selection_pass1": r.selection_pass1,
                            "report_pass1": r.report_pass1})
            tracker.log_metrics(run_id, metrics, step=r.step)
            rows = [{"question_id": q, "pass@1": v} for q, v in sorted(r.per_problem.items())]
            tracker.log_table(run_id, rows, "per_problem.json")
        else:
            tracker.set_tags(run_id, {"failure": (r.failure or "")[:4000]})
        tracker.finish(run_id, "FINISHED" if r.ok else "FAILED")
