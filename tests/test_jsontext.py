"""gradflow.jsontext.dumps writes exactly what json.dumps(obj, indent=N, ensure_ascii=False) writes."""

import enum
import json
import random

import pytest

from gradflow.jsontext import dumps


class _Str(str, enum.Enum):
    A = "a"


class _Int(enum.IntEnum):
    X = 3


_SCALARS = [None, True, False, 0, 1, -5, 10 ** 20, 0.0, -0.0, 1.5, 3.0, 1e-300, float("nan"), float("inf"),
            -float("inf"), "", "ä\n\"\\\u2028x", "\x00", _Str.A, _Int.X]
_KEYS = ["a", "b", "ü", 1, 2.5, True, False, None, -3, "x\ty"]


def _random_value(rng: random.Random, depth: int = 0):
    r = rng.random()
    if depth > 4 or r < 0.4:
        return rng.choice(_SCALARS)
    if r < 0.7:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if r < 0.8:
        return tuple(_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3)))
    return {rng.choice(_KEYS): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


@pytest.mark.parametrize("indent", [0, 1, 2, 4])
def test_random_structures_encode_as_the_standard_library_does(indent):
    rng = random.Random(indent)
    for _ in range(2000):
        value = _random_value(rng)
        assert dumps(value, indent=indent) == json.dumps(value, indent=indent, ensure_ascii=False)


def test_repeated_flat_objects_keep_their_level_and_their_types():
    shared = {"op": "a/StopGradient", "location": None, "decisive": True, "n": 1}
    value = {"v": [shared, {"q": [shared]}, shared], "w": shared,
             "look_alike": [{"a": 1}, {"a": True}, {"a": 1.0}, {1: 2}, {True: 2}, {"a": 0.0}, {"a": -0.0}]}
    assert dumps(value, indent=2) == json.dumps(value, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("bad", [{"a": object()}, {(1, 2): 3}, [set()]])
def test_what_json_refuses_fails_as_in_json(bad):
    with pytest.raises(TypeError) as expected:
        json.dumps(bad, indent=2, ensure_ascii=False)
    with pytest.raises(TypeError) as got:
        dumps(bad, indent=2)
    assert str(got.value) == str(expected.value)


def test_a_circular_structure_fails_as_in_json():
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps(loop, indent=2)
