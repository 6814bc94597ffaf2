"""Draw ``method.png``: the method on planted three-dimensional data.

Two categories of unit vectors around one mean: "nouns" spread along one
direction of the tangent plane, "adjectives" along the other. Part-of-speech
component analysis (one component per category) recovers each category's
direction in the tangent space at the intrinsic mean; projecting onto the
noun subspace keeps a point's noun coordinate and drops its adjective one.

Run ``python doc/_static/method_figure.py`` to draw it again.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sklearn_pos import PartOfSpeechComponentAnalysis  # noqa: E402

rng = np.random.default_rng(0)
n = 150
mu = np.array([0.0, 0.0, 1.0])
noun = np.column_stack([rng.normal(0, 0.35, n), rng.normal(0, 0.05, n)])
adj = np.column_stack([rng.normal(0, 0.05, n), rng.normal(0, 0.35, n)])
tangent = np.vstack([noun, adj])
# Exp at the north pole: the tangent vector (a, b, 0) of length t goes to
# (sin t · direction, cos t).
t = np.linalg.norm(tangent, axis=1, keepdims=True)
X = np.hstack([np.sin(t) * tangent / t, np.cos(t)])
y = np.repeat(["noun", "adj"], n)

pos = PartOfSpeechComponentAnalysis(
    n_components=1, target="noun", output="projection"
).fit(X, y)
projected = pos.transform(X)
colours = {"noun": "tab:blue", "adj": "tab:orange"}
names = {"noun": "nouns", "adj": "adjectives"}

fig = plt.figure(figsize=(10, 4.2))
ax = fig.add_subplot(1, 2, 1, projection="3d")
u, v = np.mgrid[0 : 2 * np.pi : 40j, 0 : 0.7 * np.pi : 22j]
ax.plot_wireframe(
    np.cos(u) * np.sin(v), np.sin(u) * np.sin(v), np.cos(v),
    color="0.85", linewidth=0.5,
)  # fmt: skip
for label, colour in colours.items():
    rows = y == label
    ax.scatter(*X[rows].T, s=6, color=colour, label=names[label])
ax.scatter(*pos.mean_ * 1.02, s=80, color="black", marker="x", zorder=5,
           label="intrinsic mean μ")  # fmt: skip
ax.set_title("Embeddings on the unit sphere")
ax.set_axis_off()
ax.view_init(elev=50, azim=-60)
ax.legend(loc="lower left", fontsize=8)

ax = fig.add_subplot(1, 2, 2)
V = pos.tangent_vectors(X)
basis = np.linalg.svd(np.eye(3) - np.outer(pos.mean_, pos.mean_))[0][:, :2]
coords = V @ basis
for label, colour in colours.items():
    rows = y == label
    ax.scatter(*coords[rows].T, s=6, color=colour, label=names[label])
for i, (label, colour) in enumerate(zip(pos.classes_, ("tab:orange", "tab:blue"))):
    w = pos.class_components_[i, 0] @ basis
    ax.plot(*np.outer([-1.4, 1.4], w).T, color=colour, linewidth=2,
            label=f"{label} subspace W")  # fmt: skip
# A few adjectives, far along their own direction: their projection onto the
# noun subspace keeps only the small noun coordinate they have.
adjectives = np.flatnonzero(y == "adj")
shown = adjectives[np.argsort(-np.abs(tangent[adjectives, 1]))[:4]]
target = pos.tangent_vectors(projected[shown]) @ basis
for a, b in zip(coords[shown], target):
    ax.annotate("", b, a, arrowprops={"arrowstyle": "->", "color": "black", "lw": 1.2})
ax.set_aspect("equal")
ax.set_title("Tangent space at μ: the learned subspaces;\narrows: adjectives projected onto the noun subspace", fontsize=10)
ax.legend(loc="upper right", fontsize=8)
fig.suptitle(
    "Part-of-speech component analysis on planted 3-d data (an illustration)",
    fontsize=10,
)
fig.tight_layout()
fig.savefig(Path(__file__).with_name("method.png"), dpi=110)
