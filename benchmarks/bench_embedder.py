"""Throughput of CLIPEmbedder against what users would write instead, side by side.

Three ways to embed the same inputs with the same model object: a one-item-at-a-time
open_clip loop; batched open_clip as CLIP_benchmark and clip-retrieval do it (texts
tokenized to the full 77-token context and encoded in batches; images decoded and
preprocessed by a torch DataLoader with worker processes, encoded in batches); and
CLIPEmbedder. Targets: texts at least 10x both; images at least 1.7x the loop and
1.0x the DataLoader.

All sides use the same model object (ViT-B-32 with random weights by default: the cost
of a forward pass does not depend on the weights) and do the same work per item: the
loop tokenizes one text, or opens, decodes and preprocesses one image file, and calls
``encode_text`` / ``encode_image`` on it; CLIPEmbedder gets the whole list. Texts are
words of the WordNet vocabulary, images are generated JPEG files. Loading the model is
not timed.

Usage::

    python benchmarks/bench_embedder.py                   # CPU-sized defaults, 1-3 min
    python benchmarks/bench_embedder.py --device cuda --n-texts 100000 --n-images 5000 \
        --n-loop-texts 2000 --n-loop-images 500 --precision fp16
"""

import argparse
import os
import platform
import sys
import tempfile
import time

import numpy as np

from sklearn_pos.datasets import load_wordnet_vocabulary, make_image_folder


def wordnet_words():
    """The words of the bundled WordNet vocabulary."""
    return list(load_wordnet_vocabulary().data)


def _min_cos(a, b):
    """Lowest cosine between the rows of ``a`` and the first rows of ``b``."""
    n = min(len(a), len(b))
    return float(np.min(np.sum(a[:n] * b[:n], axis=1)))


def _sync(device):
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def loop_texts(bundle, texts):
    import torch

    model, tokenizer, device = bundle.model, bundle.tokenizer, bundle.device
    out = []
    with torch.inference_mode():
        for t in texts:
            e = model.encode_text(tokenizer([t]).to(device), normalize=True)
            out.append(e.float().cpu())
    _sync(device)
    return torch.cat(out).numpy()


def loop_images(bundle, paths):
    import torch
    from PIL import Image

    model, preprocess, device = bundle.model, bundle.preprocess, bundle.device
    out = []
    with torch.inference_mode():
        for p in paths:
            with Image.open(p) as img:
                x = preprocess(img.convert("RGB")).unsqueeze(0).to(device)
            out.append(model.encode_image(x, normalize=True).float().cpu())
    _sync(device)
    return torch.cat(out).numpy()


def batched_texts(bundle, texts, batch_size):
    """open_clip's own batched encoding: full-context tokens, fixed-size batches."""
    import torch

    model, tokenizer, device = bundle.model, bundle.tokenizer, bundle.device
    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            tokens = tokenizer(texts[i : i + batch_size]).to(device)
            out.append(model.encode_text(tokens, normalize=True).float().cpu())
    _sync(device)
    return torch.cat(out).numpy()


class _ImageFiles:
    """A map-style dataset of preprocessed image files (picklable for workers)."""

    def __init__(self, paths, preprocess):
        self.paths, self.preprocess = paths, preprocess

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        from PIL import Image

        with Image.open(self.paths[i]) as img:
            return self.preprocess(img.convert("RGB"))


def dataloader_images(bundle, paths, batch_size, num_workers):
    """Batched open_clip encoding fed by a torch DataLoader with worker processes."""
    import torch
    from torch.utils.data import DataLoader

    model, device = bundle.model, bundle.device
    loader = DataLoader(
        _ImageFiles(paths, bundle.preprocess),
        batch_size=batch_size,
        num_workers=num_workers,
        pin_memory=device.startswith("cuda"),
    )
    out = []
    with torch.inference_mode():
        for x in loader:
            out.append(model.encode_image(x.to(device), normalize=True).float().cpu())
    _sync(device)
    return torch.cat(out).numpy()


def compare(fns, repeats, device):
    """Time the callables in alternation; best time of each over ``repeats``.

    Alternating keeps a burst of load from other processes from favouring one side.
    """
    best = [float("inf")] * len(fns)
    results = [None] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            results[i] = fn()
            _sync(device)
            best[i] = min(best[i], time.perf_counter() - start)
    return results, best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="ViT-B-32")
    parser.add_argument(
        "--pretrained",
        default=None,
        help="open_clip tag or checkpoint; default random weights",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "bf16"])
    parser.add_argument(
        "--n-texts", type=int, default=2000, help="words embedded by CLIPEmbedder"
    )
    parser.add_argument(
        "--n-loop-texts", type=int, default=80, help="words embedded by the loop"
    )
    parser.add_argument(
        "--n-images", type=int, default=192, help="images embedded by CLIPEmbedder"
    )
    parser.add_argument(
        "--n-loop-images", type=int, default=48, help="images embedded by the loop"
    )
    parser.add_argument(
        "--image-size", type=int, nargs=2, default=(500, 375), metavar=("W", "H")
    )
    parser.add_argument(
        "--batch-size", type=int, default=None, help="default: CLIPEmbedder's choice"
    )
    parser.add_argument("--num-workers", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3, help="report the best run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--skip", choices=["text", "image"], action="append", default=[]
    )
    args = parser.parse_args(argv)

    import torch

    from sklearn_pos.embedding import CLIPEmbedder

    common = dict(
        model_name=args.model,
        pretrained=args.pretrained,
        device=args.device,
        precision=args.precision,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        random_state=args.seed,
    )
    text_emb = CLIPEmbedder(modality="text", **common)
    image_emb = CLIPEmbedder(modality="image", **common)
    t0 = time.perf_counter()
    bundle = text_emb.get_model()  # shared with image_emb
    load_s = time.perf_counter() - t0

    print(
        f"python {platform.python_version()}, torch {torch.__version__}, "
        f"{os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}"
    )
    weights = args.pretrained or "random weights"
    print(f"model {args.model} ({weights}) on {bundle.device}, {args.precision}")
    print(
        f"batch size {text_emb._batch_size(bundle.device)} (texts) / "
        f"{image_emb._batch_size(bundle.device)} (images); model load {load_s:.1f} s; "
        f"best of {args.repeats} alternating run(s)"
    )
    if args.precision != "fp32":
        print("note: the loop runs in fp32; CLIPEmbedder in mixed precision")

    rows = []
    rng = np.random.default_rng(args.seed)
    if "text" not in args.skip:
        vocab = wordnet_words()
        n = min(args.n_texts, len(vocab))
        words = [vocab[i] for i in rng.choice(len(vocab), size=n, replace=False)]
        loop_words = words[: args.n_loop_texts]
        batch = text_emb._batch_size(bundle.device)
        loop_texts(bundle, loop_words[:2])  # warm-up
        batched_texts(bundle, words[:batch], batch)
        text_emb.transform(words[:64])
        (ref, full, ours), (loop_s, full_s, ours_s) = compare(
            [
                lambda: loop_texts(bundle, loop_words),
                lambda: batched_texts(bundle, words, batch),
                lambda: text_emb.transform(words),
            ],
            args.repeats,
            bundle.device,
        )
        rows.append(("text", "open_clip loop", len(loop_words), loop_s, None))
        rows.append(
            ("text", "open_clip batched", len(words), full_s, _min_cos(ref, full))
        )
        rows.append(("text", "CLIPEmbedder", len(words), ours_s, _min_cos(ref, ours)))
        print(
            f"texts: {len(words)} WordNet words, mean length "
            f"{np.mean([len(w) for w in words]):.1f} characters"
        )

    if "image" not in args.skip:
        with tempfile.TemporaryDirectory() as folder:
            n_files = max(args.n_images, args.n_loop_images)
            # Smooth colour waves: JPEGs about as costly to decode as photographs.
            paths = make_image_folder(
                folder,
                classes=("red",),
                n_per_class=n_files,
                image_size=tuple(args.image_size),
                pattern="fields",
                formats=("jpeg",),
                random_state=args.seed,
            ).paths
            loop_paths = paths[: args.n_loop_images]
            batch = image_emb._batch_size(bundle.device)
            workers = image_emb._n_workers()
            mine = paths[: args.n_images]
            loop_images(bundle, paths[:2])  # warm-up
            image_emb.transform(paths[:4])
            (ref, loader, ours), (loop_s, loader_s, ours_s) = compare(
                [
                    lambda: loop_images(bundle, loop_paths),
                    lambda: dataloader_images(bundle, mine, batch, workers),
                    lambda: image_emb.transform(mine),
                ],
                args.repeats,
                bundle.device,
            )
            rows.append(("image", "open_clip loop", len(loop_paths), loop_s, None))
            rows.append(
                ("image", "DataLoader", len(mine), loader_s, _min_cos(ref, loader))
            )
            rows.append(
                ("image", "CLIPEmbedder", len(mine), ours_s, _min_cos(ref, ours))
            )
            w, h = args.image_size
            print(
                f"images: generated {w}x{h} JPEG files, "
                f"{image_emb._n_workers()} decoding worker(s)"
            )

    print()
    header = (
        f"{'modality':<9}{'method':<19}{'items':>7}{'seconds':>10}"
        f"{'items/s':>10}{'vs loop':>9}{'vs batched':>11}{'min cos':>10}"
    )
    print(header)
    print("-" * len(header))
    rates = {(m, meth): n / secs for m, meth, n, secs, _ in rows}
    for modality, method, n, secs, cos in rows:
        rate = n / secs
        loop = rates[(modality, "open_clip loop")]
        peer = rates.get((modality, "open_clip batched")) or rates.get(
            (modality, "DataLoader")
        )
        cos_s = "" if cos is None else f"{cos:.6f}"
        print(
            f"{modality:<9}{method:<19}{n:>7}{secs:>10.2f}{rate:>10.1f}"
            f"{rate / loop:>8.1f}x{rate / peer:>10.2f}x{cos_s:>10}"
        )
    print("\nmin cos: lowest cosine with the loop's embeddings of the same items")
    targets = {"text": (10.0, 10.0), "image": (1.7, 1.0)}
    for modality, (vs_loop, vs_peer) in targets.items():
        if (modality, "CLIPEmbedder") not in rates:
            continue
        ours = rates[(modality, "CLIPEmbedder")]
        loop = rates[(modality, "open_clip loop")]
        peer = (
            rates.get((modality, "open_clip batched"))
            or rates[(modality, "DataLoader")]
        )
        ok = ours / loop >= vs_loop and ours / peer >= vs_peer
        print(
            f"{modality}: {ours / loop:.1f}x the loop (target {vs_loop}x), "
            f"{ours / peer:.2f}x batched open_clip (target {vs_peer}x): "
            f"{'met' if ok else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
