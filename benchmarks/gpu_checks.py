"""Checks for a GPU machine, one table: text and image throughput, the tangent
fit on CUDA tensors through the Array API, and the out-of-memory back-off.

(a) all WordNet words (141,445) through ``CLIPEmbedder`` with ViT-B-32 in fp16
    (random weights, ``pretrained=None``: the speed does not depend on them);
    target <= 15 s.
(b) images/s on 5,000 generated JPEGs, decoded in worker processes;
    target >= 2,000/s.
(c) ``PartOfSpeechComponentAnalysis(geometry="tangent").fit`` on 141,445 x 512
    float32 CUDA tensors under ``array_api_dispatch`` (the paper's class sizes),
    after a warm-up, timed between ``torch.cuda.synchronize()`` calls; target
    <= 50 ms, with the part of it spent on the four d x d eigenproblems,
    which are solved on the host, next to ``torch.linalg.eigh`` solving them
    on the device. The result is compared with the NumPy fit.
(d) the out-of-memory back-off on a real CUDA out-of-memory error: most of the
    free GPU memory is held by one tensor, then the words are embedded in one
    batch, which does not fit; every row must come back, equal to a run in
    small batches.

Usage::

    SCIPY_ARRAY_API=1 python benchmarks/gpu_checks.py            # on a GPU
    SCIPY_ARRAY_API=1 python benchmarks/gpu_checks.py --quick    # CPU smoke run

``--quick`` runs small sizes on the CPU with the bundled tiny model and skips
(d), to check the script itself.
"""

import argparse
import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before scipy is imported

import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import torch  # noqa: E402

from sklearn_pos import CLIPEmbedder, PartOfSpeechComponentAnalysis  # noqa: E402
from sklearn_pos._linalg import contrastive_subspaces  # noqa: E402
from sklearn_pos.datasets import (  # noqa: E402
    load_image_folder,
    load_wordnet_vocabulary,
    make_image_folder,
)

PAPER_SIZES = {"noun": 112_219, "adj": 18_021, "verb": 7_295, "adv": 3_910}


def _sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _timed(fn, device):
    _sync(device)
    start = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - start, out


def text_throughput(args):
    words = list(load_wordnet_vocabulary(n_words=args.n_words, random_state=0).data)
    emb = CLIPEmbedder(args.model, None, device=args.device, precision=args.precision)
    emb.get_model()  # loading is not timed
    emb.transform(words[:256])  # warm-up
    seconds, E = _timed(lambda: emb.transform(words), args.device)
    assert E.shape[0] == len(words)
    return [
        (
            f"(a) text: {len(words):,} WordNet words, {args.model} {args.precision}",
            f"{seconds:.2f} s, {len(words) / seconds:,.0f} words/s",
            "<= 15 s (all 141,445 words)",
        )
    ]


def image_throughput(args, folder):
    per_class = args.n_images // 5
    make_image_folder(
        folder,
        classes=("red", "green", "blue", "yellow", "purple"),
        n_per_class=per_class,
        image_size=256,
        formats=("jpeg",),
        random_state=0,
    )
    paths = list(load_image_folder(folder).paths)
    emb = CLIPEmbedder(
        args.model,
        None,
        modality="image",
        device=args.device,
        precision=args.precision,
        num_workers=args.workers,
    )
    emb.get_model()
    emb.transform(paths[:64])  # warm-up
    seconds, E = _timed(lambda: emb.transform(paths), args.device)
    assert E.shape[0] == len(paths)
    return [
        (
            f"(b) images: {len(paths):,} JPEGs 256x256, {args.workers} workers",
            f"{seconds:.2f} s, {len(paths) / seconds:,.0f} images/s",
            ">= 2,000 images/s",
        )
    ]


def _fit_data(scale, n_features, seed=0):
    rng = np.random.RandomState(seed)
    sizes = {c: max(2, round(n * scale)) for c, n in PAPER_SIZES.items()}
    labels = np.repeat(list(sizes), list(sizes.values()))
    X = rng.normal(size=(labels.size, n_features)).astype(np.float32)
    X += np.float32(3.0 / np.sqrt(n_features))  # a cone, as CLIP embeddings
    for c in sizes:
        offset = 0.3 * rng.normal(size=n_features) / np.sqrt(n_features)
        X[labels == c] += offset.astype(np.float32)
    return X, labels


def _eigensolves(X, y, k, device, repeat=5):
    """Median seconds of the fit's eigenproblems: on the host, as the fit
    solves them, and by ``torch.linalg.eigh`` on ``device``, for comparison.

    The categories' second moments of ``X`` stand in for the fit's tangent
    covariances: the solve costs the same for any symmetric matrices.
    """
    covariances = np.stack(
        [np.cov(X[y == c], rowvar=False, dtype=np.float64) for c in np.unique(y)]
    )
    normal = X.mean(axis=0, dtype=np.float64)
    normal /= np.linalg.norm(normal)
    host = []
    for _ in range(repeat):
        C = covariances.copy()
        start = time.perf_counter()
        contrastive_subspaces(C, 0.5, k, normal, np.float32)
        host.append(time.perf_counter() - start)
    M = torch.asarray(
        covariances - 0.5 * covariances.sum(axis=0), dtype=torch.float32, device=device
    )
    torch.linalg.eigh(M)  # warm-up
    on_device = [
        _timed(lambda: torch.linalg.eigh(M)[1][..., -k:], device)[0]
        for _ in range(repeat)
    ]
    return statistics.median(host), statistics.median(on_device)


def tangent_fit(args):
    X, y = _fit_data(args.scale, 512)
    X_dev = torch.asarray(X, device=args.device)
    rows = []
    for k in (64, 500):
        est = PartOfSpeechComponentAnalysis(n_components=k)
        with sklearn.config_context(array_api_dispatch=True):
            est.fit(X_dev, y)  # warm-up
            times = [
                _timed(lambda: est.fit(X_dev, y), args.device)[0] for _ in range(5)
            ]
        assert est.components_.device == X_dev.device
        ref = PartOfSpeechComponentAnalysis(n_components=k).fit(X, y)
        diff = np.abs(est.components_.cpu().numpy() - ref.components_).max()
        floor = _timed(lambda: X_dev.T @ X_dev, args.device)[0]
        host, on_device = _eigensolves(X, y, k, args.device)
        rows.append(
            (
                f"(c) tangent fit {X.shape[0]:,} x 512 float32 on {args.device}, k={k}",
                f"{1000 * statistics.median(times):.1f} ms (X.T @ X: "
                f"{1000 * floor:.1f} ms; of the fit, the 4 eigensolves on the host: "
                f"{1000 * host:.1f} ms; torch.linalg.eigh on {args.device}: "
                f"{1000 * on_device:.1f} ms); max |W - W_numpy| {diff:.1e}",
                "<= 50 ms",
            )
        )
    return rows


def out_of_memory_back_off(args):
    words = list(load_wordnet_vocabulary(n_words=20_000, random_state=0).data)
    small = CLIPEmbedder(
        args.model, None, device=args.device, precision=args.precision, batch_size=256
    ).transform(words)
    free, _ = torch.cuda.mem_get_info()
    # Hold all but 1 GiB: one batch of 20,000 texts then cannot fit.
    hold = torch.empty(max(0, free - 2**30), dtype=torch.uint8, device=args.device)
    try:
        emb = CLIPEmbedder(
            args.model,
            None,
            device=args.device,
            precision=args.precision,
            batch_size=len(words),
        )
        seconds, big = _timed(lambda: emb.transform(words), args.device)
    finally:
        del hold
        torch.cuda.empty_cache()
    same_rows = big.shape == small.shape
    diff = float(np.abs(big - small).max()) if same_rows else float("nan")
    return [
        (
            f"(d) OOM back-off: {len(words):,} words in one batch, 1 GiB free",
            f"{big.shape[0]:,} rows back in {seconds:.1f} s; max |E - E_small| "
            f"{diff:.1e}",
            "all rows, equal to small batches",
        )
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small CPU smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.device, args.model, args.precision = "cpu", "sklearn-pos-tiny", "fp32"
        args.n_words, args.n_images, args.workers, args.scale = 2_000, 200, 2, 0.02
    else:
        if not torch.cuda.is_available():
            parser.error("no CUDA device; run with --quick for the CPU smoke run")
        args.device, args.model, args.precision = "cuda", "ViT-B-32", "fp16"
        args.n_words, args.n_images, args.workers, args.scale = None, 5_000, 8, 1.0
    warnings.simplefilter("ignore", UserWarning)
    rows = text_throughput(args)
    with tempfile.TemporaryDirectory() as folder:
        rows += image_throughput(args, folder)
    rows += tangent_fit(args)
    if args.quick:
        rows.append(("(d) OOM back-off", "skipped (--quick: no CUDA device)", ""))
    else:
        rows += out_of_memory_back_off(args)
    device = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    print(f"device: {device}; torch {torch.__version__}; sklearn {sklearn.__version__}")
    width = max(len(r[0]) for r in rows)
    print(f"{'check':<{width}}  {'measured':<60}  target")
    for name, measured, target in rows:
        print(f"{name:<{width}}  {measured:<60}  {target}")


if __name__ == "__main__":
    main()
