import numpy as np
import pandas as pd
import pytest

from sktransfer._validation import check_texts, check_token_lists


@pytest.mark.parametrize(
    "X",
    [
        ["a", "b", "c"],
        ("a", "b", "c"),
        np.array(["a", "b", "c"]),
        np.array(["a", "b", "c"], dtype=object),
        np.array([["a"], ["b"], ["c"]], dtype=object),
        pd.Series(["a", "b", "c"], index=[10, 5, 7]),
        pd.DataFrame({"text": ["a", "b", "c"]}),
        (t for t in ["a", "b", "c"]),
    ],
    ids=["list", "tuple", "ndarray", "object-ndarray", "column", "series", "one-col-frame", "generator"],
)
def test_containers_give_plain_str_list_in_order(X):
    texts = check_texts(X)
    assert texts == ["a", "b", "c"]
    assert all(type(t) is str for t in texts)


@pytest.mark.parametrize("X", ["a text", b"bytes"])
def test_bare_string_is_rejected_with_fix(X):
    with pytest.raises(TypeError, match=r"Wrap one text in a list"):
        check_texts(X)


def test_none_and_empty_rejected():
    with pytest.raises(TypeError, match="got None"):
        check_texts(None)
    with pytest.raises(ValueError, match="0 texts"):
        check_texts([])


def test_non_iterable_rejected():
    with pytest.raises(TypeError, match="not iterable"):
        check_texts(42)


@pytest.mark.parametrize("bad", [None, float("nan"), np.nan, 3, b"x"])
def test_non_str_items_are_reported_with_position(bad):
    with pytest.raises(TypeError, match=r"\[1\]=") as info:
        check_texts(["ok", bad, "ok"])
    if bad is None or (isinstance(bad, float) and bad != bad):
        assert "fillna" in str(info.value)


def test_many_bad_items_are_summarised():
    with pytest.raises(TypeError, match="and 5 more"):
        check_texts([None] * 10)


def test_two_d_inputs_rejected():
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        check_texts(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="2 columns"):
        check_texts(pd.DataFrame({"a": ["x"], "b": ["y"]}))


def test_unicode_and_empty_texts_are_kept():
    texts = ["", "   ", "日本語のテキスト", "emoji 🙂🚀", "\u200b\u0301", "x" * 100_000]
    assert check_texts(texts) == texts


def test_token_lists():
    assert check_token_lists([["a", "b"], [], ("c",)]) == [["a", "b"], [], ["c"]]
    with pytest.raises(TypeError, match=r"row \[1\]"):
        check_token_lists([["a"], "not tokens"])
    with pytest.raises(TypeError, match=r"row \[0\] token \[1\]"):
        check_token_lists([["a", None]])
