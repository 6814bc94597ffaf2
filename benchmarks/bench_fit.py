"""Fit time and peak memory of PartOfSpeechComponentAnalysis at the paper's scale.

The data are 141,445 float32 rows of width 512 with the paper's class sizes
(112,219 nouns, 18,021 adjectives, 7,295 verbs, 3,910 adverbs), drawn as unit
vectors in a narrow cone with a class-specific offset, like CLIP word
embeddings. The floor is one ``X.T @ X`` on the same array: any fit must at
least read every row into a d x d second moment.

Run::

    python benchmarks/bench_fit.py            # the paper's sizes
    python benchmarks/bench_fit.py --scale 0.1 --repeat 1
"""

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd

from sklearn_pos import PartOfSpeechComponentAnalysis

PAPER_SIZES = {"noun": 112_219, "adj": 18_021, "verb": 7_295, "adv": 3_910}


def make_data(scale=1.0, n_features=512, seed=0):
    rng = np.random.default_rng(seed)
    sizes = {c: max(2, int(round(n * scale))) for c, n in PAPER_SIZES.items()}
    labels = np.repeat(list(sizes), list(sizes.values()))
    direction = rng.normal(size=n_features)
    offsets = {c: 0.3 * rng.normal(size=n_features) for c in sizes}
    X = rng.standard_normal((labels.size, n_features), dtype=np.float32) * 0.05
    X += np.float32(1.0 / np.sqrt(n_features)) * direction.astype(np.float32)
    for c in sizes:
        X[labels == c] += (offsets[c] / np.sqrt(n_features)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, labels


def best_times(funcs, repeat):
    """Best wall time of each function over ``repeat`` rounds.

    The functions run in turn within each round, so a slow spell of the
    machine affects all of them alike instead of one row of the table.
    """
    times = {name: [] for name in funcs}
    for _ in range(repeat):
        for name, func in funcs.items():
            start = time.perf_counter()
            func()
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def peak_memory(func):
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the paper's sizes"
    )
    parser.add_argument("--n-features", type=int, default=512)
    parser.add_argument("--n-components", type=int, default=64)
    parser.add_argument(
        "--repeat", type=int, default=5, help="timings per row; the best is shown"
    )
    args = parser.parse_args(argv)

    X, y = make_data(args.scale, args.n_features)
    classes, counts = np.unique(y, return_counts=True)
    print(
        f"X: {X.shape[0]:,} x {X.shape[1]} {X.dtype} ({X.nbytes / 2**20:.0f} MiB), "
        "classes " + ", ".join(f"{c} {n:,}" for c, n in zip(classes, counts))
    )
    # The same rows in random order: the classes are no longer contiguous blocks.
    shuffle = np.random.default_rng(1).permutation(X.shape[0])
    X_shuffled, y_shuffled = X[shuffle], y[shuffle]

    def estimator(geometry):
        return PartOfSpeechComponentAnalysis(
            n_components=args.n_components, geometry=geometry, target="noun"
        )

    runs = {
        "X.T @ X (floor)": lambda: X.T @ X,
        "fit, geometry='tangent'": lambda: estimator("tangent").fit(X, y),
        "fit, geometry='tangent', rows shuffled": (
            lambda: estimator("tangent").fit(X_shuffled, y_shuffled)
        ),
        "fit, geometry='euclidean'": lambda: estimator("euclidean").fit(X, y),
    }
    seconds = best_times(runs, args.repeat)
    floor = seconds["X.T @ X (floor)"]
    n_iter = estimator("tangent").fit(X, y).n_iter_
    rows = [(what, seconds[what], peak_memory(func)) for what, func in runs.items()]
    table = pd.DataFrame(rows, columns=["what", "seconds", "peak_bytes"])
    table["x floor"] = table["seconds"] / floor
    table["peak / input"] = table["peak_bytes"] / X.nbytes
    table = table.drop(columns="peak_bytes")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(
        f"The intrinsic mean took {n_iter} iterations; best of {args.repeat} "
        "interleaved rounds; peak = memory allocated on top of the input "
        "(tracemalloc)."
    )


if __name__ == "__main__":
    main()
