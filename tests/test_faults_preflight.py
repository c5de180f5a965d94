"""Bad input is refused up front, through the real CLI, before Ray starts: one line on stderr naming the key or the
file (and line, for data), exit status 2, no traceback (unless ``--debug``), and nothing written under output.root.

Each test is one bad input. Config-value errors in general are covered key by key in tests/test_config.py; bad
training rows in tests/test_train_data.py; bad ``grade`` samples files in tests/test_lcb_grade_cli.py. The cases
here go through ``codegen_ray.cli.main`` (what ``python experiments/sweep.py`` calls), most without ``--dry-run``, so
they prove the full run stops in preflight: the tests never start Ray (a failing check would start a sweep, not
pass silently).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codegen_ray import cli
from codegen_ray.errors import ConfigError, DataError

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "codegen_ray" / "assets" / "data" / "atcoder_mini.jsonl"
GOOD_ROW = {"messages": [{"role": "user", "content": "Read N and print N+1."},
                         {"role": "assistant", "content": "print(int(input()) + 1)"}]}


@pytest.fixture(scope="module")
def sweep_model(cache_dir) -> Path:
    """The tiny model where the sweep looks for it (``model.cache_dir``/models); its one-time build prints progress."""
    from codegen_ray.assets.tiny_model import ensure_tiny_model

    return ensure_tiny_model(cache_dir / "models")


@pytest.fixture
def run_cli(tmp_path, cache_dir, sweep_model, capsys):
    """``run_cli(*args, dry_run=False) -> (exit status, stderr lines)`` with outputs under tmp_path/results."""

    def run(*args: str, dry_run: bool = False) -> tuple[int, list[str]]:
        argv = ["sweep", *(["--dry-run"] if dry_run else []), *args,
                f"output.root={tmp_path / 'results'}", f"model.cache_dir={cache_dir}", "tracking.enabled=false"]
        capsys.readouterr()
        rc = cli.main(argv)
        err = capsys.readouterr().err
        return rc, [line for line in err.splitlines() if line.strip()]

    return run


def _files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _assert_refused(rc: int, lines: list[str], *needles: str) -> None:
    assert rc == 2, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("codegen-ray: ") and "Traceback" not in lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def _write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def _good() -> bytes:
    return json.dumps(GOOD_ROW).encode()


# ------------------------------------------------------------------------------------------------ config and data
def test_config_error_through_the_cli_names_the_key(run_cli, tmp_path):
    rc, lines = run_cli("lora.r=0")
    _assert_refused(rc, lines, "lora.r")
    assert _files_under(tmp_path / "results") == []


def test_missing_data_file_is_named(run_cli, tmp_path):
    missing = tmp_path / "nope.jsonl"
    rc, lines = run_cli(f"data.variants[0].path={missing}")
    _assert_refused(rc, lines, str(missing), "no such file")
    assert _files_under(tmp_path / "results") == []


def test_unreadable_data_file_is_named(run_cli, tmp_path):
    # We may run as root (chmod does not stop reads): a file whose read fails with EIO stands in for it.
    unreadable = tmp_path / "unreadable.jsonl"
    unreadable.symlink_to("/proc/self/mem")
    rc, lines = run_cli(f"data.variants[0].path={unreadable}")
    _assert_refused(rc, lines, str(unreadable), "cannot read")


def test_data_path_that_is_a_directory_is_named(run_cli, tmp_path):
    d = tmp_path / "rows.jsonl"
    d.mkdir()
    rc, lines = run_cli(f"data.variants[1].path={d}")
    _assert_refused(rc, lines, str(d), "is a directory")


def test_empty_variant_file_is_named(run_cli, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    rc, lines = run_cli(f"data.variants[0].path={empty}")
    _assert_refused(rc, lines, str(empty), "no usable rows", "'deep'")


def test_truncated_jsonl_line_names_file_and_line(run_cli, tmp_path):
    f = _write_lines(tmp_path / "trunc.jsonl", [_good(), _good(), _good()[:40]])
    rc, lines = run_cli(f"data.variants[0].path={f}")
    _assert_refused(rc, lines, f"{f}:3", "invalid JSON")
    assert _files_under(tmp_path / "results") == []


def test_wrong_types_in_a_row_name_file_and_line(run_cli, tmp_path):
    bad = json.dumps({"messages": [{"role": "user", "content": 7}, {"role": "assistant", "content": "x"}]}).encode()
    f = _write_lines(tmp_path / "types.jsonl", [_good(), bad])
    rc, lines = run_cli(f"data.variants[0].path={f}")
    _assert_refused(rc, lines, f"{f}:2")


def test_non_utf8_bytes_name_file_and_line(run_cli, tmp_path):
    f = _write_lines(tmp_path / "latin1.jsonl", [_good(), _good(), b'{"messages": "caf\xe9"}'])
    rc, lines = run_cli(f"data.variants[1].path={f}")
    _assert_refused(rc, lines, f"{f}:3", "UTF-8")


# ------------------------------------------------------------------------------------------------------ benchmark
def test_benchmark_filter_selecting_nothing_names_the_key(run_cli):
    rc, lines = run_cli("benchmark.start_date=2031-01-01")
    _assert_refused(rc, lines, "benchmark.start_date", "selects no problems")


def test_corrupt_private_test_cases_names_file_line_and_question(run_cli, tmp_path):
    records = [json.loads(line) for line in BENCH.read_text().splitlines() if line.strip()]
    victim = records[2]
    victim["private_test_cases"] = victim["private_test_cases"][:-12] + "%%%not-base64"
    f = tmp_path / "bench.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in records))
    rc, lines = run_cli(f"benchmark.source={f}")
    _assert_refused(rc, lines, f"{f}:3", victim["question_id"], "private_test_cases")
    assert _files_under(tmp_path / "results") == []


def test_truncated_benchmark_record_names_file_and_line(run_cli, tmp_path):
    text = BENCH.read_text().splitlines()
    f = tmp_path / "bench.jsonl"
    f.write_text("\n".join(text[:4] + [text[4][: len(text[4]) // 2]]) + "\n")
    rc, lines = run_cli(f"benchmark.source={f}")
    _assert_refused(rc, lines, f"{f}:5")


def test_non_utf8_benchmark_names_file_and_line(run_cli, tmp_path):
    text = BENCH.read_bytes().splitlines()
    f = _write_lines(tmp_path / "bench.jsonl", text[:1] + [text[1].replace(b"Print", b"Pr\xffint", 1)])
    rc, lines = run_cli(f"benchmark.source={f}")
    _assert_refused(rc, lines, f"{f}:2", "UTF-8")


# ---------------------------------------------------------------------------------------------- model, output, Ray
def test_missing_lora_target_module_names_the_key(run_cli):
    rc, lines = run_cli("lora.target_modules=[q_proj, qkv_fused]")
    _assert_refused(rc, lines, "lora.target_modules", "qkv_fused")


def test_tokenizer_without_chat_template_names_the_model(run_cli, tiny_model_path, tmp_path):
    model = tmp_path / "no-template"
    shutil.copytree(tiny_model_path, model)
    (model / "chat_template.jinja").unlink(missing_ok=True)
    tok_cfg = model / "tokenizer_config.json"
    data = json.loads(tok_cfg.read_text())
    data.pop("chat_template", None)
    tok_cfg.write_text(json.dumps(data))
    rc, lines = run_cli(f"model.name_or_path={model}")
    _assert_refused(rc, lines, str(model), "chat template")


@pytest.mark.parametrize("where", ["under-a-file", "proc"])
def test_unwritable_output_root_names_the_key(run_cli, tmp_path, capsys, cache_dir, sweep_model, where):
    # We may run as root (chmod does not stop writes): a path below a regular file, or in /proc, cannot be created.
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    root = blocker / "results" if where == "under-a-file" else Path("/proc/codegen-ray-results")
    capsys.readouterr()
    rc = cli.main(["sweep", f"output.root={root}", f"model.cache_dir={cache_dir}", "tracking.enabled=false"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    _assert_refused(rc, lines, "output.root", str(root))


@pytest.mark.parametrize("address", ["127.0.0.1:1", "ray://127.0.0.1:1"])
def test_unreachable_ray_address_names_the_key(run_cli, address):
    # Not a dry run: without the preflight check ray.init retries an unreachable address for minutes.
    import ray

    was_initialized = ray.is_initialized()  # other test modules may share a local Ray in this process
    rc, lines = run_cli("--address", address)
    _assert_refused(rc, lines, "ray.address", address)
    assert ray.is_initialized() == was_initialized


def test_malformed_ray_address_names_the_key(run_cli):
    rc, lines = run_cli("ray.address=just-a-host", dry_run=True)
    _assert_refused(rc, lines, "ray.address")


# ----------------------------------------------------------------------------------- replay backend, reserved names
def _dry_run_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert cli.main(["sweep", "--dry-run", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)  # stdout is exactly one JSON object


def _replay_rows(plan: dict) -> list[dict]:
    checkpoints = [(plan["base"]["variant"], plan["base"]["step"])] + [
        (v["name"], c["step"]) for v in plan["variants"] for c in v["checkpoints"]]
    return [{"variant": v, "step": s, "question_id": q, "completions": ["print(1)"]}
            for v, s in checkpoints for q in plan["benchmark"]["question_ids"]]


def test_replay_file_missing_a_row_names_variant_step_and_question(run_cli, tmp_path, capsys, cache_dir):
    plan = _dry_run_json(capsys, f"output.root={tmp_path / 'dry'}", f"model.cache_dir={cache_dir}")
    rows = _replay_rows(plan)
    replay = tmp_path / "replay.jsonl"
    replay.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rc, lines = run_cli("generation.backend=replay", f"generation.replay_path={replay}", dry_run=True)
    assert rc == 0, lines  # the complete file passes the check
    gone = rows.pop(len(rows) // 2)
    replay.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rc, lines = run_cli("generation.backend=replay", f"generation.replay_path={replay}")  # a real run: refused
    _assert_refused(rc, lines, str(replay), f"variant {gone['variant']!r}", f"step {gone['step']}",
                    f"question {gone['question_id']!r}")
    assert _files_under(tmp_path / "results") == []


def test_replay_file_that_does_not_exist_names_the_key(run_cli, tmp_path):
    rc, lines = run_cli("generation.backend=replay", f"generation.replay_path={tmp_path / 'none.jsonl'}")
    _assert_refused(rc, lines, "generation.replay_path", "no such file")


def test_replay_row_with_the_wrong_sample_count_names_file_and_line(run_cli, tmp_path, capsys, cache_dir):
    rows = _replay_rows(_dry_run_json(capsys, f"output.root={tmp_path / 'dry'}", f"model.cache_dir={cache_dir}"))
    rows[3]["completions"] = ["a", "b"]
    replay = tmp_path / "replay.jsonl"
    replay.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rc, lines = run_cli("generation.backend=replay", f"generation.replay_path={replay}")
    _assert_refused(rc, lines, f"{replay}:4", "2 completion(s)", "generation.n is 1")


def test_reserved_variant_name_through_the_cli(run_cli):
    rc, lines = run_cli("data.variants[1].name=base")
    _assert_refused(rc, lines, "data.variants[1].name", "reserved")


def test_json_needs_dry_run(run_cli):
    rc, lines = run_cli("--json")
    _assert_refused(rc, lines, "--json", "--dry-run")


# ------------------------------------------------------------------------------------------- --debug, the process
def test_debug_shows_the_exception_instead(tmp_path, cache_dir, sweep_model):
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(DataError) as info:
        cli.main(["sweep", "--debug", f"data.variants[0].path={missing}", f"output.root={tmp_path / 'r'}",
                  f"model.cache_dir={cache_dir}"])
    assert info.value.path == str(missing)
    with pytest.raises(ConfigError) as info:
        cli.main(["sweep", "--debug", "--dry-run", "lora.r=0"])
    assert info.value.key == "lora.r"


def test_real_process_prints_one_line_and_exits_2(tmp_path, cache_dir, sweep_model):
    f = _write_lines(tmp_path / "bad.jsonl", [_good(), b'{"messages": [}'])
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    proc = subprocess.run(
        [sys.executable, str(REPO / "experiments" / "sweep.py"), f"data.variants[0].path={f}",
         f"output.root={tmp_path / 'results'}", f"model.cache_dir={cache_dir}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"{f}:2" in lines[0], proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert _files_under(tmp_path / "results") == [] and not (tmp_path / "mlflow.db").exists()


def test_dry_run_json_is_the_only_thing_on_stdout(tmp_path, cache_dir, sweep_model):
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    proc = subprocess.run(
        [sys.executable, str(REPO / "experiments" / "sweep.py"), "--dry-run", "--json",
         f"output.root={tmp_path / 'results'}", f"model.cache_dir={cache_dir}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    plan = json.loads(proc.stdout)  # one JSON object and nothing else
    assert plan["schema"] == "codegen_ray.plan/2"
    # Each variant's training key and the evaluation key: the ones the sweep files its results under.
    from codegen_ray.config import load_config
    from codegen_ray.sweep.keys import evaluation_key, training_keys

    cfg = load_config(None, [f"output.root={tmp_path / 'results'}", f"model.cache_dir={cache_dir}"])
    assert {v["name"]: v["training_key"] for v in plan["variants"]} == training_keys(cfg)
    assert plan["evaluation_key"] == evaluation_key(cfg)
    assert plan["base"] == {"variant": "base", "name": "base", "step": 0, "epoch": 0}
    for v in plan["variants"]:
        assert v["checkpoints"] and all(
            c["name"] == f"checkpoint-step-{c['step']}-epoch-{c['epoch']}" for c in v["checkpoints"])
    assert plan["evaluation_trials"] == 1 + sum(len(v["checkpoints"]) for v in plan["variants"])
    assert len(plan["benchmark"]["question_ids"]) == plan["benchmark"]["problems"]
    assert _files_under(tmp_path / "results") == []
