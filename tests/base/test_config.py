import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from superpose.base.config import load_yaml
from superpose.base.errors import SuperposeError
from superpose.toy.config import ToyConfig

GOOD = {
    "model": "relu_output",
    "n_features": 5,
    "n_hidden": 2,
    "features": {"sparsity": [0.0, 0.9]},
    "importance_decay": 0.9,
    "train": {"steps": 10},
}


def write(tmp_path, data, name="cfg.yaml"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def test_good_config_loads_and_is_frozen(tmp_path):
    cfg = load_yaml(ToyConfig, write(tmp_path, GOOD))
    assert cfg.instances == 2
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        cfg.n_hidden = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"n_hidden": 0}, "n_hidden", "greater than or equal to 1"),
        ({"bogus": 1}, "bogus", "unknown field"),
        ({"features": {"sparsity": 1.0}}, "features.sparsity", "[0, 1)"),
        ({"features": {"sparsity": -0.1}}, "features.sparsity", "[0, 1)"),
        ({"importance": -1.0}, "importance", "[0, inf)"),
        ({"model": "cnn"}, "model", "linear"),
        ({"train": {"steps": 0}}, "train.steps", "greater than or equal to 1"),
        ({"train": {"lr": -1}}, "train.lr", "greater than 0"),
    ],
)
def test_bad_config_names_file_field_and_range(tmp_path, change, field, words):
    data = {**GOOD, **change}
    path = write(tmp_path, data)
    with pytest.raises(SuperposeError) as info:
        load_yaml(ToyConfig, path)
    msg = str(info.value)
    assert str(path) in msg and f"'{field}" in msg and words in msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    "change",
    [
        {"importance": [1.0, 0.5], "importance_decay": None},  # 2 per-feature values, 5 features
        {"importance": [[1.0] * 5, [1.0] * 4], "importance_decay": None},  # ragged rows
        {"features": {"sparsity": [[0.5] * 5, [0.5] * 6]}},
    ],
)
def test_per_feature_lists_must_fit_n_features(tmp_path, change):
    """Caught by the config, not as a tensor error from torch when training starts."""
    with pytest.raises(SuperposeError, match="values per instance, n_features is 5"):
        load_yaml(ToyConfig, write(tmp_path, {**GOOD, **change}))


def test_inconsistent_instance_counts(tmp_path):
    data = {**GOOD, "n_instances": 3}
    with pytest.raises(SuperposeError, match="n_instances"):
        load_yaml(ToyConfig, write(tmp_path, data))


def test_unreadable_and_invalid_yaml(tmp_path):
    with pytest.raises(SuperposeError, match="cannot read"):
        load_yaml(ToyConfig, tmp_path / "missing.yaml")
    with pytest.raises(SuperposeError, match="not valid YAML"):
        load_yaml(ToyConfig, write(tmp_path, "a: [1, 2\n"))
    with pytest.raises(SuperposeError, match="mapping"):
        load_yaml(ToyConfig, write(tmp_path, "- 1\n- 2\n"))


def test_replace_with_dotted_keys():
    cfg = ToyConfig(**GOOD)
    new = cfg.replace(**{"train.steps": 20, "n_hidden": 3})
    assert new.train.steps == 20 and new.n_hidden == 3 and cfg.train.steps == 10
    assert new.config_hash() != cfg.config_hash()
    with pytest.raises(SuperposeError, match="unknown config field"):
        cfg.replace(**{"train.nope": 1})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-2, 2) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(
    key=st.sampled_from([*GOOD.keys(), "seed", "device", "importance", "n_instances", "zzz"]),
    value=json_values,
)
def test_malformed_configs_end_in_one_clean_error(tmp_path_factory, key, value):
    path = tmp_path_factory.mktemp("cfg") / "c.yaml"
    path.write_text(yaml.safe_dump({**GOOD, key: value}))
    try:
        cfg = load_yaml(ToyConfig, path)
    except SuperposeError as err:
        assert "\n" not in str(err) and str(path) in str(err)
    else:
        assert isinstance(cfg, ToyConfig)


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=60))
def test_arbitrary_text_files_end_in_one_clean_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cfg") / "c.yaml"
    path.write_text(text)
    try:
        load_yaml(ToyConfig, path)
    except SuperposeError as err:
        assert "\n" not in str(err)
