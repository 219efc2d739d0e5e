"""load_text_dataset: a user's own CSV, TSV and JSON Lines files."""

import pytest

from sktransfer.datasets import load_text_dataset


def write(path, text):
    path.write_bytes(text.encode("utf-8"))
    return path


def test_load_csv(tmp_path):
    path = write(
        tmp_path / "reviews.csv",
        "\ufeffid,review,sentiment\n"
        '1,"Good, really good.\nTwo lines",positive\n'
        "2,Bad <br /> film,negative\n"
        "\n"
        "3,  Fine  ,1\n",
    )
    bunch = load_text_dataset(path, "review", "sentiment")
    assert bunch.data == ["Good, really good.\nTwo lines", "Bad <br /> film", "  Fine  "]
    assert bunch.target.tolist() == ["positive", "negative", "1"]  # kept as strings
    assert bunch.target.dtype.kind == "U"
    assert bunch.target_names == ["1", "negative", "positive"]
    assert bunch.filename == str(path)
    X, y = load_text_dataset(path, "review", "sentiment", return_X_y=True)
    assert X == bunch.data and y.tolist() == bunch.target.tolist()


def test_load_tsv(tmp_path):
    path = write(tmp_path / "reviews.TSV", "text\tlabel\nhello, world\t0\nbye\t1\n")
    bunch = load_text_dataset(path, "text", "label")
    assert bunch.data == ["hello, world", "bye"]
    assert bunch.target.tolist() == ["0", "1"]


def test_load_jsonl(tmp_path):
    path = write(
        tmp_path / "reviews.jsonl",
        '{"text": "héllo", "label": 1, "other": null}\n'
        "\n"
        '{"text": "bye\\nnow", "label": 0}\n',
    )
    bunch = load_text_dataset(path, "text", "label")
    assert bunch.data == ["héllo", "bye\nnow"]
    assert bunch.target.tolist() == [1, 0]
    assert bunch.target.dtype.kind == "i"
    assert bunch.target_names == [0, 1]
    strings = write(tmp_path / "s.jsonl", '{"t": "a", "y": "pos"}\n{"t": "b", "y": "neg"}\n')
    assert load_text_dataset(strings, "t", "y").target.tolist() == ["pos", "neg"]


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_text_dataset(tmp_path / "nope.csv", "text", "label")


def test_load_unknown_extension(tmp_path):
    path = write(tmp_path / "reviews.xlsx", "text,label\na,b\n")
    with pytest.raises(ValueError, match=r"'\.xlsx'") as info:
        load_text_dataset(path, "text", "label")
    for ext in (".csv", ".tsv", ".jsonl"):
        assert ext in str(info.value)


@pytest.mark.parametrize(
    "name, content, column",
    [
        ("a.csv", "body,label\nx,1\n", "text"),
        ("a.csv", "text,y\nx,1\n", "label"),
        ("a.tsv", "body\tlabel\nx\t1\n", "text"),
    ],
)
def test_load_missing_column_lists_available(tmp_path, name, content, column):
    path = write(tmp_path / name, content)
    with pytest.raises(ValueError, match=f"no column '{column}'") as info:
        load_text_dataset(path, "text", "label")
    header = content.splitlines()[0].replace("\t", ",").split(",")
    assert str(header) in str(info.value)


def test_load_csv_with_wrong_delimiter_hints(tmp_path):
    path = write(tmp_path / "a.csv", "text;label\nx;1\n")
    with pytest.raises(ValueError, match="delimiter"):
        load_text_dataset(path, "text", "label")


def test_load_jsonl_missing_field(tmp_path):
    path = write(tmp_path / "a.jsonl", '{"text": "a", "label": 1}\n{"body": "b", "label": 0}\n')
    with pytest.raises(ValueError, match=r"line 2: no field 'text'.*\['body', 'label'\]"):
        load_text_dataset(path, "text", "label")


@pytest.mark.parametrize(
    "name, content, match",
    [
        ("a.csv", "", "is empty"),
        ("a.csv", "text,label\n", "has no rows"),
        ("a.csv", "text,label\n\n\n", "has no rows"),
        ("a.jsonl", "", "has no rows"),
        ("a.jsonl", "\n  \n", "has no rows"),
    ],
)
def test_load_empty_file(tmp_path, name, content, match):
    with pytest.raises(ValueError, match=match):
        load_text_dataset(write(tmp_path / name, content), "text", "label")


@pytest.mark.parametrize(
    "name, content, match",
    [
        # line numbers count physical lines, including a quoted multi-line text
        ("a.csv", 'text,label\n"two\nlines",1\n,0\n', r"line 4: the text \('text'\)"),
        ("a.csv", "text,label\na,1\nb,\n", r"line 3: the label \('label'\)"),
        ("a.csv", "text,label\na,1\n   ,0\n", r"line 3: the text"),
        ("a.csv", "text,label\na,1\nb\n", r"line 3: the row has 1 fields but the header has 2"),
        ("a.csv", "text,label\na,1,extra\n", r"line 2: the row has 3 fields"),
        ("a.jsonl", '{"text": "a", "label": 1}\n\n{"text": "", "label": 1}\n', r"line 3: the text"),
        ("a.jsonl", '{"text": "a", "label": null}\n', r"line 1: the label"),
        (
            "a.jsonl",
            '{"text": "a", "label": 1}\n{"text": 5, "label": 1}\n',
            r"line 2: .*must be a string",
        ),
        ("a.jsonl", '{"text": "a", "label": [1]}\n', r"line 1: .*string or a number"),
        (
            "a.jsonl",
            '{"text": "a", "label": 1}\n{"text": "b", "label": "1"}\n',
            r"line 2: .*str but the label on line 1 is a int",
        ),
        ("a.jsonl", '{"text": "a", "label": 1}\n{"text": "b"\n', r"line 2: not valid JSON"),
        ("a.jsonl", '["a", 1]\n', r"line 1: expected a JSON object"),
    ],
)
def test_load_bad_rows_name_the_line(tmp_path, name, content, match):
    with pytest.raises(ValueError, match=match):
        load_text_dataset(write(tmp_path / name, content), "text", "label")


def test_load_duplicate_column(tmp_path):
    path = write(tmp_path / "a.csv", "text,label,text\na,1,b\n")
    with pytest.raises(ValueError, match="2 columns named 'text'"):
        load_text_dataset(path, "text", "label")


def test_load_not_utf8(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("text,label\ncaf\u00e9,1\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not valid UTF-8"):
        load_text_dataset(path, "text", "label")
