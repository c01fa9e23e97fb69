"""Fractional indexing matches the npm `fractional-indexing` package, key for key."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jacameno.docs_model import (
    OrderKeyError,
    generate_key_between,
    generate_n_keys_between,
    is_valid_order_key,
    order_sort_key,
    validate_order_key,
)

BASE_10 = "0123456789"
BASE_95 = "".join(chr(code) for code in range(32, 127))


# The cases of the npm package's own test suite (src/test.js) and README.
@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (None, None, "a0"),
        (None, "a0", "Zz"),
        (None, "Zz", "Zy"),
        ("a0", None, "a1"),
        ("a1", None, "a2"),
        ("a0", "a1", "a0V"),
        ("a1", "a2", "a1V"),
        ("a0V", "a1", "a0l"),
        ("Zz", "a0", "ZzV"),
        ("Zz", "a1", "a0"),
        (None, "Y00", "Xzzz"),
        ("bzz", None, "c000"),
        ("a0", "a0V", "a0G"),
        ("a0", "a0G", "a08"),
        ("b125", "b129", "b127"),
        ("a0", "a1V", "a1"),
        ("Zz", "a01", "a0"),
        (None, "a0V", "a0"),
        (None, "b999", "b99"),
        (None, "A000000000000000000000000001", "A000000000000000000000000000V"),
        ("zzzzzzzzzzzzzzzzzzzzzzzzzzy", None, "zzzzzzzzzzzzzzzzzzzzzzzzzzz"),
        ("zzzzzzzzzzzzzzzzzzzzzzzzzzz", None, "zzzzzzzzzzzzzzzzzzzzzzzzzzzV"),
    ],
)
def test_generate_key_between_matches_npm(a: str | None, b: str | None, expected: str) -> None:
    assert generate_key_between(a, b) == expected


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        (None, "A00000000000000000000000000", "invalid order key: A00000000000000000000000000"),
        ("a00", None, "invalid order key: a00"),
        ("a00", "a1", "invalid order key: a00"),
        ("0", "1", "invalid order key head: 0"),
        ("a1", "a0", "a1 >= a0"),
        ("a1", "a1", "a1 >= a1"),
    ],
)
def test_generate_key_between_rejects_like_npm(a: str | None, b: str | None, message: str) -> None:
    with pytest.raises(OrderKeyError) as caught:
        generate_key_between(a, b)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("a", "b", "n", "expected"),
    [
        (None, None, 5, "a0 a1 a2 a3 a4"),
        ("a4", None, 10, "a5 a6 a7 a8 a9 b00 b01 b02 b03 b04"),
        (None, "a0", 5, "Z5 Z6 Z7 Z8 Z9"),
        (
            "a0",
            "a2",
            20,
            "a01 a02 a03 a035 a04 a05 a06 a07 a08 a09 a1 a11 a12 a13 a14 a15 a16 a17 a18 a19",
        ),
    ],
)
def test_generate_n_keys_between_base_10_matches_npm(
    a: str | None, b: str | None, n: int, expected: str
) -> None:
    assert " ".join(generate_n_keys_between(a, b, n, BASE_10)) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("a00", "a01", "a00P"),
        ("a0/", "a00", "a0/P"),
        (None, None, "a "),
        ("a ", None, "a!"),
        (None, "a ", "Z~"),
        ("a~", None, "b  "),
        ("Z~", None, "a "),
        ("a0", "a0V", "a0;"),
        ("a  1", "a  2", "a  1P"),
        (None, "A                          0", "A                          ("),
    ],
)
def test_base_95_matches_npm(a: str | None, b: str | None, expected: str) -> None:
    assert generate_key_between(a, b, BASE_95) == expected


def test_generate_n_keys_edge_counts() -> None:
    assert generate_n_keys_between("a0", "a1", 0) == []
    assert generate_n_keys_between("a0", "a1", 1) == ["a0V"]
    with pytest.raises(OrderKeyError):
        generate_n_keys_between(None, None, -1)


def test_random_insertions_stay_sorted() -> None:
    rng = random.Random(1)
    keys: list[str] = []
    for _ in range(1000):
        position = rng.randint(0, len(keys))
        low = keys[position - 1] if position > 0 else None
        high = keys[position] if position < len(keys) else None
        key = generate_key_between(low, high)
        assert low is None or low < key
        assert high is None or key < high
        assert is_valid_order_key(key)
        keys.insert(position, key)
    assert keys == sorted(keys)


@given(st.integers(min_value=2, max_value=60), st.integers(min_value=1, max_value=60))
def test_n_keys_are_sorted_and_distinct(n: int, m: int) -> None:
    keys = generate_n_keys_between(None, None, n)
    assert keys == sorted(set(keys))
    low, high = keys[0], keys[-1]
    between = generate_n_keys_between(low, high, m)
    assert between == sorted(set(between))
    assert all(low < key < high for key in between)


@pytest.mark.parametrize("key", ["", "a", "0", "a0 ", "a00", "b1", "a0!", "Zz0"])
def test_malformed_keys_are_invalid(key: str) -> None:
    assert not is_valid_order_key(key)
    with pytest.raises(OrderKeyError):
        validate_order_key(key)


def test_non_strings_are_invalid_keys() -> None:
    assert not is_valid_order_key(None)
    assert not is_valid_order_key(3.0)


def test_order_sort_key_breaks_ties_by_id_and_puts_bad_keys_last() -> None:
    items = [("a1", "y"), ("a1", "x"), ("bogus", "a"), ("a0", "z"), (None, "b")]
    ordered = sorted(items, key=lambda item: order_sort_key(item[0], item[1]))
    assert [item_id for _, item_id in ordered] == ["z", "x", "y", "a", "b"]
