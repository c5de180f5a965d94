"""Training and evaluation, one after the other or overlapped (``ray.pipeline``, the default).

Pipelined, the evaluation stage starts with the training stage: its Tune run evaluates the base model at once and
every planned checkpoint as soon as training has saved it (the trials wait on a ``CheckpointBoard``), while the
training stage's Tune run goes on in a driver thread. The evaluation pools keep their configured share of the
cluster (``generation.num_actors`` x ``cpus_per_actor`` / ``gpus_per_actor``, the benchmark's execution actors,
the trials' own 0.01 CPU each) and training runs as many variants at once as fit in the rest. When not even one
training trial fits beside them, the sweep says so and runs the stages one after the other.

What protects the results: evaluation reads only checkpoints Ray Train has finished persisting; a checkpoint the
plan did not foresee (or whose trial was skipped) is evaluated after training, so every checkpoint written is
evaluated exactly once; a training failure ends every wait and fails the sweep as before; Ctrl-C or an evaluation
error stops the training run too (a Tune stopper), and the driver waits for it before returning.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..config import SweepConfig
from .checkpoint_board import start_board
from .evaluation_stage import EvaluationStage, checkpoints_to_evaluate, eval_concurrency, run_evaluation_stage
from .training_stage import run_training_stage, training_trial_share
from .tune_plumbing import TRIAL_CPU, stage_concurrency, trials_that_fit

log = logging.getLogger(__name__)


def evaluation_share(plan) -> tuple[float, float]:
    """CPUs and GPUs the evaluation holds while it runs: its generation and execution actors and its trials."""
    from ..benchmarks import benchmark_for

    cfg: SweepConfig = plan.cfg
    gen, exe = cfg.generation, benchmark_for(cfg).execution_config()
    cpus = gen.num_actors * gen.cpus_per_actor + exe.num_actors * exe.cpus_per_actor
    cpus += eval_concurrency(cfg) * TRIAL_CPU
    return cpus, gen.num_actors * gen.gpus_per_actor


def run_stages(plan, paths, tracker, progress: bool = True, verbose: bool = False) -> tuple[dict[str, Any],
                                                                                                EvaluationStage]:
    """``({variant: TrainingResult}, EvaluationStage)``: pipelined when ``ray.pipeline`` is on and one training
    trial fits beside the evaluation's share of the cluster, else training first and evaluation after it."""
    cfg: SweepConfig = plan.cfg
    if cfg.ray.pipeline:
        reserved = evaluation_share(plan)
        cpu, gpu = training_trial_share(cfg)
        fit = trials_that_fit(cpu, gpu, len(plan.variants), reserved)
        if fit >= 1:
            return _pipelined(plan, paths, tracker, progress, verbose,
                              stage_concurrency(cfg.ray.max_concurrent_trials or fit))
        log.warning("ray.pipeline: a training trial (%g CPU, %g GPU) does not fit beside the evaluation's share "
                    "(%g CPU, %g GPU) of this cluster; evaluating after training", cpu, gpu, *reserved)
    trainings = run_training_stage(plan, paths, tracker, progress=progress, verbose=verbose)
    return trainings, run_evaluation_stage(plan, paths, trainings, progress=progress, verbose=verbose)


def _pipelined(plan, paths, tracker, progress: bool, verbose: bool, concurrency: int):
    """Both stages at once; ``concurrency``: training trials at once (what fits beside the evaluation's share)."""
    import ray

    board = start_board()
    stop = threading.Event()
    outcome: dict[str, Any] = {}

    def train() -> None:
        try:
            outcome["trainings"] = run_training_stage(plan, paths, tracker, progress=progress, verbose=verbose,
                                                      board=board, concurrency=concurrency, stop=stop)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the driver's thread
            outcome["error"] = exc
        finally:  # whatever happened, no evaluation trial waits any longer
            ray.get([board.end.remote(v.name, "the training stage ended") for v in plan.variants])

    thread = threading.Thread(target=train, name="codegen-ray-training", daemon=True)
    thread.start()
    try:
        stage: EvaluationStage = run_evaluation_stage(plan, paths, progress=progress, verbose=verbose, board=board,
                                                      training_concurrency=concurrency)
    except BaseException:
        stop.set()
        raise
    finally:
        if stop.is_set():
            log.warning("stopping the training stage")
        thread.join()
        ray.kill(board)
    if "error" in outcome:
        raise outcome["error"]
    trainings = outcome["trainings"]
    refs = checkpoints_to_evaluate(trainings)
    remaining = [r for r in refs if r.key not in stage.attempted_keys()]
    if remaining:  # written but not planned (or skipped): evaluated now, so every checkpoint is evaluated once
        log.info("evaluating %d checkpoint(s) the plan did not foresee: %s", len(remaining),
                 ", ".join(r.key for r in remaining))
        more = run_evaluation_stage(plan, paths, progress=progress, verbose=verbose, refs=remaining)
        stage.grids.extend(more.grids)
    stage.refs = refs
    return trainings, stage
