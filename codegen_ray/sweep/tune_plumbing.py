"""Ray Tune plumbing shared by the training and evaluation stages: a progress bar, the run config, how many trials
fit the cluster at once."""

from __future__ import annotations


def progress_callback(total: int, desc: str, enabled: bool, metric_fmt=None):
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


def tune_run_config(name: str, storage: str, callbacks: list, verbose: bool):
    from ray import tune

    return tune.RunConfig(
        name=name,
        storage_path=storage,
        verbose=2 if verbose else 0,
        callbacks=callbacks,
        failure_config=tune.FailureConfig(max_failures=0),
    )


def max_concurrent(per_trial_cpu: float, per_trial_gpu: float, wanted: int) -> int:
    """How many trials fit the cluster at once (never 0), so nothing deadlocks on 2 CPUs or on 8 GPUs."""
    import ray

    res = ray.cluster_resources()
    fits = [wanted]
    if per_trial_cpu > 0:
        fits.append(int(res.get("CPU", 1) // per_trial_cpu))
    if per_trial_gpu > 0:
        fits.append(int(res.get("GPU", 0) // per_trial_gpu))
    return max(1, min(fits))
