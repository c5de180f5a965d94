"""A Ray actor pool of generation engines, created once per sweep and shared by every evaluation trial.

Layout::

    GenerationPool (picklable handle)  ──►  _PoolManager (async actor, num_cpus=0)
                                                 │  least-loaded dispatch, replacement of dead workers, retries
                                                 ▼
                                  _GenerationWorker × generation.num_actors
                                  (num_gpus=generation.gpus_per_actor, num_cpus=generation.cpus_per_actor,
                                   resources=generation.resources;
                                   each holds ONE backend — one vLLM engine or one transformers model — for its
                                   whole life, so the base model is loaded once per worker and every checkpoint's
                                   adapter is served by that warm engine)

A call ``pool.generate(checkpoint, prompts, sampling)`` is split into work items (checkpoint, prompt batch): at
least one per worker, at most ``MAX_ITEM_PROMPTS`` prompts each. Each item goes to the worker with the fewest items
in flight (ties: the worker that last served this checkpoint, whose adapter is loaded). Workers run one item at a
time. A worker that dies (node loss, OOM kill, ``ray.kill``) is replaced by a fresh one and its items are re-sent,
up to ``MAX_ATTEMPTS`` times per item; an exception raised by the backend itself (bad adapter path, ...) is not
retried and reaches the caller.

The :class:`GenerationPool` object only holds the manager's actor handle, so it pickles into Tune trials running in
other processes; all of them share the same workers. Results are exactly what the backend returns for each item
(see ``base.py`` for seeding: a sample depends on (seed, question_id, sample_index), not on which worker ran it).
A worker on a node without a checkpoint's ``adapter_path`` fetches it from ``ray.storage_path`` first
(:mod:`.checkpoints`).
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Sequence

from codegen_ray.errors import HarnessError
from codegen_ray.generation.base import resolve_backend_kind
from codegen_ray.generation.checkpoints import local_checkpoint
from codegen_ray.types import CheckpointRef, Completion, Prompt, SamplingSettings

if TYPE_CHECKING:  # pragma: no cover
    from codegen_ray.config import GenerationConfig

log = logging.getLogger(__name__)

MAX_ITEM_PROMPTS = 256
MAX_ATTEMPTS = 3
# Exceptions (by class name, so vllm is not imported here) after which a backend cannot be used again.
_DEAD_ENGINE_ERRORS = frozenset({"EngineDeadError"})


@dataclass(frozen=True)
class PoolStats:
    workers: int
    replaced: int  # workers that died and were replaced
    retried_items: int  # work items re-sent after their worker died
    items_done: int
    in_flight: int


class _GenerationWorker:
    """One backend, kept for the worker's life. Ray actor class (decorated in :func:`_actor_classes`)."""

    def __init__(self, kind: str, model_path: str, gen_cfg: "GenerationConfig", dtype: str) -> None:
        import os

        from codegen_ray.generation.factory import make_backend

        self.pid = os.getpid()
        self.backend = make_backend(kind, model_path, gen_cfg, dtype)

    def ready(self) -> int:
        return self.pid

    def generate(
        self, checkpoint: CheckpointRef, prompts: Sequence[Prompt], sampling: SamplingSettings
    ) -> list[list[Completion]]:
        return self._guard(self.backend.generate, prompts, sampling, local_checkpoint(checkpoint))

    def generate_samples(self, checkpoint: CheckpointRef, prompts: Sequence[Prompt], sampling: SamplingSettings):
        """Completions with their token ids (both backends implement ``generate_samples``)."""
        return self._guard(self.backend.generate_samples, prompts, sampling, local_checkpoint(checkpoint))

    def _guard(self, fn, *args):
        try:
            return fn(*args)
        except Exception as exc:
            if type(exc).__name__ in _DEAD_ENGINE_ERRORS:
                # The engine's own processes are gone; this worker can never serve again. Dying makes the pool
                # replace it and re-send the item (instead of every later item failing on the dead engine).
                import os
                import sys

                print(f"generation worker {self.pid}: engine died ({exc!r}); exiting", file=sys.stderr, flush=True)
                os._exit(70)
            raise


@dataclass
class _Slot:
    index: int
    handle: Any
    in_flight: int = 0
    last_key: Optional[str] = None


class _PoolManager:
    """Owns the workers; async so that many trials' calls are served concurrently. Ray actor class."""

    def __init__(self, kind: str, model_path: str, gen_cfg: "GenerationConfig", dtype: str) -> None:
        self._args = (kind, model_path, gen_cfg, dtype)
        self._options = dict(
            num_cpus=gen_cfg.cpus_per_actor, num_gpus=gen_cfg.gpus_per_actor, max_restarts=0, max_task_retries=0,
            resources=dict(gen_cfg.resources),
        )
        self._slots = [_Slot(i, self._new_worker()) for i in range(gen_cfg.num_actors)]
        self._replaced = 0
        self._retried = 0
        self._done = 0

    def _new_worker(self):
        worker_cls = _actor_classes()[0]
        return worker_cls.options(**self._options).remote(*self._args)

    def _pick(self, key: str) -> _Slot:
        return min(self._slots, key=lambda s: (s.in_flight, s.last_key != key, s.index))

    def _replace(self, slot: _Slot, dead_handle: Any) -> None:
        if slot.handle is not dead_handle:  # another item already replaced it
            return
        import ray

        try:
            ray.kill(dead_handle, no_restart=True)
        except Exception:  # already gone
            pass
        slot.handle = self._new_worker()
        slot.last_key = None
        self._replaced += 1
        log.warning("generation worker %d died; replaced it", slot.index)

    async def _run_item(self, checkpoint: CheckpointRef, prompts: list[Prompt], sampling: SamplingSettings):
        from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError

        last_error: Optional[BaseException] = None
        for attempt in range(MAX_ATTEMPTS):
            slot = self._pick(checkpoint.key)
            handle = slot.handle
            slot.in_flight += 1
            slot.last_key = checkpoint.key
            try:
                result = await handle.generate.remote(checkpoint, prompts, sampling)
                self._done += 1
                return result
            except (RayActorError, ActorDiedError, ActorUnavailableError) as exc:
                last_error = exc
                self._retried += 1
                self._replace(slot, handle)
            finally:
                slot.in_flight -= 1
        raise HarnessError(
            f"generation of {checkpoint.key} failed: its worker died {MAX_ATTEMPTS} times in a row "
            f"(last error: {last_error})"
        )

    async def generate(
        self, checkpoint: CheckpointRef, prompts: list[Prompt], sampling: SamplingSettings
    ) -> list[list[Completion]]:
        if not prompts:
            return []
        size = min(MAX_ITEM_PROMPTS, math.ceil(len(prompts) / len(self._slots)))
        items = [prompts[i : i + size] for i in range(0, len(prompts), size)]
        parts = await asyncio.gather(*(self._run_item(checkpoint, item, sampling) for item in items))
        return [row for part in parts for row in part]

    async def wait_ready(self) -> list[int]:
        """Block until every worker has built its backend; returns their process ids."""
        return list(await asyncio.gather(*(s.handle.ready.remote() for s in self._slots)))

    def worker_handles(self) -> list[Any]:
        return [s.handle for s in self._slots]

    def stats(self) -> PoolStats:
        return PoolStats(
            workers=len(self._slots),
            replaced=self._replaced,
            retried_items=self._retried,
            items_done=self._done,
            in_flight=sum(s.in_flight for s in self._slots),
        )

    def shutdown(self) -> None:
        import ray

        for s in self._slots:
            try:
                ray.kill(s.handle, no_restart=True)
            except Exception:
                pass
        self._slots = []


_ACTOR_CLASSES: Optional[tuple[Any, Any]] = None


def _actor_classes() -> tuple[Any, Any]:
    """The Ray actor classes, built on first use so that importing this module does not import ray."""
    global _ACTOR_CLASSES
    if _ACTOR_CLASSES is None:
        import ray

        _ACTOR_CLASSES = (ray.remote(_GenerationWorker), ray.remote(_PoolManager))
    return _ACTOR_CLASSES


def start_worker(
    kind: str, model_path: str, gen_cfg: "GenerationConfig", dtype: str = "auto", **actor_options: Any
) -> Any:
    """One generation worker actor outside any pool (tests, benchmarks): methods ``ready``, ``generate``,
    ``generate_samples``. ``actor_options`` default to the pool's (``num_cpus``/``num_gpus`` from ``gen_cfg``)."""
    kind = resolve_backend_kind(kind, gen_cfg)
    options = dict(num_cpus=gen_cfg.cpus_per_actor, num_gpus=gen_cfg.gpus_per_actor, max_restarts=0,
                   resources=dict(gen_cfg.resources))
    options.update(actor_options)
    return _actor_classes()[0].options(**options).remote(kind, str(model_path), gen_cfg, dtype)


class GenerationPool:
    """Picklable handle on the shared generation pool. Create once per sweep with :meth:`create`."""

    def __init__(self, manager: Any, backend_name: str, num_workers: int) -> None:
        self._manager = manager
        self.backend_name = backend_name  # "hf" or "vllm": record it with every result
        self.num_workers = num_workers

    @classmethod
    def create(
        cls, model_path: str, gen_cfg: "GenerationConfig", dtype: str = "auto", backend_kind: Optional[str] = None
    ) -> "GenerationPool":
        """Start the manager and ``gen_cfg.num_actors`` workers (needs ray initialised).

        ``backend_kind`` defaults to ``gen_cfg.backend``; ``auto`` is resolved here, on the driver (see
        :func:`~codegen_ray.generation.base.resolve_backend_kind`), so every worker runs the same backend.
        """
        kind = resolve_backend_kind(backend_kind or gen_cfg.backend, gen_cfg)
        manager_cls = _actor_classes()[1]
        manager = manager_cls.options(num_cpus=0, max_restarts=0).remote(kind, str(model_path), gen_cfg, dtype)
        return cls(manager, kind, gen_cfg.num_actors)

    def submit(self, checkpoint: CheckpointRef, prompts: Sequence[Prompt], sampling: SamplingSettings):
        """Start generating; returns a Ray ObjectRef of ``list[list[Completion]]`` (n per prompt, prompt order)."""
        return self._manager.generate.remote(checkpoint, list(prompts), sampling)

    def generate(
        self, checkpoint: CheckpointRef, prompts: Sequence[Prompt], sampling: SamplingSettings
    ) -> list[list[Completion]]:
        import ray

        return ray.get(self.submit(checkpoint, prompts, sampling))

    def wait_ready(self) -> list[int]:
        """Wait until every worker has loaded its model (optional: calls queue until then anyway)."""
        import ray

        return ray.get(self._manager.wait_ready.remote())

    def worker_handles(self) -> list[Any]:
        import ray

        return ray.get(self._manager.worker_handles.remote())

    def stats(self) -> PoolStats:
        import ray

        return ray.get(self._manager.stats.remote())

    def shutdown(self) -> None:
        import ray

        try:
            ray.get(self._manager.shutdown.remote())
        finally:
            ray.kill(self._manager, no_restart=True)
