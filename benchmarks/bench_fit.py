"""Fit time and peak memory of PartOfSpeechComponentAnalysis at the paper's scale.

The data are 141,445 float32 rows of width 512 with the paper's class sizes
(112,219 nouns, 18,021 adjectives, 7,295 verbs, 3,910 adverbs), drawn as unit
vectors in a narrow cone with a class-specific offset, like CLIP word
embeddings. The floor is one ``X.T @ X`` on the same array: any fit must at
least read every row into a d x d second moment.

Two tables:

- the grid: the tangent fit (and the Euclidean one) at k in {16, 64, 500,
  all} and widths d in {512, 768, 1024} (ViT-B, ViT-L text, ViT-H), as a
  multiple of the floor on the same data, with the memory the fit allocates
  on top of its input (tracemalloc);
- ``--eigensolvers``: LAPACK's subset solver (``evr``) for the top k of d
  eigenpairs against the divide-and-conquer route the fit takes above the
  crossover (tridiagonal reduction, every tridiagonal eigenpair, back-transform
  of the k wanted vectors), and scipy's ``eigh(driver="evd")`` for all, single
  threaded as the fit runs them, in float32 (the solve of float32 data) and
  float64, which sets the crossover the fit uses.

Run::

    python benchmarks/bench_fit.py                  # the grid, paper's sizes
    python benchmarks/bench_fit.py --eigensolvers   # the crossover
    python benchmarks/bench_fit.py --scale 0.1 --repeat 1 --widths 512
"""

import argparse
import math
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


def grid(args):
    rows = []
    for d in args.widths:
        X, y = make_data(args.scale, d)
        ks = [k for k in (16, 64, 500) if k < d] + [None]
        runs = {"floor": lambda X=X: X.T @ X}
        for k in ks:
            for geometry in ("tangent", "euclidean"):
                pos = PartOfSpeechComponentAnalysis(
                    n_components=k, geometry=geometry, target="noun"
                )
                runs[(k, geometry)] = lambda pos=pos, X=X, y=y: pos.fit(X, y)
        seconds = best_times(runs, args.repeat)
        for key, func in runs.items():
            if key == "floor":
                continue
            k, geometry = key
            rows.append(
                {
                    "d": d,
                    "k": "all" if k is None else k,
                    "geometry": geometry,
                    "floor (s)": seconds["floor"],
                    "fit (s)": seconds[key],
                    "x floor": seconds[key] / seconds["floor"],
                    "peak / input": peak_memory(func) / X.nbytes,
                }
            )
        del X
    return pd.DataFrame(rows)


def eigensolvers(args):
    from scipy import linalg
    from threadpoolctl import threadpool_limits

    from sklearn_pos._linalg import eigh_divide_and_conquer

    rng = np.random.default_rng(0)
    rows = []
    with threadpool_limits(limits=1, user_api="blas"):
        for d in args.widths:
            A = rng.standard_normal((d + 64, d))
            fracs = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 1.0)
            runs = {}
            for dtype in ("float32", "float64"):
                M = (A.T @ A / d).astype(dtype)
                runs[dtype, "evd"] = lambda M=M: linalg.eigh(M, driver="evd")
                for f in fracs:
                    k = max(1, math.floor(f * d))
                    runs[dtype, "evr", f] = lambda M=M, k=k, d=d: linalg.eigh(
                        M, subset_by_index=[d - k, d - 1], driver="evr"
                    )
                    runs[dtype, "d&c", f] = lambda M=M, k=k: eigh_divide_and_conquer(
                        M, k
                    )
            seconds = best_times(runs, args.repeat)
            for dtype in ("float32", "float64"):
                for f in fracs:
                    evr, dc = seconds[dtype, "evr", f], seconds[dtype, "d&c", f]
                    rows.append(
                        {
                            "d": d,
                            "dtype": dtype,
                            "k / d": f,
                            "evr, top k (s)": evr,
                            "d&c, top k (s)": dc,
                            "evd, all (s)": seconds[dtype, "evd"],
                            "evr / d&c": evr / dc,
                        }
                    )
    return pd.DataFrame(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the paper's sizes"
    )
    parser.add_argument(
        "--widths", type=int, nargs="+", default=[512, 768, 1024], metavar="D"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="timings per row; the best is shown"
    )
    parser.add_argument(
        "--eigensolvers",
        action="store_true",
        help="time the eigensolvers instead of the fit",
    )
    args = parser.parse_args(argv)
    fmt = {"index": False, "float_format": lambda v: f"{v:.3f}"}
    if args.eigensolvers:
        print(eigensolvers(args).to_string(**fmt))
        print(f"best of {args.repeat} interleaved rounds, one BLAS thread")
        return
    n = sum(max(2, int(round(c * args.scale))) for c in PAPER_SIZES.values())
    print(f"{n:,} float32 rows with the paper's class sizes; floor = one X.T @ X")
    table = grid(args)
    print(table.to_string(**fmt))
    worst = table[table["geometry"] == "tangent"]["x floor"].max()
    print(
        f"worst tangent fit: {worst:.2f} x floor (target <= 2); largest extra "
        f"memory {table['peak / input'].max():.2f} x input (target <= 0.25); best "
        f"of {args.repeat} interleaved rounds"
    )


if __name__ == "__main__":
    main()
