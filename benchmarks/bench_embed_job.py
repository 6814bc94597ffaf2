"""Rows per second of the embed job against one CLIPEmbedder.transform call.

On the same inputs and the same model, in one run: ``CLIPEmbedder.transform``
on the whole list (nothing written), ``embed_collection`` in this process
(partitions, Parquet files, manifest: its overhead, target at most 10%), and
``embed_collection`` on a Dask ``LocalCluster`` of 1 and of 2 worker
processes (``scheduler="local:N"``; each such run starts its cluster and
loads the model in every worker, and that start-up is part of its time, as it
is of a user's run). The in-process rows alternate, best of ``--repeats``;
every job writes into a fresh folder. Inputs are random WordNet words, or
generated JPEG files (``--modality image``). ViT-B-32 with random weights by
default: a forward pass costs the same with any weights.

Usage::

    python benchmarks/bench_embed_job.py                        # texts, CPU, ~2 min
    python benchmarks/bench_embed_job.py --modality image --n 400
    python benchmarks/bench_embed_job.py --device cuda --precision fp16 --n 100000 \
        --partition-size 10000
"""

import argparse
import os
import platform
import shutil
import tempfile
import time

import numpy as np

from sklearn_pos import CLIPEmbedder, embed_collection, read_embeddings
from sklearn_pos.datasets import load_wordnet_vocabulary, make_image_folder


def _inputs(args, folder):
    rng = np.random.default_rng(args.seed)
    if args.modality == "text":
        vocab = list(load_wordnet_vocabulary().data)
        picked = rng.choice(len(vocab), size=min(args.n, len(vocab)), replace=False)
        return [vocab[i] for i in picked]
    images = os.path.join(folder, "images")
    # Smooth colour waves: JPEGs about as costly to decode as photographs.
    make_image_folder(
        images,
        classes=("red",),
        n_per_class=args.n,
        image_size=tuple(args.image_size),
        pattern="fields",
        formats=("jpeg",),
        random_state=args.seed,
    )
    return images


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="ViT-B-32")
    parser.add_argument("--pretrained", default=None, help="default: random weights")
    parser.add_argument("--modality", choices=["text", "image"], default="text")
    parser.add_argument("--n", type=int, default=6000, help="rows embedded")
    parser.add_argument("--partition-size", type=int, default=1000)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "bf16"])
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--num-workers", type=int, default=None)
    parser.add_argument(
        "--image-size", type=int, nargs=2, default=(500, 375), metavar=("W", "H")
    )
    parser.add_argument("--repeats", type=int, default=2, help="best of, in process")
    parser.add_argument(
        "--workers", type=int, nargs="*", default=[1, 2], help="local:N runs"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import torch

    common = {
        "model_name": args.model,
        "pretrained": args.pretrained,
        "device": args.device,
        "precision": args.precision,
        "batch_size": args.batch_size,
        "num_workers": args.num_workers,
        "random_state": args.seed,
    }
    tmp = tempfile.mkdtemp(prefix="bench_embed_job_")
    try:
        source = _inputs(args, tmp)
        embedder = CLIPEmbedder(modality=args.modality, **common)
        if args.modality == "text":
            items = source
        else:
            from sklearn_pos.datasets import IMAGE_SUFFIXES

            items = sorted(
                os.path.join(source, "red", f)
                for f in os.listdir(os.path.join(source, "red"))
                if os.path.splitext(f)[1].lower() in IMAGE_SUFFIXES
            )
        device = embedder.get_model().device
        embedder.transform(items[:8])  # warm-up: model loaded, kernels chosen
        print(
            f"python {platform.python_version()}, torch {torch.__version__}, "
            f"{os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}"
        )
        print(
            f"model {args.model} ({args.pretrained or 'random weights'}) on {device}, "
            f"{args.precision}; {len(items)} {args.modality} rows, partitions of "
            f"{args.partition_size}"
        )
        runs = {"transform": [], "job": []}
        count = [0]

        def job(scheduler=None):
            count[0] += 1
            out = os.path.join(tmp, f"out{count[0]}")
            start = time.perf_counter()
            summary = embed_collection(
                source,
                out,
                embedder=embedder,
                partition_size=args.partition_size,
                scheduler=scheduler,
                progress=False,
            )
            seconds = time.perf_counter() - start
            assert summary.n_rows == len(items) and summary.n_errors == 0
            X, _ = read_embeddings(out)
            shutil.rmtree(out)
            return seconds, X

        for _ in range(args.repeats):
            start = time.perf_counter()
            E = embedder.transform(items)
            runs["transform"].append(time.perf_counter() - start)
            seconds, X = job()
            runs["job"].append(seconds)
        agree = float(np.min(np.sum(E * X, axis=1)))
        rows = [
            ("CLIPEmbedder.transform", min(runs["transform"])),
            ("embed_collection, this process", min(runs["job"])),
        ]
        for n in args.workers:
            seconds, X = job(f"local:{n}")
            rows.append((f"embed_collection, local:{n}", seconds))
        base = rows[0][1]
        print()
        print(f"{'method':<34} {'seconds':>8} {'rows/s':>9} {'vs transform':>13}")
        for name, seconds in rows:
            print(
                f"{name:<34} {seconds:8.2f} {len(items) / seconds:9.1f} "
                f"{(seconds / base - 1) * 100:+12.1f}%"
            )
        print(f"\nlowest cosine between the job's and transform's rows: {agree:.6f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
