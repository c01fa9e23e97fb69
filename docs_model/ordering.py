"""Fractional indexing: string order keys that always have room between them.

A port of the npm package `fractional-indexing` (rocicorp, CC0, after David Greenspan's
"Implementing fractional indexing"), so a browser client calling
``generateKeyBetween(a, b)`` computes exactly the keys this module does. A key is an
integer part (a head letter giving its length, ``a``-``z`` for positive and ``A``-``Z``
for negative integers, then base-62 digits) followed by an optional fraction without
trailing zeros; keys compare as plain strings (code point order).

Two peers that insert at the same place concurrently get the same key; readers break
such ties by id (see `order_sort_key`).
"""

from __future__ import annotations

from .errors import OrderKeyError

__all__ = [
    "BASE_62_DIGITS",
    "generate_key_between",
    "generate_n_keys_between",
    "is_valid_order_key",
    "order_sort_key",
    "validate_order_key",
]

BASE_62_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _midpoint(a: str, b: str | None, digits: str) -> str:
    """A fraction strictly between fractions `a` and `b` (None: 1.0), both without
    trailing zeros."""
    zero = digits[0]
    if b is not None and a >= b:
        raise OrderKeyError(f"{a} >= {b}")
    if a[-1:] == zero or (b and b[-1:] == zero):
        raise OrderKeyError("trailing zero")
    if b:
        # Drop the common prefix, padding `a` with zeros; `b` cannot end first.
        n = 0
        while (a[n] if n < len(a) else zero) == b[n]:
            n += 1
        if n > 0:
            return b[:n] + _midpoint(a[n:], b[n:], digits)
    digit_a = digits.index(a[0]) if a else 0
    digit_b = digits.index(b[0]) if b is not None else len(digits)
    if digit_b - digit_a > 1:
        # JavaScript's Math.round(x.5) rounds up; Python's round() would not.
        return digits[(digit_a + digit_b + 1) // 2]
    if b and len(b) > 1:
        return b[:1]
    return digits[digit_a] + _midpoint(a[1:], None, digits)


def _integer_length(head: str) -> int:
    if "a" <= head <= "z":
        return ord(head) - ord("a") + 2
    if "A" <= head <= "Z":
        return ord("Z") - ord(head) + 2
    raise OrderKeyError(f"invalid order key head: {head}")


def _integer_part(key: str) -> str:
    length = _integer_length(key[0])
    if length > len(key):
        raise OrderKeyError(f"invalid order key: {key}")
    return key[:length]


def _smallest_integer(digits: str) -> str:
    return "A" + digits[0] * 26


def validate_order_key(key: str, digits: str = BASE_62_DIGITS) -> None:
    """Raise `OrderKeyError` unless `key` is a well-formed order key."""
    if not isinstance(key, str) or not key:
        raise OrderKeyError(f"invalid order key: {key!r}")
    if key == _smallest_integer(digits):
        raise OrderKeyError(f"invalid order key: {key}")
    integer = _integer_part(key)
    if any(ch not in digits for ch in key[1:]):
        # The npm package does not check this; we do, because keys come from peers.
        raise OrderKeyError(f"invalid order key: {key}")
    if key[len(integer) :][-1:] == digits[0]:
        raise OrderKeyError(f"invalid order key: {key}")


def is_valid_order_key(key: object, digits: str = BASE_62_DIGITS) -> bool:
    """Whether `key` is a well-formed order key (any object accepted)."""
    if not isinstance(key, str):
        return False
    try:
        validate_order_key(key, digits)
    except OrderKeyError:
        return False
    return True


def _step_integer(x: str, digits: str, step: int) -> str | None:
    """`x` plus `step` (+1 or -1), or None past the largest or smallest integer."""
    if len(x) != _integer_length(x[0]):
        raise OrderKeyError(f"invalid integer part of order key: {x}")
    head, digs = x[0], list(x[1:])
    overflow_digit, wrap_digit = (len(digits), digits[0]) if step > 0 else (-1, digits[-1])
    carry = True
    for i in range(len(digs) - 1, -1, -1):
        d = digits.index(digs[i]) + step
        if d == overflow_digit:
            digs[i] = wrap_digit
        else:
            digs[i] = digits[d]
            carry = False
            break
    if not carry:
        return head + "".join(digs)
    if step > 0:
        if head == "Z":
            return "a" + digits[0]
        if head == "z":
            return None
        h = chr(ord(head) + 1)
        if h > "a":
            digs.append(digits[0])
        else:
            digs.pop()
    else:
        if head == "a":
            return "Z" + digits[-1]
        if head == "A":
            return None
        h = chr(ord(head) - 1)
        if h < "Z":
            digs.append(digits[-1])
        else:
            digs.pop()
    return h + "".join(digs)


def generate_key_between(a: str | None, b: str | None, digits: str = BASE_62_DIGITS) -> str:
    """A key strictly between `a` and `b`; None means the start or the end of the list.

    Same result as npm ``generateKeyBetween(a, b)``: ``(None, None) -> "a0"``,
    ``("a0", None) -> "a1"``, ``(None, "a0") -> "Zz"``, ``("a0", "a1") -> "a0V"``.
    Raises `OrderKeyError` for a malformed key or ``a >= b``.
    """
    if a is not None:
        validate_order_key(a, digits)
    if b is not None:
        validate_order_key(b, digits)
    if a is not None and b is not None and a >= b:
        raise OrderKeyError(f"{a} >= {b}")
    if a is None:
        if b is None:
            return "a" + digits[0]
        ib = _integer_part(b)
        fb = b[len(ib) :]
        if ib == _smallest_integer(digits):
            return ib + _midpoint("", fb, digits)
        if ib < b:
            return ib
        below = _step_integer(ib, digits, -1)
        if below is None:
            raise OrderKeyError("cannot decrement any more")
        return below
    ia = _integer_part(a)
    fa = a[len(ia) :]
    if b is None:
        above = _step_integer(ia, digits, +1)
        return ia + _midpoint(fa, None, digits) if above is None else above
    ib = _integer_part(b)
    fb = b[len(ib) :]
    if ia == ib:
        return ia + _midpoint(fa, fb, digits)
    above = _step_integer(ia, digits, +1)
    if above is None:
        raise OrderKeyError("cannot increment any more")
    if above < b:
        return above
    return ia + _midpoint(fa, None, digits)


def generate_n_keys_between(
    a: str | None, b: str | None, n: int, digits: str = BASE_62_DIGITS
) -> list[str]:
    """`n` sorted distinct keys between `a` and `b` (npm ``generateNKeysBetween``)."""
    if n < 0:
        raise OrderKeyError(f"n must be >= 0, got {n}")
    if n == 0:
        return []
    if n == 1:
        return [generate_key_between(a, b, digits)]
    if b is None:
        keys = [generate_key_between(a, None, digits)]
        while len(keys) < n:
            keys.append(generate_key_between(keys[-1], None, digits))
        return keys
    if a is None:
        keys = [generate_key_between(None, b, digits)]
        while len(keys) < n:
            keys.append(generate_key_between(None, keys[-1], digits))
        return keys[::-1]
    mid = n // 2
    c = generate_key_between(a, b, digits)
    return [
        *generate_n_keys_between(a, c, mid, digits),
        c,
        *generate_n_keys_between(c, b, n - mid - 1, digits),
    ]


def order_sort_key(order: object, item_id: str) -> tuple[int, str, str]:
    """Sort key for an item with fractional `order` and unique `item_id`.

    Equal keys (concurrent inserts at one place) fall back to the id, so every peer sees
    the same order; items whose key is missing or malformed go last, by id.
    """
    if isinstance(order, str) and is_valid_order_key(order):
        return (0, order, item_id)
    return (1, "", item_id)
