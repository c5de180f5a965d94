"""Generations on disk, per checkpoint, written as they complete; a rerun reuses what is there.

Layout: ``<generations_dir>/<checkpoint.key>.jsonl`` — ``base.jsonl`` for the base model (shared by all variants),
``<variant>/checkpoint-step-S-epoch-E.jsonl`` for adapters. One JSON object per line, one line per sample::

    {"checkpoint": "...", "question_id": "...", "sample_index": 0, "sampling_hash": "...", "text": "...",
     "num_tokens": 12, "finish_reason": "stop", "backend": "vllm", "adapter_path": "..."}

A sample is identified by (checkpoint key, question_id, sample_index, sampling hash). The sampling hash covers
temperature, top_p, max_tokens, seed and stop strings but NOT ``n``: sample ``i``'s random stream depends only on
(seed, question_id, i) (see ``base.py``), so raising ``n`` from 1 to 10 reuses sample 0 and generates 1..9.

Crash safety: each completed batch is appended with one ``write`` and ``fsync``'d. A crash mid-write can leave at
most a truncated last line; readers skip lines that do not parse, and the next writer first cuts the file back to
its last complete line, so a partial record is never trusted nor glued to a new one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from codegen_ray.types import CheckpointRef, Completion, Prompt, SamplingSettings

log = logging.getLogger(__name__)

DEFAULT_CHUNK_PROMPTS = 64  # prompts per work item written at once (a crash loses at most the items in flight)


def sampling_hash(sampling: SamplingSettings) -> str:
    """Hash of everything in ``sampling`` that changes a sample (all but ``n``)."""
    payload = json.dumps(
        {
            "temperature": float(sampling.temperature),
            "top_p": 1.0 if sampling.greedy else float(sampling.top_p),
            "max_tokens": int(sampling.max_tokens),
            "seed": None if sampling.greedy else int(sampling.seed),
            "stop": list(sampling.stop),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def generations_path(generations_dir: Path | str, checkpoint: CheckpointRef) -> Path:
    return Path(generations_dir) / f"{checkpoint.key}.jsonl"


@dataclass(frozen=True)
class CachedGenerations:
    """What :func:`generate_cached` returns: the completions, and where they came from."""

    completions: list[list[Completion]]  # n per prompt, prompt order
    generated: int  # samples produced by the pool in this call
    reused: int  # samples read back from the file
    backends: tuple[str, ...]  # backends that produced the returned samples (sorted, e.g. ("vllm",))
    path: Path


def _repair_tail(path: Path) -> None:
    """Cut a truncated last line (no trailing newline) left by a crash, so appends start on a fresh line."""
    if not path.exists():
        return
    with open(path, "rb+") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        # find the last newline
        pos = size - 1
        block = 65536
        cut = 0
        while pos > 0:
            start = max(0, pos - block)
            f.seek(start)
            chunk = f.read(pos - start)
            i = chunk.rfind(b"\n")
            if i >= 0:
                cut = start + i + 1
                break
            pos = start
        log.warning("%s: dropping a truncated last line (%d bytes)", path, size - cut)
        f.truncate(cut)
        f.flush()
        os.fsync(f.fileno())


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every complete, well-formed record of ``path`` (a truncated or corrupt line is skipped with a warning)."""
    if not path.exists():
        return []
    records = []
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    for lineno, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        complete = lineno < len(lines)  # the piece after the last newline is unterminated
        try:
            rec = json.loads(raw.decode("utf-8"))
            if not complete:
                raise ValueError("unterminated last line")
            for key in ("checkpoint", "question_id", "sample_index", "sampling_hash", "text", "num_tokens"):
                if key not in rec:
                    raise ValueError(f"missing {key}")
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            log.warning("%s:%d: ignoring unusable generation record (%s)", path, lineno, exc)
            continue
        records.append(rec)
    return records


def append_records(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Append records as JSON lines in one write, then fsync."""
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    if not payload:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    _repair_tail(path)
    with open(path, "ab") as f:
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())


def generate_cached(
    pool: Any,
    generations_dir: Path | str,
    checkpoint: CheckpointRef,
    prompts: Sequence[Prompt],
    sampling: SamplingSettings,
    chunk_prompts: int = DEFAULT_CHUNK_PROMPTS,
) -> CachedGenerations:
    """``sampling.n`` completions per prompt for ``checkpoint``, generating only what the file does not hold.

    ``pool`` is a :class:`~codegen_ray.generation.pool.GenerationPool` (or anything with ``backend_name`` and
    ``generate(checkpoint, prompts, sampling)``; with ``submit`` too, chunks run concurrently). Missing prompts are
    sent in chunks of ``chunk_prompts``; each chunk's samples are appended to the file as soon as it completes.
    """
    path = generations_path(generations_dir, checkpoint)
    shash = sampling_hash(sampling)
    have: dict[tuple[str, int], dict[str, Any]] = {}
    for rec in read_records(path):
        if rec["checkpoint"] == checkpoint.key and rec["sampling_hash"] == shash:
            have[(rec["question_id"], int(rec["sample_index"]))] = rec

    missing = [p for p in prompts if any((p.question_id, i) not in have for i in range(sampling.n))]
    chunks = [missing[i : i + chunk_prompts] for i in range(0, len(missing), max(1, chunk_prompts))]
    backend = getattr(pool, "backend_name", "unknown")
    generated = 0

    def store(rows: list[list[Completion]]) -> None:
        nonlocal generated
        new = []
        for row in rows:
            for c in row:
                if (c.question_id, c.sample_index) in have:
                    continue  # a prompt with some samples on disk: keep the stored ones
                rec = {
                    "checkpoint": checkpoint.key,
                    "question_id": c.question_id,
                    "sample_index": c.sample_index,
                    "sampling_hash": shash,
                    "text": c.text,
                    "num_tokens": c.num_tokens,
                    "finish_reason": c.finish_reason,
                    "backend": backend,
                    "adapter_path": checkpoint.adapter_path,
                }
                new.append(rec)
        append_records(path, new)
        for rec in new:
            have[(rec["question_id"], rec["sample_index"])] = rec
        generated += len(new)

    if chunks:
        if hasattr(pool, "submit"):
            import ray

            pending = {pool.submit(checkpoint, chunk, sampling): chunk for chunk in chunks}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    pending.pop(ref)
                    store(ray.get(ref))
        else:
            for chunk in chunks:
                store(pool.generate(checkpoint, chunk, sampling))

    total = len(prompts) * sampling.n
    completions: list[list[Completion]] = []
    backends: set[str] = set()
    for p in prompts:
        row = []
        for i in range(sampling.n):
            rec = have[(p.question_id, i)]
            backends.add(str(rec.get("backend", "unknown")))
            row.append(
                Completion(
                    p.question_id, i, rec["text"], int(rec["num_tokens"]), str(rec.get("finish_reason", "stop"))
                )
            )
        completions.append(row)
    return CachedGenerations(completions, generated, total - generated, tuple(sorted(backends)), path)

