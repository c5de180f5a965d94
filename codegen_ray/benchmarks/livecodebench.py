"""LiveCodeBench behind the benchmark interface: an adapter over :mod:`codegen_ray.lcb` (which holds the rules)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional, Sequence

from ..errors import UserError
from ..types import Completion, Problem, ProgramVerdict, Prompt
from .base import Benchmark, GradeFileReport, GradeFileRequest

# The keys of benchmark.* that are not LiveCodeBench's (left out of its evaluation key), and those that say where the
# problems come from (the key holds what they identify instead: the files' content, or the hub name and revision).
_OTHER_KEYS = ("name", "humaneval")
_SOURCE_KEYS = ("source", "release", "revision")


class LiveCodeBench(Benchmark):
    name = "livecodebench"
    title = "LiveCodeBench"

    def __init__(self, cfg: Any):
        self.cfg = cfg

    @property
    def _base_dir(self) -> Optional[Path]:
        """Relative local sources resolve against the config file's directory."""
        return Path(self.cfg.source_path).parent if self.cfg.source_path else None

    def load_problems(self) -> list[Problem]:
        from ..lcb.dataset import load_problems

        return load_problems(self.cfg.benchmark, base_dir=self._base_dir)

    def statements(self, problems: Sequence[Problem]) -> dict[str, str]:
        return {p.question_id: p.question_content for p in problems}

    def count_tests(self, problems: Sequence[Problem]) -> int:
        return sum(len(p.tests) for p in problems)

    def build_prompts(self, problems: Sequence[Problem]) -> list[Prompt]:
        from ..lcb.prompts import build_prompt, resolve_prompt_style

        style = resolve_prompt_style(self.cfg.benchmark.prompt_style, self.cfg.model.name_or_path)
        return [build_prompt(p, style) for p in problems]

    def extract_program(self, problem: Problem, completion: str) -> str:
        from ..lcb.extraction import extract_code

        return extract_code(completion)

    def grader(self) -> Any:
        from ..lcb.grading import LcbGrader

        return LcbGrader.from_execution_config(self.cfg.execution)

    def sample_results_path(self, directory: Path, stem: str) -> Path:
        return directory / f"{stem}_eval_all.json"

    def write_sample_results(self, directory: Path, stem: str, problems: Sequence[Problem],
                             completions: Sequence[Sequence[Completion]], codes: Sequence[Sequence[str]],
                             verdicts: Sequence[Sequence[ProgramVerdict]]) -> Path:
        from ..lcb.compat import write_eval_all

        return write_eval_all(self.sample_results_path(directory, stem), list(problems),
                              [[c.text for c in cs] for cs in completions], [list(c) for c in codes],
                              [list(v) for v in verdicts])

    def source_label(self) -> str:
        return self.cfg.benchmark.source

    def key_data(self) -> dict[str, Any]:
        from ..lcb.dataset import source_identity

        data = dataclasses.asdict(self.cfg.benchmark)
        for key in _OTHER_KEYS + _SOURCE_KEYS:
            data.pop(key, None)
        data["source"] = source_identity(self.cfg.benchmark, base_dir=self._base_dir)
        return data

    def selection_end_date(self) -> Optional[str]:
        return self.cfg.benchmark.selection_end_date

    @classmethod
    def grade_file(cls, request: GradeFileRequest) -> GradeFileReport:
        from ..lcb.grade_cli import grade_samples

        if request.problems is None:
            raise UserError("--problems is required with --benchmark livecodebench (a LiveCodeBench-schema JSONL "
                            "file or directory mirror)")
        if request.output is None:
            raise UserError("--output is required with --benchmark livecodebench (the _eval_all.json-shaped file)")
        exec_cfg = request.exec_cfg
        if request.timeout_s is not None:
            exec_cfg = dataclasses.replace(exec_cfg, timeout_s=request.timeout_s)
        return grade_samples(request.problems, request.samples, request.output, exec_cfg, request.workers)
