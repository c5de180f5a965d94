"""Config: every shipped YAML parses, overrides apply, and each bad input names its key (no Ray, no torch)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen_ray.config import DEFAULT_CONFIG, SweepConfig, apply_override, config_from_dict, load_config, stable_hash
from codegen_ray.errors import ConfigError

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "experiments" / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_parses_and_validates(path):
    cfg = load_config(path)
    assert isinstance(cfg, SweepConfig)
    assert cfg.data.variants


def test_default_is_used_without_a_path():
    assert load_config().source_path == str(DEFAULT_CONFIG.resolve())


def test_reference_config_is_the_reference_study():
    cfg = load_config(DEFAULT_CONFIG.parent / "qwen2.5-coder-1.5b_lcb-atcoder-easy.yaml")
    assert cfg.model.name_or_path == "Qwen/Qwen2.5-Coder-1.5B-Instruct"
    assert cfg.lora.target_modules == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert [v.name for v in cfg.data.variants] == ["deep_instruction", "diverse_instruction"]
    assert all(not v.overrides for v in cfg.data.variants)
    assert cfg.benchmark.source == "livecodebench/code_generation_lite"
    assert cfg.benchmark.preset == "atcoder-easy-2407-2411"
    assert cfg.generation.backend == "vllm" and cfg.generation.n == 1
    assert (cfg.generation.temperature, cfg.generation.top_p, cfg.generation.max_tokens) == (0.2, 0.95, 2000)
    assert cfg.training.use_gpu


def test_overrides_apply_with_types():
    cfg = load_config(None, ["lora.r=4", "training.learning_rate=1e-3", "generation.stop=['x']",
                             "data.variants[0].max_samples=10", "ray.address=auto"])
    assert cfg.lora.r == 4
    assert cfg.training.learning_rate == pytest.approx(1e-3)
    assert cfg.generation.stop == ["x"]
    assert cfg.data.variants[0].max_samples == 10
    assert cfg.ray.address == "auto"


@pytest.mark.parametrize(
    "override, key",
    [
        ("lora.r=0", "lora.r"),
        ("lora.rank=8", "lora.rank"),
        ("nosuchsection.x=1", "nosuchsection"),
        ("training.epochs=three", "training.epochs"),
        ("training.epochs=1.5", "training.epochs"),
        ("training.gradient_checkpointing=maybe", "training.gradient_checkpointing"),
        ("training.warmup_ratio=1.5", "training.warmup_ratio"),
        ("data.variants[0].path=", "data.variants[0].path"),
        ("data.variants[0].name=has space", "data.variants[0].name"),
        ("data.variants[1].name=deep", "data.variants"),
        ("data.variants[0].format=csv", "data.variants[0].format"),
        ("data.variants[0].overrides={learning_rate: 0.1}", "data.variants[0].overrides"),
        ("data.variants[0].overrides={nope: 1}", "data.variants[0].overrides.nope"),
        ("data.val_fraction=1.0", "data.val_fraction"),
        ("data.variants=[]", "data.variants"),
        ("generation.top_p=0", "generation.top_p"),
        ("generation.n=0", "generation.n"),
        ("generation.backend=tgi", "generation.backend"),
        ("generation.backend=replay", "generation.replay_path"),  # replay needs its file
        ("generation.replay_path=x.jsonl", "generation.replay_path"),  # only read by backend replay
        ("execution.timeout_s=-1", "execution.timeout_s"),
        ("execution.isolation=docker", "execution.isolation"),
        ("benchmark.start_date=July", "benchmark.start_date"),
        ("benchmark.difficulties=[trivial]", "benchmark.difficulties"),
        ("benchmark.platforms=[kaggle]", "benchmark.platforms"),
        ("ray.num_cpus=0", "ray.num_cpus"),
        ("training.use_gpu=true", "training.gpus_per_worker"),
        ("training.resources_per_worker={train_node: 0}", "training.resources_per_worker.train_node"),
        ("training.resources_per_worker={GPU: 1}", "training.resources_per_worker.GPU"),
        ("training.resources_per_worker=[train_node]", "training.resources_per_worker"),
        ("generation.resources={eval_node: many}", "generation.resources.eval_node"),
        ("generation.resources={CPU: 1}", "generation.resources.CPU"),
        ("execution.resources={eval_node: -1}", "execution.resources.eval_node"),
        ('execution.resources={"node:127.0.0.1": 1}', "execution.resources.node:127.0.0.1"),
    ],
)
def test_bad_values_name_their_key(override, key):
    with pytest.raises(ConfigError) as err:
        load_config(None, [override])
    assert err.value.key == key
    assert key in str(err.value)


def test_custom_ray_resources_are_mappings_of_amounts():
    cfg = load_config(None, ["training.resources_per_worker={train_node: 1}", "generation.resources.eval_node=0.5",
                             "execution.resources={eval_node: 2, sandbox: 1}"])
    assert cfg.training.resources_per_worker == {"train_node": 1.0}
    assert cfg.generation.resources == {"eval_node": 0.5}
    assert cfg.execution.resources == {"eval_node": 2.0, "sandbox": 1.0}
    default = load_config()
    assert default.training.resources_per_worker == default.generation.resources == default.execution.resources == {}


def test_per_variant_overrides_need_the_explicit_flag():
    cfg = load_config(None, ["data.allow_hyperparameter_overrides=true",
                             "data.variants[0].overrides={learning_rate: 0.1}"])
    assert cfg.training_for(cfg.data.variants[0]).learning_rate == 0.1
    assert cfg.training_for(cfg.data.variants[1]).learning_rate == cfg.training.learning_rate


def test_missing_config_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_malformed_override_is_rejected():
    with pytest.raises(ConfigError):
        apply_override({}, "no_equals_sign")


def test_stable_hash_is_stable_and_sensitive():
    a, b = load_config(), load_config()
    assert stable_hash(a.to_dict()) == stable_hash(b.to_dict())
    assert stable_hash(load_config(None, ["lora.r=4"]).to_dict()) != stable_hash(a.to_dict())
    assert stable_hash({"z": 1, "a": [1, 2]}) == stable_hash({"a": [1, 2], "z": 1})  # key order does not matter


def test_root_must_be_a_mapping():
    with pytest.raises(ConfigError):
        config_from_dict(["not", "a", "mapping"])  # type: ignore[arg-type]


@pytest.mark.parametrize("index", [0, 1])
def test_reserved_variant_name_is_a_config_error(index):
    """A variant named ``base`` would be taken for the base model (and silently never chosen as a best checkpoint)."""
    with pytest.raises(ConfigError) as err:
        load_config(None, [f"data.variants[{index}].name=base"])
    assert err.value.key == f"data.variants[{index}].name"
    assert "reserved" in str(err.value) and "base" in str(err.value)


@pytest.mark.parametrize("name", [".", "..", ".hidden"])
def test_variant_name_cannot_start_with_a_dot(name):
    with pytest.raises(ConfigError) as err:
        load_config(None, [f"data.variants[0].name={name}"])
    assert err.value.key == "data.variants[0].name"


def test_replay_backend_config():
    cfg = load_config(None, ["generation.backend=replay", "generation.replay_path=replay.jsonl"])
    assert cfg.generation.backend == "replay" and cfg.generation.replay_path == "replay.jsonl"


def test_hf_max_adapters_is_its_own_key_and_a_resource_setting():
    from codegen_ray.sweep.keys import evaluation_key

    with pytest.raises(ConfigError, match="generation.hf_max_adapters"):
        load_config(None, ["generation.hf_max_adapters=0"])
    one = load_config(None, ["generation.hf_max_adapters=1"])
    assert one.generation.hf_max_adapters == 1 and one.generation.vllm.max_loras == load_config().generation.vllm.max_loras
    # How many adapters stay loaded does not change what is generated: the evaluation key ignores it.
    assert evaluation_key(one) == evaluation_key(load_config())
