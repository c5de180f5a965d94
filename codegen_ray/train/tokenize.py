"""Chat examples → token ids with loss labels, through the tokenizer's own chat template.

Labels are -100 everywhere except the assistant turns: each assistant message's content plus the end-of-turn token
that closes it (``<|im_end|>`` for ChatML). The spans are found on the rendered string (the conversation up to an
assistant turn, rendered with the generation prompt, is a prefix of the full rendering), then mapped to tokens via the
fast tokenizer's offsets, so the same code works for any template, with or without ``{% generation %}`` markers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..errors import UserError
from .data import ChatExample

log = logging.getLogger(__name__)

IGNORE_INDEX = -100


@dataclass(frozen=True)
class TokenizedExample:
    input_ids: tuple[int, ...]
    labels: tuple[int, ...]
    source: str

    @property
    def num_trainable(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE_INDEX)


@dataclass
class TokenizeReport:
    total: int = 0
    truncated: int = 0
    zero_label_dropped: list[str] = field(default_factory=list)  # sources of samples left with no trainable token

    @property
    def num_zero_label_dropped(self) -> int:
        return len(self.zero_label_dropped)


def check_chat_template(tokenizer: Any, model_name: str = "") -> None:
    if not getattr(tokenizer, "chat_template", None):
        raise UserError(
            f"the tokenizer of {model_name or 'the model'} has no chat template; training masks the loss by "
            "assistant turns of the chat template (use an instruct/chat model, or set tokenizer.chat_template)"
        )
    if not getattr(tokenizer, "is_fast", False):
        raise UserError(f"the tokenizer of {model_name or 'the model'} is not a fast tokenizer (offsets are needed)")


def _end_of_turn(tokenizer: Any, after_content: str) -> str:
    """The end-of-turn marker the template writes right after an assistant message's content."""
    specials = sorted({t for t in tokenizer.all_special_tokens if t}, key=len, reverse=True)
    for tok in specials:
        if after_content.startswith(tok):
            return tok
    eos = tokenizer.eos_token or ""
    if eos and after_content.startswith(eos):
        return eos
    return ""


def _render(tokenizer: Any, messages: Sequence[dict[str, str]], generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=generation_prompt)


def assistant_char_spans(tokenizer: Any, messages: Sequence[dict[str, str]]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and, for each assistant turn, the character span content + end-of-turn token."""
    full = _render(tokenizer, messages, False)
    spans: list[tuple[int, int]] = []
    cursor = 0
    for i, msg in enumerate(messages):
        if msg["role"] != "assistant":
            continue
        prefix = _render(tokenizer, messages[:i], True)
        content = msg["content"]
        if full.startswith(prefix) and full.startswith(content, len(prefix)):
            start = len(prefix)
        else:  # a template that rewrites history (e.g. strips reasoning): find the content after the last span
            start = full.find(content, cursor)
            if start < 0:
                raise UserError(
                    "the chat template changes assistant content when rendering, so the loss mask cannot be "
                    f"located (assistant turn {i}); use a template that renders assistant messages verbatim"
                )
        end = start + len(content)
        end += len(_end_of_turn(tokenizer, full[end:]))
        spans.append((start, end))
        cursor = end
    return full, spans


def tokenize_example(tokenizer: Any, example: ChatExample, max_seq_len: int) -> tuple[TokenizedExample, bool]:
    """``(tokenized, truncated)``; labels are the input ids inside assistant spans and -100 elsewhere."""
    text, spans = assistant_char_spans(tokenizer, example.messages)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(enc["input_ids"])
    labels = [IGNORE_INDEX] * len(ids)
    for t, (a, b) in enumerate(enc["offset_mapping"]):
        if b <= a:
            continue
        for s, e in spans:
            if a >= s and b <= e:
                labels[t] = ids[t]
                break
    truncated = len(ids) > max_seq_len
    if truncated:
        ids, labels = ids[:max_seq_len], labels[:max_seq_len]
    return TokenizedExample(tuple(ids), tuple(labels), example.source), truncated


def tokenize_examples(tokenizer: Any, examples: Sequence[ChatExample], max_seq_len: int,
                      what: str = "train") -> tuple[list[TokenizedExample], TokenizeReport]:
    """Tokenize every example; samples left with zero trainable tokens after truncation are dropped, counted and
    logged (never silently)."""
    check_chat_template(tokenizer)
    report = TokenizeReport()
    out: list[TokenizedExample] = []
    for ex in examples:
        report.total += 1
        tok, truncated = tokenize_example(tokenizer, ex, max_seq_len)
        report.truncated += int(truncated)
        if tok.num_trainable == 0:
            report.zero_label_dropped.append(ex.source)
            continue
        out.append(tok)
    if report.zero_label_dropped:
        log.warning(
            "%s split: dropped %d of %d samples with no trainable (assistant) token left after truncation to "
            "max_seq_len=%d (raise training.max_seq_len to keep them); first: %s",
            what, report.num_zero_label_dropped, report.total, max_seq_len,
            ", ".join(report.zero_label_dropped[:5]),
        )
    if report.truncated:
        log.info("%s split: %d of %d samples truncated to max_seq_len=%d", what, report.truncated, report.total,
                 max_seq_len)
    return out, report


def collate(batch: Sequence[TokenizedExample], pad_id: int):
    """Right-pad to the longest sequence in the batch: ``input_ids``, ``attention_mask``, ``labels`` tensors."""
    import torch

    width = max(len(ex.input_ids) for ex in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, ex in enumerate(batch):
        n = len(ex.input_ids)
        ids[i, :n] = torch.tensor(ex.input_ids, dtype=torch.long)
        labels[i, :n] = torch.tensor(ex.labels, dtype=torch.long)
        mask[i, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def pad_token_id(tokenizer: Any) -> int:
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    return 0
