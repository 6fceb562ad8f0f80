"""The integer keys the summary and the report fold by: token ids and KeyCodes; the pass's read-ahead."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest

from analyzer.outputs.aggregate import KeyCodes, _dictionary_token_ids, _token_id, read_ahead, token_ids


def test_token_ids_of_fingerprints_are_their_hex_numbers() -> None:
    fps = ["0000000000000000", "ffffffffffffffff", "0123456789ABCDEF", "8000000000000001"]
    assert token_ids(fps).tolist() == [int(f, 16) for f in fps]
    assert token_ids(fps).dtype == np.uint64 and token_ids([]).tolist() == []


def test_token_ids_of_odd_values_follow_the_rule_value_by_value() -> None:
    # Lengths that add up to 16 each on average, `int`'s own prefixes and separators, non-hex letters.
    values = ["0123456789abcde", "0123456789abcdef0", "0x0123456789abcd", "0123_56789abcdef", "zzzzzzzzzzzzzzzz",
              " 123456789abcdef", "0123456789abcdef", 42]
    assert token_ids(values).tolist() == [_token_id(str(v)) for v in values]
    assert _token_id("0x0123456789abcd") == 0x0123456789ABCD  # what `int(text, 16)` reads, as before


def test_token_ids_of_a_dictionary_are_token_ids_of_its_values() -> None:
    """The bytes of 16-hex-digit values are read at once; anything else goes value by value, the same rule."""
    fps = ["0123456789abcdef", "FFFFFFFFFFFFFFFF", "0000000000000000", "8000000000000001"]
    odd = ["0123456789abcde ", "0123 56789abcdef", "zzzzzzzzzzzzzzzz", "0123456789abcdeé", "0123456789abcdef0"]
    for values in (fps, fps + odd[:1], odd[1:2] + fps, fps + odd[2:3], fps + odd[3:4], odd[4:], []):
        array = pa.array(values, pa.string())
        assert _dictionary_token_ids(array).tolist() == token_ids(values).tolist(), values
        assert _dictionary_token_ids(array.slice(1)).tolist() == token_ids(values[1:]).tolist(), values
    assert _dictionary_token_ids(pa.array([*fps, None])).tolist() == token_ids([*fps, "None"]).tolist()


def test_key_codes_are_shared_across_tables_with_their_own_dictionaries() -> None:
    codes = KeyCodes()
    first = pa.table({"host": pa.array(["b", None, "a", "b"]).dictionary_encode()})
    second = pa.table({"host": pa.chunked_array([pa.array(["a", "c"]).dictionary_encode(),
                                                  pa.array([None, "c", "b"]).dictionary_encode()])})
    one, two = codes.encode(first, "host"), codes.encode(second, "host")
    assert one.to_pylist() == [0, None, 1, 0] and two.to_pylist() == [1, 2, None, 2, 0]
    assert codes.decode("host", two).tolist() == ["a", "c", None, "c", "b"]
    assert codes.encode(first, "missing").null_count == 4  # a column the table lacks: all missing
    small = pa.table({"host": pa.DictionaryArray.from_arrays(pa.array([1, None, 0], pa.int8()), ["b", "a"])})
    assert codes.encode(small, "host").to_pylist() == [1, None, 0]  # int8 indices: what pandas' categoricals give
    plain = pa.table({"host": pa.array(["c", "d", None])})  # not dictionary-encoded (an older writer)
    assert codes.encode(plain, "host").to_pylist() == [2, 3, None]
    tokens = KeyCodes.tokens(pa.table({"token_fp": pa.array(["000000000000000a", None]).dictionary_encode()}))
    assert tokens.type == pa.uint64() and tokens.to_pylist() == [10, None]


def test_codes_made_on_another_thread_are_what_encode_gives() -> None:
    """A pass encodes on its reading thread and hands the codes over (`encoded`, `adopt`); the folds'
    `encode` and `token_ids` then give them, and a column not handed over is encoded when asked for."""
    table = pa.table({"host": pa.array(["b", None, "a"]).dictionary_encode(), "client_id": ["x", "y", "x"],
                      "token_fp": ["0123456789abcdef", None, "0000000000000001"]})
    mine, theirs = KeyCodes(), KeyCodes()
    made: list[dict[str, pa.Array]] = []
    reader = threading.Thread(target=lambda: made.append(theirs.encoded(table, ["host"])))
    reader.start()
    reader.join()
    theirs.adopt(table, made[0])
    assert theirs.encode(table, "host") is made[0]["host"]
    for name in ("host", "client_id"):
        assert theirs.encode(table, name).to_pylist() == mine.encode(table, name).to_pylist()
        assert list(theirs.decode(name, theirs.encode(table, name))) == [*table.column(name).to_pylist()]
    assert theirs.token_ids(table).to_pylist() == KeyCodes.tokens(table).to_pylist() == [0x0123456789ABCDEF, None, 1]


def test_read_ahead_gives_the_items_in_order_and_raises_what_the_iterator_raised() -> None:
    assert list(read_ahead(iter(range(50)))) == list(range(50))
    assert list(read_ahead(iter([]))) == []

    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("unreadable part file")

    got = []
    with pytest.raises(ValueError, match="unreadable"):
        for item in read_ahead(failing()):
            got.append(item)
    assert got == [1]


def test_read_ahead_stops_its_thread_when_the_caller_stops() -> None:
    made = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            made.append(n)
            yield n
            n += 1

    items = read_ahead(endless())
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    before = threading.active_count()
    items.close()  # joins the thread
    assert threading.active_count() == before - 1
    assert len(made) <= 3 + 2  # the one in the queue and the one being made


def test_example_rows_are_the_first_distinct_tokens_of_each_cause() -> None:
    """`first_rows` keeps what drop_duplicates + groupby.head kept, on random batches with missing values."""
    import random

    import pandas as pd

    from analyzer.outputs.aggregate import first_rows

    rng = random.Random(3)
    for _ in range(300):
        n = rng.randrange(0, 60)
        ev = pd.DataFrame({
            "cause": pd.array([rng.choice(["ok", "expired", "malformed", None]) for _ in range(n)], dtype="str"),
            "token_fp": pd.Categorical([rng.choice(["a", "b", "c", "d", "e", None]) for _ in range(n)]),
        })
        k = rng.randrange(1, 4)
        want = ev.drop_duplicates(["cause", "token_fp"]).groupby("cause", observed=True, sort=False).head(k)
        assert first_rows(ev, k).tolist() == want.index.tolist()
