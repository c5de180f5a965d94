"""Ray Tune plumbing shared by the training and evaluation stages: a progress bar, the run config, how many trials
fit the cluster at once, and the resources of one trial (pinned to the driver's node)."""

from __future__ import annotations

TRIAL_CPU = 0.01  # a trial itself only waits (on its TorchTrainer, or on the evaluation pools)
# Every Tune trial also takes this share of the driver's node resource ``node:<ip>`` (1.0 on every Ray node), so it
# runs on the driver's machine and writes its records under the driver's own ``output.root``. At most
# 1 / TRIAL_NODE_SHARE trials fit at once; each stage runs at most half of them (both run at once when pipelined).
TRIAL_NODE_SHARE = 0.001
MAX_TRIALS_PER_STAGE = 500


def driver_node() -> tuple[str, dict]:
    """``(ip, total resources)`` of the Ray node this driver is attached to (by its node id, so the answer is the
    node the driver's raylet runs on, whatever address it joined by)."""
    import ray

    node_id = ray.get_runtime_context().get_node_id()
    for node in ray.nodes():
        if node.get("NodeID") == node_id:
            return node["NodeManagerAddress"], dict(node.get("Resources") or {})
    raise RuntimeError(f"the driver's node {node_id} is not among the cluster's nodes")


def trial_resources(node_ip: str) -> dict[str, float]:
    """One Tune trial's resources: a little CPU and a little of the node resource of ``node_ip`` (the driver's)."""
    return {"CPU": TRIAL_CPU, f"node:{node_ip}": TRIAL_NODE_SHARE}


def driver_trial_resources() -> dict[str, float]:
    """:func:`trial_resources` on the driver's node, which must have a CPU (else no trial could ever be placed: a
    head started with ``--num-cpus 0``, say)."""
    from ..errors import HarnessError

    ip, total = driver_node()
    if total.get("CPU", 0.0) + 1e-9 < TRIAL_CPU:
        raise HarnessError(f"the driver's Ray node ({ip}) has no CPU; every Tune trial of the sweep runs there "
                           f"({TRIAL_CPU} CPU each): give it CPUs (ray start --num-cpus) or run the driver on "
                           f"another node")
    return trial_resources(ip)


def stage_concurrency(wanted: int) -> int:
    """Trials of one stage at once, clamped so both stages together fit the driver's node resource."""
    return max(1, min(wanted, MAX_TRIALS_PER_STAGE))


def progress_callback(total: int, desc: str, enabled: bool, metric_fmt=None, position: int = 0):
    """A Tune callback driving one tqdm bar in the driver: trials finished / total, latest metrics as postfix."""
    from ray.tune import Callback

    class _Progress(Callback):
        def __init__(self) -> None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="trial", disable=not enabled, leave=True, dynamic_ncols=True,
                            position=position)

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


def tune_run_config(name: str, storage: str, callbacks: list, verbose: bool, stopper=None):
    from ray import tune

    return tune.RunConfig(
        name=name,
        storage_path=storage,
        verbose=2 if verbose else 0,
        callbacks=callbacks,
        failure_config=tune.FailureConfig(max_failures=0),
        stop=stopper,
    )


def event_stopper(event):
    """A Tune stopper that ends every trial of the run once ``event`` (a ``threading.Event``) is set: how the
    driver stops a Tune run going on in another thread (Tune handles Ctrl-C only in the main thread)."""
    from ray.tune import Stopper

    class _EventStopper(Stopper):
        def __init__(self, event) -> None:
            self.event = event

        def __getstate__(self) -> dict:  # Tune pickles its run config (for a restore); an Event does not pickle
            return {}

        def __setstate__(self, state: dict) -> None:
            import threading

            self.event = threading.Event()

        def __call__(self, trial_id, result) -> bool:
            return self.event.is_set()

        def stop_all(self) -> bool:
            return self.event.is_set()

    return _EventStopper(event)


def max_concurrent(per_trial_cpu: float, per_trial_gpu: float, wanted: int) -> int:
    """How many trials fit the cluster at once (never 0), so nothing deadlocks on 2 CPUs or on 8 GPUs."""
    return max(1, trials_that_fit(per_trial_cpu, per_trial_gpu, wanted))


def trials_that_fit(per_trial_cpu: float, per_trial_gpu: float, wanted: int,
                    reserved: tuple[float, float] = (0.0, 0.0)) -> int:
    """How many trials of these resources fit the Ray cluster beside ``reserved`` (CPUs, GPUs), at most ``wanted``;
    0 when not even one does."""
    import ray

    return count_fitting(ray.cluster_resources(), per_trial_cpu, per_trial_gpu, wanted, reserved)


def count_fitting(resources: dict, per_trial_cpu: float, per_trial_gpu: float, wanted: int,
                  reserved: tuple[float, float] = (0.0, 0.0)) -> int:
    """:func:`trials_that_fit` for a cluster of ``resources`` (``ray.cluster_resources()``)."""
    fits = [wanted]
    eps = 1e-9  # fractional CPUs: 0.5 + 0.5 + 1.0 fits 2.0
    if per_trial_cpu > 0:
        fits.append(int((resources.get("CPU", 1) - reserved[0] + eps) // per_trial_cpu))
    if per_trial_gpu > 0:
        fits.append(int((resources.get("GPU", 0) - reserved[1] + eps) // per_trial_gpu))
    return max(0, min(fits))
