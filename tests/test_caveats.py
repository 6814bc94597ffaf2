"""Tests of sklearn_pos.caveats and uses_pretrained_weights: results made
without pretrained weights say so."""

import pickle
from pathlib import Path

import pandas as pd
import pytest

from sklearn_pos import CLIPEmbedder, uses_pretrained_weights
from sklearn_pos.caveats import (
    RANDOM_WEIGHTS,
    SYNTHETIC_EMBEDDINGS,
    caption,
    caveat_for,
    stamp_figure,
    stamp_table,
    stamp_tables,
)


def test_the_caveats_read_as_warnings():
    assert RANDOM_WEIGHTS == "random weights — not a result"
    assert SYNTHETIC_EMBEDDINGS == "synthetic embeddings — not a result"


@pytest.mark.parametrize(
    "pretrained, expected",
    [
        (None, False),
        ("openai", True),
        ("laion2b_s34b_b79k", True),
        ("/path/to/checkpoint.pt", True),
        (Path("checkpoint.safetensors"), True),
        ("local-dir:/models/clip", True),
        ("hf-hub:org/repo", True),
    ],
)
def test_uses_pretrained_weights_reads_the_parameter_only(pretrained, expected):
    # Nothing is loaded or fetched: none of these weights exist here.
    embedder = CLIPEmbedder("ViT-B-32", pretrained)
    assert uses_pretrained_weights(embedder) is expected
    assert caveat_for(embedder) == (None if expected else RANDOM_WEIGHTS)
    assert caveat_for(embedder.set_params(modality="image")) == caveat_for(embedder)


def test_uses_pretrained_weights_needs_a_clip_embedder():
    from sklearn_pos.datasets import PlantedTextEmbedder

    with pytest.raises(TypeError, match="expects a CLIPEmbedder, got Planted.*"):
        uses_pretrained_weights(PlantedTextEmbedder(["dog", "cat"]))
    with pytest.raises(TypeError, match="SYNTHETIC_EMBEDDINGS"):
        caveat_for(object())


def test_a_fitted_tiny_embedder_is_random(tiny_text_embedder):
    tiny_text_embedder.fit(["dog"])
    assert not uses_pretrained_weights(tiny_text_embedder)
    assert caveat_for(tiny_text_embedder) == RANDOM_WEIGHTS


def test_stamp_table_keeps_the_caveat_through_pandas():
    table = pd.DataFrame({"accuracy": [0.25, 0.5]}, index=["a", "b"])
    assert stamp_table(table, RANDOM_WEIGHTS) is table
    assert table.attrs == {"caveat": RANDOM_WEIGHTS}
    # pandas carries attrs through the usual operations and pickles
    assert table.round(1).attrs["caveat"] == RANDOM_WEIGHTS
    assert (100 * table).attrs["caveat"] == RANDOM_WEIGHTS
    assert pickle.loads(pickle.dumps(table)).attrs["caveat"] == RANDOM_WEIGHTS
    series = stamp_table(pd.Series([1.0]), SYNTHETIC_EMBEDDINGS)
    assert series.attrs["caveat"] == SYNTHETIC_EMBEDDINGS

    untouched = pd.DataFrame({"accuracy": [0.9]})
    assert stamp_table(untouched, None).attrs == {}
    with pytest.raises(TypeError, match="pandas DataFrame or Series"):
        stamp_table([[0.5]], RANDOM_WEIGHTS)
    with pytest.raises(TypeError, match="non-empty string or None"):
        stamp_table(untouched, "")
    with pytest.raises(TypeError, match="non-empty string or None"):
        stamp_table(untouched, True)


def test_stamp_tables_stamps_every_table_of_a_result():
    results = {
        "scores": pd.DataFrame({"score": [0.1]}),
        "mean": pd.Series([0.1]),
        "figure": Path("out.png"),
    }
    assert stamp_tables(results, RANDOM_WEIGHTS) is results
    assert results["scores"].attrs["caveat"] == RANDOM_WEIGHTS
    assert results["mean"].attrs["caveat"] == RANDOM_WEIGHTS
    assert results["figure"] == Path("out.png")
    clean = stamp_tables({"scores": pd.DataFrame({"score": [0.1]})}, None)
    assert clean["scores"].attrs == {}


def test_caption_marks_the_heading():
    assert caption("Accuracy", RANDOM_WEIGHTS) == (
        "Accuracy [random weights — not a result]"
    )
    assert caption("Accuracy", None) == "Accuracy"


def test_stamp_figure_adds_a_last_title_line_once():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def title(fig):
        return [t.get_text() for t in fig.texts]

    fig, _ = plt.subplots()
    assert stamp_figure(fig, RANDOM_WEIGHTS) is fig
    assert title(fig) == [RANDOM_WEIGHTS]
    fig.suptitle("Class invariance")
    stamp_figure(fig, RANDOM_WEIGHTS)
    stamp_figure(fig, RANDOM_WEIGHTS)  # a second stamp adds nothing
    assert title(fig) == [f"Class invariance\n{RANDOM_WEIGHTS}"]
    plt.close(fig)

    fig, _ = plt.subplots()
    fig.suptitle("Pretrained")
    stamp_figure(fig, None)
    assert title(fig) == ["Pretrained"]
    plt.close(fig)
