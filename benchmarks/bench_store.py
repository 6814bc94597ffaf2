"""What the embedding store (``CLIPEmbedder(memory=...)``) saves, in one run.

Four tables:

1. **Cold vs warm.** The WordNet vocabulary (all 141,445 words by default)
   embedded with the bundled tiny model into an empty store, then served from
   it: in the same process, and by a new Python process (what a rerun sees;
   its start-to-end time includes starting Python and importing sklearn_pos,
   and it reports whether torch was imported).
2. **GridSearchCV.** ``GridSearchCV(make_pipeline(CLIPEmbedder(...),
   LogisticRegression()), {"logisticregression__C": [0.1, 1, 10]}, cv=3)`` on
   3,000 distinct words, counting the texts that actually went through the
   model (a forward hook on the text tower's token embedding), without and
   with the store.
3. **Refit of the vocabulary step.** ``VocabularyPartOfSpeechAnalysis`` on the
   whole vocabulary with its embeddings already cached, fitted with a new
   ``lam`` each time, against ``PartOfSpeechComponentAnalysis.fit`` alone on
   the same embeddings: the difference is what a grid-search candidate pays
   on top of the closed form.
4. **Warm CLI rerun.** ``sklearn-pos fit`` end to end with another ``--lam``,
   ``-k`` and ``--geometry`` after a first run filled its ``cache/``.

The tiny model has random weights: the figures measure speed only.

Usage::

    python benchmarks/bench_store.py                  # about 2 min on 2 CPU cores
    python benchmarks/bench_store.py --n-words 20000  # quicker
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_pos import (
    CLIPEmbedder,
    PartOfSpeechComponentAnalysis,
    VocabularyPartOfSpeechAnalysis,
)
from sklearn_pos.datasets import load_wordnet_vocabulary
from sklearn_pos.store import store_info

TINY = {"model_name": "sklearn-pos-tiny", "pretrained": None, "device": "cpu"}

_WARM_PROCESS = """
import json, sys, time
start = time.perf_counter()
from sklearn_pos import CLIPEmbedder
from sklearn_pos.datasets import load_wordnet_vocabulary
words = list(load_wordnet_vocabulary(n_words={n_words}, random_state=0).data)
ready = time.perf_counter()
E = CLIPEmbedder("sklearn-pos-tiny", None, device="cpu", memory={store!r}).transform(words)
done = time.perf_counter()
print(json.dumps({{"transform_s": done - ready, "total_s": done - start,
                   "torch": "torch" in sys.modules, "shape": list(E.shape)}}))
"""


def _yes_no(flag):
    return "yes" if flag else "no"


def _seconds(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _words(n_words):
    bunch = load_wordnet_vocabulary(
        n_words=None if n_words >= 141_445 else n_words, random_state=0
    )
    return list(bunch.data), np.asarray(bunch.target)


def cold_vs_warm(n_words, folder):
    words, _ = _words(n_words)
    store = folder / "cold-warm"
    emb = CLIPEmbedder(**TINY, memory=store)
    emb.get_model()  # loading the model is not timed
    cold_s, cold = _seconds(lambda: emb.transform(words))
    warm_s, warm = _seconds(lambda: emb.transform(words))
    assert np.array_equal(cold, warm)
    code = _WARM_PROCESS.format(
        n_words=len(words) if n_words < 141_445 else None, store=str(store)
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    proc = json.loads(res.stdout.strip().splitlines()[-1])
    info = store_info(store)
    rows = [
        ("encode (cold store)", cold_s, ""),
        ("warm, same process", warm_s, ""),
        ("warm, new process: transform", proc["transform_s"], _yes_no(proc["torch"])),
        ("warm, new process: start to end", proc["total_s"], _yes_no(proc["torch"])),
    ]
    table = pd.DataFrame(rows, columns=["run", "seconds", "imports torch"])
    table["words/s"] = len(words) / table["seconds"]
    table["speed-up vs cold"] = cold_s / table["seconds"]
    table.attrs["caption"] = (
        f"{len(words):,} WordNet words, tiny model on CPU; store: "
        f"{int(info['n_entries'].sum()):,} entries, "
        f"{info['size_bytes'].sum() / 2**20:.1f} MiB"
    )
    return table


class _CountRows:
    """Counts the texts that reach the model's token embedding."""

    def __init__(self, model):
        self.n = 0
        self.handle = model.token_embedding.register_forward_hook(self)

    def __call__(self, module, args, output):
        self.n += int(args[0].shape[0])


def grid_search_counts(folder, n_words=3000):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    words = [f"{w} number {i}" for i, w in enumerate(_words(n_words)[0])]
    y = np.arange(len(words)) % 2
    rows = []
    for label, memory in (("no store", None), ("store", folder / "grid")):
        emb = CLIPEmbedder(**TINY, memory=memory)
        counter = _CountRows(emb.get_model().model)
        search = GridSearchCV(
            make_pipeline(emb, LogisticRegression(max_iter=200)),
            {"logisticregression__C": [0.1, 1.0, 10.0]},
            cv=3,
        )
        seconds, _ = _seconds(lambda: search.fit(words, y))
        counter.handle.remove()
        rows.append((label, len(words), counter.n, counter.n / len(words), seconds))
    return pd.DataFrame(
        rows,
        columns=[
            "GridSearchCV",
            "distinct words",
            "texts encoded",
            "per word",
            "seconds",
        ],
    )


def vocabulary_refit(n_words, folder, repeats=3):
    store = folder / "cold-warm"  # filled by cold_vs_warm
    emb = CLIPEmbedder(**TINY, memory=store)
    size = None if n_words >= 141_445 else n_words
    step = VocabularyPartOfSpeechAnalysis(
        "wordnet", text_embedder=emb, n_components=16, vocabulary_size=size
    )
    step.fit()  # fills the in-process vocabulary cache
    words, labels = _words(n_words)
    E = emb.transform(words)
    rows = []
    for i in range(repeats):
        lam = 0.15 + 0.25 * i  # a new candidate each time (not the default 0.5)
        step_s, _ = _seconds(lambda: step.set_params(lam=lam).fit())
        pos = PartOfSpeechComponentAnalysis(n_components=16, lam=lam)
        pos_s, _ = _seconds(lambda: pos.fit(E, labels))
        rows.append((lam, step_s, pos_s, step_s - pos_s))
    return pd.DataFrame(
        rows,
        columns=["lam", "step fit (s)", "PoS fit alone (s)", "overhead (s)"],
    )


def cli_rerun(n_words, folder):
    out = folder / "cli"
    base = [sys.executable, "-m", "sklearn_pos", "fit", "--model", "sklearn-pos-tiny",
            "--pretrained", "none", "--device", "cpu", "--no-progress",
            "--output-dir", str(out)]  # fmt: skip
    if n_words < 141_445:
        base += ["--vocabulary-size", str(n_words)]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    rows = []
    for label, extra in (
        ("first run (encodes)", []),
        ("rerun --lam 0.2 -k 8", ["--lam", "0.2", "-k", "8"]),
        ("rerun --geometry euclidean", ["--geometry", "euclidean"]),
        ("rerun --lam 0.3 --no-plots", ["--lam", "0.3", "--no-plots"]),
    ):
        seconds, res = _seconds(
            lambda: subprocess.run(
                base + extra, capture_output=True, text=True, env=env, check=True
            )
        )
        rows.append((label, seconds))
    return pd.DataFrame(rows, columns=["sklearn-pos fit", "seconds (end to end)"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-words", type=int, default=141_445)
    args = parser.parse_args(argv)
    fmt = {"float_format": lambda v: f"{v:,.3f}", "index": False}
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        table = cold_vs_warm(args.n_words, folder)
        print(f"\n1. Cold vs warm ({table.attrs['caption']})")
        print(table.to_string(**fmt))
        print("\n2. GridSearchCV, 3 candidates x 3 folds")
        print(grid_search_counts(folder).to_string(**fmt))
        print("\n3. Refit of VocabularyPartOfSpeechAnalysis with cached embeddings")
        print(vocabulary_refit(args.n_words, folder).to_string(**fmt))
        print("\n4. sklearn-pos fit, warm reruns")
        print(cli_rerun(args.n_words, folder).to_string(**fmt))


if __name__ == "__main__":
    main()
