"""Training rows of a variant: load (local JSONL / JSON / parquet, hub datasets, builtin:NAME), normalise to chat
messages, report bad rows with file and line, cap with a seeded shuffle, and split deterministically.

Everything here is pure Python (no torch, no Ray); ``datasets`` / ``pyarrow`` are imported only for hub and parquet
sources.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from ..builtin import BUILTIN_DATA_PREFIX, builtin_data_path
from ..config import DataConfig, SweepConfig, VariantConfig
from ..errors import DataError

log = logging.getLogger(__name__)

ROLES = ("system", "user", "assistant")
# ShareGPT-style role names → ours.
_ROLE_ALIASES = {"human": "user", "gpt": "assistant", "model": "assistant", "bot": "assistant"}
_LOCAL_SUFFIXES = (".jsonl", ".json", ".parquet")
MAX_LISTED_BAD_ROWS = 5


@dataclass(frozen=True)
class ChatExample:
    """One training conversation, normalised to ``{"role", "content"}`` messages; ``source`` is ``file:line``."""

    messages: tuple[dict[str, str], ...]
    source: str

    @property
    def text(self) -> str:
        """All message contents, for contamination checks against benchmark statements."""
        return "\n".join(m["content"] for m in self.messages)

    @property
    def key(self) -> str:
        """Content hash (sha256 of the canonical messages): equal conversations share a key."""
        blob = json.dumps([[m["role"], m["content"]] for m in self.messages], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {"messages": [dict(m) for m in self.messages], "source": self.source}


@dataclass(frozen=True)
class BadRow:
    path: str
    line: Optional[int]
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


@dataclass
class DataSplits:
    train: list[ChatExample]
    val: list[ChatExample]
    test: list[ChatExample]

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


@dataclass
class LoadReport:
    """What happened to a variant's rows on the way in (logged, and written next to the splits)."""

    source: str
    rows_read: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    capped_from: Optional[int] = None

    @property
    def num_bad(self) -> int:
        return len(self.bad_rows)


class _BadRowError(Exception):
    """A row failed normalisation (internal; collected into a DataError or skipped)."""


# ----------------------------------------------------------------------------------------------------- raw rows
def _iter_jsonl(path: Path) -> Iterator[tuple[int, Any, Optional[str]]]:
    """Yield ``(line, obj, error)`` for every non-blank line; ``error`` is set when the line does not parse."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                yield lineno, None, f"not valid UTF-8 ({err.reason} at byte {err.start})"
                continue
            if not text.strip():
                continue
            try:
                yield lineno, json.loads(text), None
            except json.JSONDecodeError as err:
                yield lineno, None, f"invalid JSON (truncated line?): {err.msg} at column {err.colno}"


def _iter_json_array(path: Path) -> Iterator[tuple[int, Any, Optional[str]]]:
    """A JSON file holding a list of rows; each row is reported by the line it starts on."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(str(path), f"not valid UTF-8 ({err.reason} at byte {err.start})") from None
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, 0)
    if pos >= len(text) or text[pos] != "[":
        # Not an array: maybe JSON Lines saved as .json.
        yield from _iter_jsonl(path)
        return
    pos = _skip_ws(text, pos + 1)
    if pos < len(text) and text[pos] == "]":
        return
    while pos < len(text):
        line = text.count("\n", 0, pos) + 1
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            raise DataError(str(path), f"invalid JSON: {err.msg}", line=err.lineno) from None
        yield line, obj, None
        pos = _skip_ws(text, end)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
        elif pos < len(text) and text[pos] == "]":
            return
        else:
            raise DataError(str(path), "invalid JSON: expected ',' or ']' between rows",
                            line=text.count("\n", 0, pos) + 1)
    raise DataError(str(path), "invalid JSON: unterminated array (truncated file?)", line=text.count("\n") + 1)


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _iter_parquet(path: Path) -> Iterator[tuple[int, Any, Optional[str]]]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    for i, row in enumerate(table.to_pylist(), start=1):
        yield i, row, None


def _iter_hub(variant: VariantConfig) -> Iterator[tuple[int, Any, Optional[str]]]:
    import datasets

    ds = datasets.load_dataset(variant.path, split=variant.split, revision=variant.revision)
    for i, row in enumerate(ds, start=1):
        yield i, row, None


def resolve_variant_source(cfg: SweepConfig, variant: VariantConfig) -> tuple[str, Optional[Path]]:
    """``(display name, local file)``; the local file is None for a hub dataset."""
    path = variant.path
    if path.startswith(BUILTIN_DATA_PREFIX):
        local = Path(builtin_data_path(path[len(BUILTIN_DATA_PREFIX):]))
        return str(local), local
    local = cfg.resolve_path(path)
    if local.exists():
        if local.is_dir():
            raise DataError(str(local), "is a directory; point data.variants[].path at a .jsonl, .json or .parquet file")
        return str(local), local
    if path.endswith(_LOCAL_SUFFIXES) or path.startswith((".", "/", "~")):
        raise DataError(str(local), "no such file")
    return f"hub:{path}@{variant.split}", None


def _iter_raw(cfg: SweepConfig, variant: VariantConfig) -> tuple[str, Iterator[tuple[int, Any, Optional[str]]]]:
    display, local = resolve_variant_source(cfg, variant)
    if local is None:
        return display, _iter_hub(variant)
    suffix = local.suffix.lower()
    if suffix == ".parquet":
        return display, _iter_parquet(local)
    if suffix == ".json":
        return display, _iter_json_array(local)
    return display, _iter_jsonl(local)


# ---------------------------------------------------------------------------------------------------- normalise
def _field(row: dict[str, Any], variant: VariantConfig, name: str, required: bool = True) -> Any:
    column = variant.field_map.get(name, name)
    if column not in row or row[column] is None:
        if required:
            raise _BadRowError(f"missing field {column!r}" + (f" (mapped from {name!r})" if column != name else ""))
        return None
    return row[column]


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _BadRowError(f"{what} must be a string, got {type(value).__name__}")
    return value


def _normalise_message(msg: Any, index: int) -> dict[str, str]:
    if not isinstance(msg, dict):
        raise _BadRowError(f"messages[{index}] must be an object, got {type(msg).__name__}")
    role = msg.get("role", msg.get("from"))
    content = msg.get("content", msg.get("value"))
    if role is None:
        raise _BadRowError(f"messages[{index}] has no 'role'")
    if content is None:
        raise _BadRowError(f"messages[{index}] has no 'content'")
    role = _ROLE_ALIASES.get(_string(role, f"messages[{index}].role"), role)
    if role not in ROLES:
        raise _BadRowError(f"messages[{index}].role must be one of {', '.join(ROLES)}, got {role!r}")
    return {"role": role, "content": _string(content, f"messages[{index}].content")}


def normalise_row(row: Any, variant: VariantConfig) -> tuple[dict[str, str], ...]:
    """One raw row → chat messages, or :class:`_BadRowError` naming what is wrong."""
    if not isinstance(row, dict):
        raise _BadRowError(f"a row must be a JSON object, got {type(row).__name__}")
    system = _field(row, variant, "system", required=False)
    if variant.format == "messages":
        raw = _field(row, variant, "messages")
        if not isinstance(raw, list):
            raise _BadRowError(f"messages must be a list, got {type(raw).__name__}")
        messages = [_normalise_message(m, i) for i, m in enumerate(raw)]
    elif variant.format == "alpaca":
        instruction = _string(_field(row, variant, "instruction"), "instruction")
        extra = _field(row, variant, "input", required=False)
        extra = _string(extra, "input") if extra is not None else ""
        output = _string(_field(row, variant, "output"), "output")
        user = f"{instruction}\n\n{extra}" if extra.strip() else instruction
        messages = [{"role": "user", "content": user}, {"role": "assistant", "content": output}]
    else:  # prompt_completion
        prompt = _string(_field(row, variant, "prompt"), "prompt")
        completion = _string(_field(row, variant, "completion"), "completion")
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}]
    if system is not None and not (messages and messages[0]["role"] == "system"):
        messages.insert(0, {"role": "system", "content": _string(system, "system")})
    if variant.system_prompt and not (messages and messages[0]["role"] == "system"):
        messages.insert(0, {"role": "system", "content": variant.system_prompt})
    answers = [m for m in messages if m["role"] == "assistant"]
    if not answers:
        raise _BadRowError("no assistant turn (nothing to train on)")
    for i, m in enumerate(messages):
        if m["role"] == "assistant" and not m["content"].strip():
            raise _BadRowError(f"empty answer (messages[{i}], assistant)")
    if not any(m["role"] == "user" for m in messages):
        raise _BadRowError("no user turn")
    return tuple(messages)


# ------------------------------------------------------------------------------------------------------- public
def load_variant_rows(cfg: SweepConfig, variant: VariantConfig, report: LoadReport | None = None) -> list[ChatExample]:
    """The rows a variant trains on (before the split): bad rows handled per ``data.bad_rows``, ``max_samples`` applied
    with a shuffle seeded by ``data.split_seed``. Raises :class:`DataError` (file:line of the first bad rows)."""
    display, rows = _iter_raw(cfg, variant)
    report = report if report is not None else LoadReport(source=display)
    report.source = display
    examples: list[ChatExample] = []
    try:
        for line, obj, error in rows:
            report.rows_read += 1
            try:
                if error is not None:
                    raise _BadRowError(error)
                messages = normalise_row(obj, variant)
            except _BadRowError as err:
                report.bad_rows.append(BadRow(display, line, str(err)))
                continue
            examples.append(ChatExample(messages=messages, source=f"{display}:{line}"))
    except OSError as err:  # unreadable file (permissions, I/O error): a user error naming the file
        raise DataError(display, f"cannot read: {err.strerror or err}") from None
    if report.bad_rows:
        listed = "; ".join(str(b) for b in report.bad_rows[:MAX_LISTED_BAD_ROWS])
        more = report.num_bad - MAX_LISTED_BAD_ROWS
        summary = f"{report.num_bad} bad row(s) in variant {variant.name!r}: {listed}" + (
            f"; and {more} more" if more > 0 else "")
        if cfg.data.bad_rows == "fail":
            first = report.bad_rows[0]
            raise DataError(display, summary + " (set data.bad_rows=skip to drop them)", line=first.line)
        log.warning("skipping %s", summary)
    if not examples:
        raise DataError(display, f"variant {variant.name!r} has no usable rows")
    if variant.max_samples is not None and len(examples) > variant.max_samples:
        report.capped_from = len(examples)
        rng = random.Random(cfg.data.split_seed)
        order = list(range(len(examples)))
        rng.shuffle(order)
        examples = [examples[i] for i in sorted(order[: variant.max_samples])]
    return examples


def split_rows(rows: list[ChatExample], data: DataConfig) -> DataSplits:
    """Deterministic, machine-independent split: rows are ordered by sha256(split_seed, content) and cut by the
    configured fractions (val/test get at least one row when their fraction is > 0 and rows remain for training).
    Identical conversations land in the same split, so duplicates never leak between train and validation."""

    def order_key(ex: ChatExample) -> tuple[str, str]:
        h = hashlib.sha256(f"{data.split_seed}\0{ex.key}".encode()).hexdigest()
        return h, ex.source

    ordered = sorted(rows, key=order_key)
    n = len(ordered)

    def count(fraction: float) -> int:
        return 0 if fraction <= 0 else max(1, round(n * fraction))

    n_val, n_test = count(data.val_fraction), count(data.test_fraction)
    if n - n_val - n_test < 1:
        raise DataError("<split>", f"{n} row(s) cannot be split into train/val/test with val_fraction="
                        f"{data.val_fraction}, test_fraction={data.test_fraction}: no training rows would remain")
    # Keep duplicates together: move a cut forward past rows whose key equals the last row of the previous part.
    cuts = [n_val, n_val + n_test]
    for i, c in enumerate(cuts):
        while 0 < c < n and ordered[c].key == ordered[c - 1].key:
            c += 1
        cuts[i] = max(c, cuts[i - 1] if i else 0)
    val, test, train = ordered[: cuts[0]], ordered[cuts[0]: cuts[1]], ordered[cuts[1]:]
    if not train:
        raise DataError("<split>", "no training rows remain after the split")
    # Keep the file order inside each split (easier to read when inspecting the written files).
    position = {id(ex): i for i, ex in enumerate(rows)}
    return DataSplits(*(sorted(part, key=lambda ex: position[id(ex)]) for part in (train, val, test)))


def write_splits(splits: DataSplits, directory: Path) -> dict[str, Path]:
    """Write ``train.jsonl`` / ``val.jsonl`` / ``test.jsonl`` (messages + source) for inspection."""
    directory.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for name in ("train", "val", "test"):
        path = directory / f"{name}.jsonl"
        tmp = path.with_suffix(".jsonl.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for ex in getattr(splits, name):
                fh.write(json.dumps(ex.to_json(), ensure_ascii=False) + "\n")
        tmp.replace(path)
        out[name] = path
    return out


def read_split(path: Path) -> list[ChatExample]:
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            rows.append(ChatExample(messages=tuple(obj["messages"]), source=obj["source"]))
    return rows
