"""
=====================================================
Words of each part of speech on the learned subspaces
=====================================================

Each part-of-speech subspace of Oldfield et al. (2023) is an ordered basis:
its first direction is the one along which its own category varies most
while the others vary least (for ``lam=0.5``). Drawing the words of all
four categories on the first two directions of one subspace shows the
effect: the category that owns the subspace spreads out, the other three
stay gathered near the origin.

:class:`sklearn_pos.plotting.SubspaceScatterDisplay` draws one such panel
per subspace (at most 1,000 words per category, chosen at random, since the
nouns alone are 112,219). The example also prints the spread of every
category on those two directions (mean squared coordinate), the numbers
behind the picture.

By default it uses ViT-B-32 with OpenAI's weights (downloaded by open_clip
on first use, or ``--pretrained /path/to/checkpoint`` with
``--model ViT-B-32-quickgelu``) on the full WordNet vocabulary. Set
``SKLEARN_POS_EXAMPLE_TINY=1`` (or pass ``--tiny``) for a smoke run with the
bundled tiny model and random weights, whose picture means nothing: its
title and tables then say "random weights — not a result".
``SKLEARN_POS_EXAMPLE_OUTPUT`` (or ``--output-dir``) sets where the figure
and the embedding cache go.

Where the weights asked for cannot be had (offline, not in the local
cache), the example says so on stderr and runs as with ``--tiny``, every
table and figure marked "random weights — not a result", so that
``python examples/plot_subspace_scatter.py`` works anywhere without a flag; the
choice is made by :func:`sklearn_pos.caveats.choose_clip_weights`.
"""

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_pos import PartOfSpeechComponentAnalysis, get_cache_dir
from sklearn_pos.caveats import (
    caption,
    caveat_for,
    choose_clip_weights,
    stamp_figure,
    stamp_tables,
)
from sklearn_pos.datasets import load_wordnet_vocabulary
from sklearn_pos.embedding import CLIPEmbedder
from sklearn_pos.plotting import PART_OF_SPEECH_ORDER

# The parts of speech in the order of every figure of the library.
ORDER = list(PART_OF_SPEECH_ORDER)


def main(
    tiny=None,
    model=None,
    pretrained=None,
    output_dir=None,
    vocabulary_size=None,
    n_components=None,
    max_points_per_class=1000,
):
    """Fit the subspaces, print the spreads and save a 2 x 2 scatter figure.

    Returns a dict of tables: ``"spread"`` (mean squared coordinate on the
    first two directions of each subspace, subspaces by words' part of
    speech), ``"contrast"`` (per subspace: its own category's spread, the
    mean of the others' and their ratio), and ``"figure"``, the path of the
    saved PNG. Without pretrained weights every table carries the caveat in
    ``attrs["caveat"]`` and the figure's title ends with it.
    """
    output_dir = Path(
        output_dir
        or os.environ.get("SKLEARN_POS_EXAMPLE_OUTPUT")
        or os.environ.get("SKLEARN_POS_OUTPUT", "sklearn_pos_output")
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    # The requested weights, or (offline, not cached) the tiny random model,
    # said on stderr; its outputs are then marked with the caveat.
    weights = choose_clip_weights(tiny, model, pretrained)
    tiny, label = weights.tiny, weights.label
    cfg = dict(
        model=weights.model_name,
        pretrained=weights.pretrained,
        device=weights.device,
        vocabulary_size=vocabulary_size or (1500 if tiny else None),
        n_components=n_components or (16 if tiny else 64),
    )

    words, pos = load_wordnet_vocabulary(
        n_words=cfg["vocabulary_size"], random_state=0, return_X_y=True
    )
    embedder = CLIPEmbedder(
        cfg["model"],
        cfg["pretrained"],
        device=cfg["device"],
        memory=get_cache_dir(),  # the embedding store shared with the CLI
        verbose=not tiny,
    )
    print(f"Encoding {len(words):,} WordNet words with {label} ...")
    E = embedder.fit_transform(list(words))
    caveat = caveat_for(embedder)
    estimator = PartOfSpeechComponentAnalysis(
        n_components=cfg["n_components"], lam=0.5
    ).fit(E, pos)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklearn_pos.plotting import SubspaceScatterDisplay

    fig, axes = plt.subplots(2, 2, figsize=(10, 8.5))
    spread = {}
    for ax, subspace in zip(axes.ravel(), ORDER):
        display = SubspaceScatterDisplay.from_estimator(
            estimator,
            E,
            pos,
            subspace=subspace,
            max_points_per_class=max_points_per_class,
            order=ORDER,
            ax=ax,
            legend=subspace == ORDER[0],
            caveat=caveat,
        )
        # Spread of every category on the two directions drawn.
        spread[subspace] = {
            category: float(np.mean(points.get_offsets() ** 2))
            for category, points in display.scatters_.items()
        }
    spread = pd.DataFrame(spread).T.rename_axis(index="subspace", columns="data")
    spread = spread[ORDER]

    print(
        "\n"
        + caption(
            "Mean squared coordinate on the first two directions of each subspace "
            f"({label}, k={cfg['n_components']}, lam=0.5)",
            caveat,
        )
    )
    print(spread.to_string(float_format=lambda v: f"{v:.2e}"))
    own = np.diag(spread.to_numpy())
    others = (spread.to_numpy().sum(axis=1) - own) / (len(ORDER) - 1)
    contrast = pd.DataFrame(
        {"own": own, "others": others, "ratio": own / others},
        index=spread.index,
    )
    print(
        "\n"
        + caption(
            "Own category / mean of the others: "
            + ", ".join(f"{s} {r:.1f}x" for s, r in contrast["ratio"].items()),
            caveat,
        )
    )
    if caveat is not None:
        print(f"\n{caveat}: the numbers only show that the example runs.")

    fig.suptitle(f"WordNet words on the part-of-speech subspaces ({label}, λ = 0.5)")
    stamp_figure(fig, caveat)
    fig.tight_layout()
    path = output_dir / "plot_subspace_scatter.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"\nSaved {path}")
    return stamp_tables(
        {"spread": spread, "contrast": contrast, "figure": path}, caveat
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[1])
    parser.add_argument("--tiny", action="store_true", help="tiny random model")
    parser.add_argument("--model", help="open_clip architecture (default ViT-B-32)")
    parser.add_argument("--pretrained", help="tag or checkpoint (default openai)")
    parser.add_argument("--output-dir", help="figure and cache folder")
    parser.add_argument("--vocabulary-size", type=int, help="encode a subset")
    parser.add_argument("--n-components", type=int, help="k (default 64)")
    args = parser.parse_args()
    main(
        tiny=args.tiny or None,
        model=args.model,
        pretrained=args.pretrained,
        output_dir=args.output_dir,
        vocabulary_size=args.vocabulary_size,
        n_components=args.n_components,
    )
