"""
===================================================================
Class invariance of the part-of-speech subspaces (λ = 0.5 vs λ = 0)
===================================================================

Oldfield et al. (2023) learn one subspace per part of speech from the CLIP
embeddings of WordNet words. How well does each subspace keep to its own
part of speech? For the subspace ``W_i`` of category ``i`` and the words of
category ``j``, :func:`sklearn_pos.metrics.class_invariance` measures the
mean squared norm of their coordinates in the subspace,
``(1/n_j) ||W_i^T (Log_mu(x) - m)||^2``, and normalises every row to sum to
one. A diagonal table means each subspace holds its own part of speech and
little of the others.

The example fits the subspaces twice on the same embeddings: with the
paper's ``lam=0.5``, which also pushes the other parts of speech out of each
subspace, and with ``lam=0``, which is the plain PCA of each category. It
prints both tables next to the published one (ViT-B/32, k = 64, λ = 0.5)
and draws the three heatmaps.

By default it uses ViT-B-32 with OpenAI's weights (downloaded by open_clip
on first use, or ``--pretrained /path/to/checkpoint`` with
``--model ViT-B-32-quickgelu``) on the full vocabulary of 141,445 words,
which is what reproduces the published table. Set
``SKLEARN_POS_EXAMPLE_TINY=1`` (or pass ``--tiny``) for a smoke run with the
bundled tiny model and random weights on a few thousand words: the tables
are then only a check that everything runs, and they and the figure say
"random weights — not a result". Even then the λ = 0.5 diagonal looks like
the published one, because the objective itself favours each subspace's own
category (it is fitted to do so on the very words it is scored on): a
diagonal is what the method produces, not evidence about CLIP.
``SKLEARN_POS_EXAMPLE_OUTPUT``
(or ``--output-dir``) sets where the figure and the embedding cache go.

Where the weights asked for cannot be had (offline, not in the local
cache), the example says so on stderr and runs as with ``--tiny``, every
table and figure marked "random weights — not a result", so that
``python examples/plot_class_invariance.py`` works anywhere without a flag; the
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
from sklearn_pos.metrics import class_invariance
from sklearn_pos.plotting import PART_OF_SPEECH_ORDER

# The parts of speech in the order of every figure of the library.
ORDER = list(PART_OF_SPEECH_ORDER)

#: Oldfield et al. (2023), Fig. 6: ViT-B/32, k = 64, λ = 0.5.
PUBLISHED = pd.DataFrame(
    [
        [0.74, 0.13, 0.10, 0.036],
        [0.24, 0.52, 0.15, 0.091],
        [0.20, 0.16, 0.56, 0.081],
        [0.14, 0.18, 0.12, 0.56],
    ],
    index=pd.Index(ORDER, name="subspace"),
    columns=pd.Index(ORDER, name="data"),
)
#: The diagonal published for λ = 0 (the full table is not given).
PUBLISHED_DIAGONAL_LAM0 = [0.41, 0.28, 0.28, 0.21]


def main(
    tiny=None,
    model=None,
    pretrained=None,
    output_dir=None,
    vocabulary_size=None,
    n_components=None,
):
    """Fit with λ = 0.5 and λ = 0, print the tables and save the heatmaps.

    Returns a dict of tables: the two class-invariance tables (``"lam=0.5"``,
    ``"lam=0"``; subspaces by words' part of speech, rows summing to one),
    ``"diagonal"`` (their diagonals next to the published ones), and
    ``"figure"``, the path of the saved PNG. Without pretrained weights every
    table carries the caveat in ``attrs["caveat"]`` and the figure's title
    ends with it.
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

    tables = {}
    for lam in (0.5, 0.0):
        estimator = PartOfSpeechComponentAnalysis(
            n_components=cfg["n_components"], lam=lam
        ).fit(E, pos)
        tables[f"lam={lam:g}"] = class_invariance(estimator, E, pos, labels=ORDER)

    fmt = {"float_format": lambda v: f"{v:.2f}"}
    for name, table in tables.items():
        print(
            "\n"
            + caption(
                f"Class invariance, {label}, k={cfg['n_components']}, {name}", caveat
            )
        )
        print(table.to_string(**fmt))
    print("\nPublished (Oldfield et al. 2023, Fig. 6): ViT-B/32, k=64, lam=0.5")
    print(PUBLISHED.to_string(**fmt))
    summary = pd.DataFrame(
        {name: np.diag(t.to_numpy()) for name, t in tables.items()}
        | {
            "published lam=0.5": np.diag(PUBLISHED.to_numpy()),
            "published lam=0": PUBLISHED_DIAGONAL_LAM0,
        },
        index=pd.Index(ORDER, name="diagonal"),
    )
    print(
        "\n"
        + caption(
            "Diagonal (share of each subspace taken by its own part of speech)",
            caveat,
        )
    )
    print(summary.to_string(**fmt))
    if caveat is not None:
        print(
            f"\n{caveat}: the numbers only show that the example runs. A "
            "diagonal is what lam=0.5 is fitted to produce on these words, "
            "whatever the weights; it says nothing about CLIP."
        )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklearn_pos.plotting import ClassInvarianceDisplay

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    mark = "" if caveat is None else f"\n{caveat}"
    panels = [
        (tables["lam=0"], f"λ = 0 (PCA), {cfg['model']}{mark}"),
        (tables["lam=0.5"], f"λ = 0.5, {cfg['model']}{mark}"),
        (PUBLISHED, "λ = 0.5, published (ViT-B/32)"),
    ]
    for ax, (table, title) in zip(axes, panels):
        ClassInvarianceDisplay(table).plot(ax=ax, vmax=1.0, title=title)
    fig.suptitle(
        f"Class invariance of the part-of-speech subspaces (k = {cfg['n_components']}"
        + (", random weights)" if cfg["pretrained"] is None else ")")
    )
    stamp_figure(fig, caveat)
    fig.tight_layout()
    path = output_dir / "plot_class_invariance.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"\nSaved {path}")
    return stamp_tables({**tables, "diagonal": summary, "figure": path}, caveat)


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
