"""Load LiveCodeBench problems: the builtin mini set, a local mirror, or the hub by release tag.

The hub's loading script fails on ``datasets>=4`` (LiveCodeBench issue #108), so the hub path downloads the
release's ``test*.jsonl`` files with ``huggingface_hub.hf_hub_download`` and reads them directly, like a local mirror.
Cheap filters (platform, difficulty, dates, ids) run on the raw record before private tests are decoded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

from ..builtin import BUILTIN_BENCHMARK, BUILTIN_BENCHMARK_PATH
from ..config import BenchmarkConfig
from ..errors import ConfigError, DataError
from ..fileio import file_sha256, iter_jsonl
from ..types import Problem
from .records import RecordError, problem_from_record

HUB_DATASETS = ("livecodebench/code_generation_lite", "livecodebench/code_generation")
BUILTIN_SOURCES = {BUILTIN_BENCHMARK: BUILTIN_BENCHMARK_PATH}
NUM_RELEASE_FILES = 6


def _file_name(i: int) -> str:
    return "test.jsonl" if i == 1 else f"test{i}.jsonl"


def release_files(tag: str) -> list[str]:
    """Dataset files of a release tag: ``release_vN`` = files 1..N, ``release_latest`` = all, ``vN`` = file N,
    ``vN_vM`` = files N..M (as the upstream loading script)."""
    t = tag.strip()
    if t == "release_latest":
        return [_file_name(i) for i in range(1, NUM_RELEASE_FILES + 1)]
    if t.startswith("release_v") and t[len("release_v"):].isdigit():
        n = int(t[len("release_v"):])
        if 1 <= n <= NUM_RELEASE_FILES:
            return [_file_name(i) for i in range(1, n + 1)]
    parts = t.split("_")
    if all(p.startswith("v") and p[1:].isdigit() for p in parts) and len(parts) in (1, 2):
        lo, hi = int(parts[0][1:]), int(parts[-1][1:])
        if 1 <= lo <= hi <= NUM_RELEASE_FILES:
            return [_file_name(i) for i in range(lo, hi + 1)]
    raise ConfigError(
        "benchmark.release",
        f"unknown release {tag!r} (release_v1..release_v{NUM_RELEASE_FILES}, release_latest, v1..v{NUM_RELEASE_FILES}, vN_vM)",
    )


# ------------------------------------------------------------------------------------------------------------ presets
@dataclass(frozen=True)
class Preset:
    platforms: tuple[str, ...] = ()
    difficulties: tuple[str, ...] = ()
    start_date: Optional[str] = None
    end_date: Optional[str] = None


PRESETS: dict[str, Preset] = {
    # Qwen2.5-Coder's "AtCoder easy 2407-2411" window: 41 problems in the real dataset (abc361_a … abc382_b).
    "atcoder-easy-2407-2411": Preset(("atcoder",), ("easy",), "2024-07-01", "2024-11-30"),
}


@dataclass(frozen=True)
class Filters:
    question_ids: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    difficulties: tuple[str, ...] = ()
    start_date: Optional[str] = None
    end_date: Optional[str] = None


def resolve_filters(bench: BenchmarkConfig) -> Filters:
    """The config's filters; a preset supplies values for the filter keys the config leaves unset."""
    preset = Preset()
    if bench.preset:
        if bench.preset not in PRESETS:
            raise ConfigError("benchmark.preset", f"unknown preset {bench.preset!r} (known: {', '.join(PRESETS)})")
        preset = PRESETS[bench.preset]
    return Filters(
        question_ids=tuple(bench.question_ids),
        platforms=tuple(bench.platforms) or preset.platforms,
        difficulties=tuple(bench.difficulties) or preset.difficulties,
        start_date=bench.start_date or preset.start_date,
        end_date=bench.end_date or preset.end_date,
    )


# -------------------------------------------------------------------------------------------------------- sources
def resolve_source_files(bench: BenchmarkConfig, base_dir: Path | None = None) -> list[Path]:
    """The JSONL files to read for ``bench.source`` (downloads from the hub when the source is a hub id)."""
    local = local_source_files(bench, base_dir)
    if local is not None:
        return local
    return download_release(bench.source, bench.release, revision=bench.revision)


def local_source_files(bench: BenchmarkConfig, base_dir: Path | None = None) -> Optional[list[Path]]:
    """The local files ``bench.source`` names (the builtin set, a JSONL file, a directory mirror's release files);
    None for a hub dataset (nothing is downloaded here)."""
    source = bench.source
    if source in BUILTIN_SOURCES:
        path = BUILTIN_SOURCES[source]
        if not path.is_file():
            raise DataError(str(path), f"builtin benchmark {source} is missing from this installation")
        return [path]
    if source.startswith("builtin:"):
        raise ConfigError("benchmark.source", f"unknown builtin benchmark {source!r} (known: {', '.join(BUILTIN_SOURCES)})")
    local = Path(os.path.expanduser(source))
    if not local.is_absolute() and base_dir is not None and (Path(base_dir) / local).exists():
        local = Path(base_dir) / local
    if local.is_file():
        return [local]
    if local.is_dir():
        return mirror_files(local, bench.release)
    if source in HUB_DATASETS:
        return None
    raise ConfigError("benchmark.source",
                      f"{source!r} is neither a local file/directory, a builtin, nor one of {', '.join(HUB_DATASETS)}")


def source_identity(bench: BenchmarkConfig, base_dir: Path | None = None) -> dict[str, Any]:
    """What identifies the problems of ``bench.source`` (for the evaluation key), never a path: the sha256 of the
    bytes of every local file read (the builtin set, a file, a mirror's release files), or a hub dataset's name, the
    files its release selects and its revision. Downloads nothing."""
    local = local_source_files(bench, base_dir)
    if local is None:
        return {"hub": bench.source, "files": hub_files(bench.source, bench.release), "revision": bench.revision}
    digests = []
    for path in local:
        try:
            digests.append(file_sha256(path))
        except OSError as err:
            raise DataError(str(path), f"cannot read: {err.strerror or err}") from None
    return {"sha256": digests}


def mirror_files(directory: Path, release: str) -> list[Path]:
    """A local mirror: the release's ``test*.jsonl`` files in ``directory``, all of which must be there."""
    names = release_files(release)
    missing = [n for n in names if not (directory / n).is_file()]
    if missing:
        raise DataError(str(directory), f"mirror lacks {', '.join(missing)} needed by benchmark.release={release} "
                                        "(set benchmark.release to the files you have, e.g. v5 or v5_v6)")
    return [directory / n for n in names]


def hub_files(repo_id: str, release: str) -> list[str]:
    """Files to fetch: ``code_generation_lite`` ships one file per release; the original ``code_generation``
    (larger test sets) is a single ``test.jsonl`` (9.4 GB) without release tags."""
    if repo_id == "livecodebench/code_generation":
        return ["test.jsonl"]
    return release_files(release)


def download_release(repo_id: str, release: str, cache_dir: str | None = None,
                     revision: Optional[str] = None) -> list[Path]:
    """Download the release's files from the hub at ``revision`` (None: main; cached by huggingface_hub) and return
    their local paths."""
    names = hub_files(repo_id, release)
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as err:  # pragma: no cover - huggingface_hub ships with transformers
        raise ConfigError("benchmark.source", f"huggingface_hub is needed to download {repo_id}: {err}") from None
    paths = []
    for name in names:
        try:
            paths.append(Path(hf_hub_download(repo_id=repo_id, filename=name, repo_type="dataset",
                                        cache_dir=cache_dir, revision=revision)))
        except Exception as err:  # noqa: BLE001 - network/auth/missing file: tell the user what failed
            raise DataError(f"hf://datasets/{repo_id}/{name}",
                            f"download failed ({type(err).__name__}: {err}); download once and point "
                            "benchmark.source at the local directory") from None
    return paths


# -------------------------------------------------------------------------------------------------------- reading


def _date_part(record: dict[str, Any], path: Path, lineno: int) -> str:
    raw = record.get("contest_date")
    try:
        return datetime.fromisoformat(str(raw)).date().isoformat()
    except ValueError:
        qid = record.get("question_id", "<no question_id>")
        raise DataError(str(path), f"{qid}: contest_date {raw!r} is not an ISO date", lineno) from None


def read_problems(paths: list[Path], filters: Filters = Filters()) -> tuple[list[Problem], dict[str, int]]:
    """Read, filter and decode problems. Returns the problems (sorted by question_id) and, per filter key, how many
    problems were still selected after that filter (to name the filter that emptied the selection)."""
    wanted_ids = set(filters.question_ids)
    stages = ["source", "question_ids", "platforms", "difficulties", "start_date", "end_date"]
    survivors = dict.fromkeys(stages, 0)
    seen: dict[str, str] = {}
    found_ids: set[str] = set()
    problems: list[Problem] = []
    for path in paths:
        for lineno, record in iter_jsonl(path):
            qid = str(record.get("question_id", "<no question_id>"))
            where = f"{path}:{lineno}"
            if qid in seen:
                raise DataError(str(path), f"{qid}: duplicate question_id (first at {seen[qid]})", lineno)
            seen[qid] = where
            survivors["source"] += 1
            date = _date_part(record, path, lineno)
            checks = (
                ("question_ids", not wanted_ids or qid in wanted_ids),
                ("platforms", not filters.platforms or record.get("platform") in filters.platforms),
                ("difficulties", not filters.difficulties or record.get("difficulty") in filters.difficulties),
                ("start_date", not filters.start_date or date >= filters.start_date),
                ("end_date", not filters.end_date or date <= filters.end_date),
            )
            keep = True
            for key, ok in checks:
                if not ok:
                    keep = False
                    break
                survivors[key] += 1
            if qid in wanted_ids:
                found_ids.add(qid)
            if not keep:
                continue
            try:
                problems.append(problem_from_record(record))
            except RecordError as err:
                raise DataError(str(path), str(err), lineno) from None
    unknown = sorted(wanted_ids - found_ids)
    if unknown:
        raise ConfigError("benchmark.question_ids", f"not in the benchmark: {', '.join(unknown[:10])}")
    problems.sort(key=lambda p: p.question_id)
    return problems, survivors


def load_problems(bench: BenchmarkConfig, base_dir: Path | None = None) -> list[Problem]:
    """The benchmark's problems after filters, sorted by question_id. An empty selection is a ConfigError naming
    the filter that removed the last problems; corrupt records are DataErrors naming file, line and question_id."""
    filters = resolve_filters(bench)
    paths = resolve_source_files(bench, base_dir)
    problems, survivors = read_problems(paths, filters)
    if not problems:
        if survivors["source"] == 0:
            raise DataError(", ".join(map(str, paths)), "no problems in the benchmark source")
        for key in ("question_ids", "platforms", "difficulties", "start_date", "end_date"):
            if survivors[key] == 0:
                name = "preset" if bench.preset and not getattr(bench, key) else key
                raise ConfigError(f"benchmark.{name}", "this filter selects no problems "
                                  f"({survivors['source']} in the source; filters: {filters})")
    return problems


def load_problems_file(path: str | os.PathLike) -> list[Problem]:
    """Every problem of a LiveCodeBench-schema JSONL file, or of a directory (all its ``*.jsonl``), sorted."""
    p = Path(path)
    if p.is_dir():
        paths = sorted(p.glob("*.jsonl"))
        if not paths:
            raise DataError(str(p), "directory holds no .jsonl files")
    elif p.is_file():
        paths = [p]
    else:
        raise DataError(str(p), "no such file or directory")
    problems, _ = read_problems(paths)
    if not problems:
        raise DataError(str(p), "no problems in the file")
    return problems
