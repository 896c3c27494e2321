import math

import pytest

from clusterer import ClusterConfig, ConfigError
from clusterer.config import SCHEME


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("story_threshold", 1.5, "a float in [0, 1]"),
        ("story_threshold", math.nan, "a float in [0, 1]"),
        ("duplicate_threshold", 0.0, "a float in (0, 1]"),
        ("duplicate_threshold", -0.2, "a float in (0, 1]"),
        ("num_perm", 0, "an int in [1, 1024]"),
        ("num_perm", 2.5, "an int in [1, 1024]"),
        ("shingle_size", True, "an int in [1, 32]"),
        ("date_decay_days", -3.0, "a float > 0 or None"),
        ("title_weight", math.inf, "a float in [0, 100]"),
        ("linkage", "single", "one of 'average', 'complete'"),
        ("verify", "maybe", "one of 'exact', 'estimate'"),
    ],
)
def test_bad_values_name_parameter_range_and_value(name: str, value: object, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        ClusterConfig(**{name: value})  # type: ignore[arg-type]
    message = str(info.value)
    assert f"The {name!r} parameter of ClusterConfig must be {expected}." in message
    assert f"Got {value!r} instead." in message


def test_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="story_threshold"):
        ClusterConfig(story_threshold=2.0)


def test_bands_and_rows_go_together_and_fit_num_perm() -> None:
    with pytest.raises(ConfigError, match="lsh_rows"):
        ClusterConfig(lsh_bands=4)
    with pytest.raises(ConfigError, match="num_perm"):
        ClusterConfig(num_perm=64, lsh_bands=20, lsh_rows=4)
    assert ClusterConfig(num_perm=64, lsh_bands=16, lsh_rows=4).lsh_bands == 16


def test_round_trip_records_scheme() -> None:
    config = ClusterConfig(story_threshold=0.2, date_decay_days=None, seed=7)
    data = config.to_dict()
    assert data["scheme"] == SCHEME == "affine32"
    assert ClusterConfig.from_dict(data) == config


def test_from_dict_rejects_other_scheme_and_unknown_keys() -> None:
    data = ClusterConfig().to_dict()
    with pytest.raises(ConfigError, match="scheme"):
        ClusterConfig.from_dict({**data, "scheme": "legacy"})
    with pytest.raises(ConfigError, match="Unknown ClusterConfig parameter"):
        ClusterConfig.from_dict({**data, "thresold": 0.3})


def test_replace_validates() -> None:
    assert ClusterConfig().replace(num_perm=64).num_perm == 64
    with pytest.raises(ConfigError):
        ClusterConfig().replace(num_perm=-1)
