"""Figures of fitted part-of-speech subspaces (matplotlib).

Two displays in the style of scikit-learn's ``ConfusionMatrixDisplay``:
a class constructed from computed values, with a :meth:`plot` method and a
``from_estimator`` constructor that computes the values and plots them.

- :class:`SubspaceScatterDisplay`: the points of every category on two
  directions of one learned subspace, coloured by category (the scatter
  plots of Oldfield et al., 2023).
- :class:`ClassInvarianceDisplay`: the class-invariance table of
  :func:`sklearn_pos.metrics.class_invariance` as an annotated heatmap.

:func:`plot_subspace_scatter` and :func:`plot_class_invariance` are
shortcuts for the two ``from_estimator`` constructors.

Every figure of categories uses one colour per category, the same in the
API and in the ``sklearn-pos`` command: :func:`category_colors` gives the
parts of speech fixed colours (noun, adjective, verb, adverb, in that
order) and any other category the free colours of matplotlib's ``tab10``
cycle, in order; :func:`category_order` is the matching default order.

Figures computed from random CLIP weights say so: ``from_estimator`` reads
the caveat of the estimator's :class:`~sklearn_pos.CLIPEmbedder` objects
(:func:`sklearn_pos.caveats.caveat_of`) and writes it as the last line of
the axes title and of the figure title; the table of a
:class:`ClassInvarianceDisplay` carries it in ``attrs["caveat"]``.

matplotlib is imported when a figure is drawn, not when this module is
imported; install it with ``pip install "sklearn_pos[plot]"``.
"""

import re
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from .caveats import _check_caveat, caveat_of, stamp_figure, stamp_table
from .metrics import class_invariance

__all__ = [
    "PART_OF_SPEECH_COLORS",
    "PART_OF_SPEECH_ORDER",
    "ClassInvarianceDisplay",
    "SubspaceScatterDisplay",
    "category_colors",
    "category_order",
    "plot_class_invariance",
    "plot_subspace_scatter",
    "save_subspace_figures",
]

#: The parts of speech in the paper's order (N, A, V, R), as WordNet labels them.
PART_OF_SPEECH_ORDER = ("noun", "adj", "verb", "adv")

#: Colours of the parts of speech: the first four of matplotlib's ``tab10``.
PART_OF_SPEECH_COLORS = {
    "noun": "tab:blue",
    "adj": "tab:orange",
    "verb": "tab:green",
    "adv": "tab:red",
}

# matplotlib's tab10 cycle, in order: the other categories take the colours
# no part of speech among the categories holds.
_TAB10 = (
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:red",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:gray",
    "tab:olive",
    "tab:cyan",
)


def _label(value):
    """A category as a plain Python value (numpy scalars unwrapped)."""
    return value.item() if hasattr(value, "item") else value


def category_order(categories):
    """Distinct categories in display order: parts of speech first.

    The parts of speech come in the order of :data:`PART_OF_SPEECH_ORDER`
    (noun, adj, verb, adv), then every other category in sorted order.

    Parameters
    ----------
    categories : array-like
        Category labels, repeated or not.

    Returns
    -------
    order : list
        Each distinct category once.

    Examples
    --------
    >>> from sklearn_pos.plotting import category_order
    >>> category_order(["verb", "artist", "noun", "adv", "noun", "adj"])
    ['noun', 'adj', 'verb', 'adv', 'artist']
    """
    distinct = [_label(c) for c in np.unique(np.asarray(categories))]
    known = [c for c in PART_OF_SPEECH_ORDER if c in distinct]
    return known + [c for c in distinct if c not in known]


def category_colors(categories):
    """One matplotlib colour per category, the same in every figure.

    The parts of speech keep the colours of :data:`PART_OF_SPEECH_COLORS`
    whatever the other categories are. The other categories take, in the
    order of :func:`category_order`, the ``tab10`` colours that no part of
    speech among ``categories`` holds (so categories that are not parts of
    speech at all get matplotlib's usual blue, orange, green, ...), cycling
    when there are more categories than colours. The colours depend on the
    set of categories only, not on their order or counts, so every figure
    of the same categories (the API's and the ``sklearn-pos`` command's)
    draws them alike.

    Parameters
    ----------
    categories : array-like
        Category labels, repeated or not.

    Returns
    -------
    colors : dict
        Category → matplotlib colour name, in display order.

    Examples
    --------
    >>> from sklearn_pos.plotting import category_colors
    >>> category_colors(["adv", "verb", "adj", "noun", "artist"])["artist"]
    'tab:purple'
    >>> category_colors(["adv", "noun", "artist"])
    {'noun': 'tab:blue', 'adv': 'tab:red', 'artist': 'tab:orange'}
    """
    order = category_order(categories)
    held = {PART_OF_SPEECH_COLORS[c] for c in order if c in PART_OF_SPEECH_COLORS}
    free = [colour for colour in _TAB10 if colour not in held]
    colors, n_others = {}, 0
    for c in order:
        if c in PART_OF_SPEECH_COLORS:
            colors[c] = PART_OF_SPEECH_COLORS[c]
        else:
            colors[c] = free[n_others % len(free)]
            n_others += 1
    return colors


def _pyplot():
    """``matplotlib.pyplot``, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "sklearn_pos.plotting draws with matplotlib, which is not installed. "
            'Install it with: pip install "sklearn_pos[plot]" (or pip install '
            "matplotlib)."
        ) from exc
    return plt


def _axes(ax):
    """``ax``, or the axes of a new figure whose layout keeps every label inside."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(layout="constrained")
    return ax


def _scale_free_ticks(axis):
    """Tick labels readable at any scale.

    When the largest tick is below 0.1 or at least 1000 in magnitude, ticks
    are written as mantissas with the power of ten shown once at the end of
    the axis (x10⁻⁵); points gathered far from zero get an offset plus small
    differences. Ticks never collapse to one repeated label.
    """
    from matplotlib.ticker import ScalarFormatter

    formatter = ScalarFormatter(useMathText=True)
    formatter.set_powerlimits((-2, 3))
    axis.set_major_formatter(formatter)


def _mark(ax, caveat):
    """Write the caveat as the last line of the axes title and the figure's.

    The axes title keeps it when the caller later replaces the figure title
    (a figure of several panels); the figure title follows the convention of
    :func:`sklearn_pos.caveats.stamp_figure`.
    """
    _check_caveat(caveat)
    if caveat is None:
        return
    title = ax.get_title()
    if caveat not in title.splitlines():
        ax.set_title(f"{title}\n{caveat}" if title else caveat)
    stamp_figure(ax.figure, caveat)


class ClassInvarianceDisplay:
    """Class-invariance heatmap: rows are subspaces, columns data categories.

    Build it with :meth:`from_estimator` (which computes the table with
    :func:`~sklearn_pos.metrics.class_invariance`) or from a table computed
    beforehand, then call :meth:`plot`. Every cell is annotated with its
    value.

    Parameters
    ----------
    table : pandas.DataFrame of shape (n_subspaces, n_categories)
        Scores, e.g. the output of
        :func:`~sklearn_pos.metrics.class_invariance`; the index labels the
        rows (subspaces) and the columns the data categories.

    Attributes
    ----------
    im_ : matplotlib.image.AxesImage
        The heatmap.

    text_ : ndarray of shape (n_subspaces, n_categories), dtype=object
        The annotations (:class:`matplotlib.text.Text`), or ``None`` when
        ``values_format=None``.

    colorbar_ : matplotlib.colorbar.Colorbar or None
        The colour bar, if drawn.

    caveat_ : str or None
        The caveat written on the figure (e.g. ``"random weights — not a
        result"``), or ``None``.

    ax_ : matplotlib.axes.Axes
        Axes of the heatmap.

    figure_ : matplotlib.figure.Figure
        Figure holding the heatmap.

    See Also
    --------
    sklearn_pos.metrics.class_invariance : The table drawn here.
    SubspaceScatterDisplay : Points of each category in one subspace.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_pos import PartOfSpeechComponentAnalysis
    >>> from sklearn_pos.plotting import ClassInvarianceDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 6)) + 4
    >>> y = np.repeat(["adj", "noun", "verb"], 100)
    >>> pos = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    >>> disp = ClassInvarianceDisplay.from_estimator(pos, X, y)
    >>> disp.table.shape, disp.text_.shape
    ((3, 3), (3, 3))
    >>> disp.ax_.get_ylabel()
    'subspace'
    """

    def __init__(self, table):
        self.table = table

    def plot(
        self,
        *,
        ax=None,
        cmap="viridis",
        values_format=".2f",
        colorbar=True,
        colorbar_label=None,
        vmin=0.0,
        vmax=None,
        title="Class invariance",
        caveat=None,
    ):
        """Draw the heatmap.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw in; ``None`` creates a new figure.

        cmap : str or matplotlib Colormap, default="viridis"
            Colour map.

        values_format : str or None, default=".2f"
            Format specification of the annotations; ``None`` draws none.

        colorbar : bool, default=True
            Add a colour bar.

        colorbar_label : str, default=None
            Label of the colour bar; ``None`` chooses one from the values
            (row shares when every row sums to one within rounding, 0.02,
            mean squared norms otherwise).

        vmin, vmax : float, default=0.0 and None
            Range of the colour map; ``None`` uses the largest value.

        title : str or None, default="Class invariance"
            Title of the axes.

        caveat : str or None, default=None
            Caveat of the values (e.g.
            :data:`sklearn_pos.caveats.RANDOM_WEIGHTS`): written as the last
            line of the axes title and of the figure title, and recorded in
            ``table.attrs["caveat"]``. ``None`` uses the table's own
            ``attrs["caveat"]``, if any.

        Returns
        -------
        display : ClassInvarianceDisplay
            The display, with ``im_``, ``text_``, ``colorbar_``, ``caveat_``,
            ``ax_`` and ``figure_`` set.
        """
        table = self.table
        if not isinstance(table, pd.DataFrame):
            values = np.asarray(table, dtype=float)
            if values.ndim != 2:
                raise ValueError(
                    f"table must be a 2-d table of scores, got shape {values.shape}."
                )
            table = pd.DataFrame(values)
        _check_caveat(caveat)
        if caveat is None:
            caveat = table.attrs.get("caveat")
        values = table.to_numpy(dtype=float)
        if values.size == 0:
            raise ValueError("table is empty; it needs at least one score.")
        ax = _axes(ax)
        n_rows, n_cols = values.shape
        im = ax.imshow(
            values,
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
            aspect="auto",
            interpolation="nearest",
        )
        ax.set_xticks(np.arange(n_cols), [str(c) for c in table.columns])
        ax.set_yticks(np.arange(n_rows), [str(i) for i in table.index])
        ax.set_xlabel(table.columns.name or "data")
        ax.set_ylabel(table.index.name or "subspace")
        if title is not None:
            ax.set_title(title)

        text = None
        if values_format is not None:
            text = np.empty(values.shape, dtype=object)
            for i in range(n_rows):
                for j in range(n_cols):
                    r, g, b, _ = im.cmap(im.norm(values[i, j]))
                    light = 0.299 * r + 0.587 * g + 0.114 * b > 0.5
                    text[i, j] = ax.text(
                        j,
                        i,
                        format(values[i, j], values_format),
                        ha="center",
                        va="center",
                        color="black" if light else "white",
                    )

        cbar = None
        if colorbar:
            if colorbar_label is None:
                rows_sum_to_one = np.allclose(values.sum(axis=1), 1.0, atol=0.02)
                colorbar_label = (
                    "share of the subspace's energy"
                    if rows_sum_to_one
                    else "mean squared norm in the subspace"
                )
            cbar = ax.figure.colorbar(im, ax=ax)
            cbar.set_label(colorbar_label)

        _mark(ax, caveat)
        if caveat is not None:
            stamp_table(table, caveat)
        self.table, self.caveat_ = table, caveat
        self.im_, self.text_, self.colorbar_ = im, text, cbar
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(
        cls, estimator, X, y, *, labels=None, normalize=True, ax=None, **kwargs
    ):
        """Compute the class-invariance table of a fitted estimator and plot it.

        Parameters
        ----------
        estimator : PartOfSpeechComponentAnalysis or VocabularyPartOfSpeechAnalysis
            Fitted estimator.

        X : array-like of shape (n_samples, n_features)
            Embeddings.

        y : array-like of shape (n_samples,)
            Category of each row.

        labels : array-like, default=None
            Data categories (columns), in order; ``None``: sorted values of
            ``y``.

        normalize : bool, default=True
            Row-normalise the table (as in the paper).

        ax : matplotlib Axes, default=None
            Axes to draw in.

        **kwargs
            Passed to :meth:`plot`. Without ``caveat``, the caveat of the
            estimator's CLIP embedders (:func:`~sklearn_pos.caveats.caveat_of`)
            is used: a figure of random weights says so.

        Returns
        -------
        display : ClassInvarianceDisplay
        """
        table = class_invariance(estimator, X, y, labels=labels, normalize=normalize)
        kwargs.setdefault("caveat", caveat_of(estimator))
        return cls(table).plot(ax=ax, **kwargs)


class SubspaceScatterDisplay:
    """Points of every category on two directions of one subspace.

    Each category is drawn in its own colour, so a subspace that captures
    its category shows that category spread out and the others gathered
    near the origin. Both axes have the same scale (equal aspect), so a
    category spread along one direction only shows as a line, not as a
    round cloud; the subspace's own category is drawn last, on top of the
    others.

    Parameters
    ----------
    coordinates : ndarray of shape (n_samples, 2)
        Coordinates of the points on the two directions.

    labels : array-like of shape (n_samples,)
        Category of each point.

    subspace : str, default=None
        Name of the subspace, used in the title and axis labels.

    components : tuple of int, default=(0, 1)
        Indices (0-based) of the two directions, used in the axis labels.

    n_total : dict or None, default=None
        Category → number of points the category had before some were left
        out (subsampling). When fewer are drawn, the title says how many:
        ``"150 of 300 points shown"``, and the legend gives each subsampled
        category's ``n of N``. ``None``: every point is drawn.

    Attributes
    ----------
    scatters_ : dict
        Category label → :class:`matplotlib.collections.PathCollection`.

    legend_ : matplotlib.legend.Legend or None
        The legend, if drawn.

    caveat_ : str or None
        The caveat written on the figure, or ``None``.

    ax_ : matplotlib.axes.Axes
        Axes of the plot.

    figure_ : matplotlib.figure.Figure
        Figure holding the plot.

    See Also
    --------
    ClassInvarianceDisplay : How much of each category every subspace holds.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_pos import PartOfSpeechComponentAnalysis
    >>> from sklearn_pos.plotting import SubspaceScatterDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 6)) + 4
    >>> y = np.repeat(["adj", "noun", "verb"], 100)
    >>> pos = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    >>> disp = SubspaceScatterDisplay.from_estimator(
    ...     pos, X, y, subspace="noun", max_points_per_class=50)
    >>> {c: len(s.get_offsets()) for c, s in disp.scatters_.items()}
    {'noun': 50, 'adj': 50, 'verb': 50}
    >>> disp.scatters_["noun"].get_facecolor()[0, :3].round(3).tolist()  # tab:blue
    [0.122, 0.467, 0.706]
    >>> disp.ax_.get_xlabel()
    'noun direction 1'
    >>> disp.ax_.get_title()
    'Categories on the noun subspace\\n150 of 300 points shown'
    >>> disp.ax_.get_aspect()  # the same scale on both axes
    1.0
    """

    def __init__(
        self, coordinates, labels, *, subspace=None, components=(0, 1), n_total=None
    ):
        self.coordinates = coordinates
        self.labels = labels
        self.subspace = subspace
        self.components = components
        self.n_total = n_total

    def plot(
        self,
        *,
        ax=None,
        order=None,
        colors=None,
        s=6.0,
        alpha=0.5,
        legend=True,
        title=None,
        caveat=None,
    ):
        """Draw the scatter plot.

        Both axes have the same scale (``ax.set_aspect("equal",
        adjustable="datalim")``): the shorter data range is widened to keep
        the picture's proportions true, so a category spread along one
        direction only (a range of 1e-3 against 1e-5) is drawn as the thin
        line it is instead of being stretched into a round cloud. The axes
        fit the points whatever their scale: the lines through the origin
        are drawn only where the origin lies among the points (so points
        gathered far from it are not squeezed into a corner), and tiny or
        huge coordinates (random weights give spreads of 1e-5) are labelled
        as mantissas with the power of ten, or the offset, written once at
        the end of the axis.

        The subspace's own category (``subspace``, when among the labels) is
        drawn last, on top of the others, so that the category the subspace
        was learned for is never hidden; the legend keeps ``order``.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw in; ``None`` creates a new figure with
            ``layout="constrained"``, which keeps the axis labels inside it.
            In axes of your own, lay the figure out yourself (e.g.
            ``fig.tight_layout()``).

        order : array-like, default=None
            Categories to draw, in legend (and drawing) order; ``None`` uses
            :func:`category_order` (parts of speech first). Later ones are
            drawn on top, except the subspace's own category, drawn last.

        colors : dict, default=None
            Category → matplotlib colour; ``None`` uses
            :func:`category_colors` of all the labels, the colours of every
            figure of this package.

        s : float, default=6.0
            Marker size.

        alpha : float, default=0.5
            Marker opacity.

        legend : bool, default=True
            Add a legend of the categories.

        title : str, default=None
            Title; ``None`` names the subspace. When points were left out
            (``n_total``), a line ``"n of N points shown"`` follows it.

        caveat : str or None, default=None
            Caveat of the points (e.g.
            :data:`sklearn_pos.caveats.RANDOM_WEIGHTS`), written as the last
            line of the axes title and of the figure title.

        Returns
        -------
        display : SubspaceScatterDisplay
            The display, with ``scatters_``, ``legend_``, ``caveat_``,
            ``ax_`` and ``figure_`` set.
        """
        coordinates = np.asarray(self.coordinates, dtype=float)
        labels = np.asarray(self.labels)
        if coordinates.ndim != 2 or coordinates.shape[1] != 2:
            raise ValueError(
                f"coordinates must have shape (n_samples, 2), got {coordinates.shape}."
            )
        check_consistent_length(coordinates, labels)
        finite = np.isfinite(coordinates).all(axis=1)
        if not finite.all():
            raise ValueError(
                f"coordinates hold {int((~finite).sum())} row(s) with NaN or "
                f"infinite values (first: row {int(np.flatnonzero(~finite)[0])}); "
                "drop them or fix the embeddings they come from."
            )
        order = category_order(labels) if order is None else list(order)
        if colors is None:
            colors = category_colors(labels)
        missing = [c for c in order if _label(c) not in colors]
        if missing:
            raise ValueError(
                f"colors has no colour for the categories {missing}; give one "
                "for every category drawn, or colors=None for the default ones."
            )
        _check_caveat(caveat)
        n_total = self._check_n_total(labels)
        ax = _axes(ax)
        # The subspace's own category last: drawn over the others, never hidden
        # under the crowd of the other categories gathered near the origin.
        target = _label(self.subspace) if self.subspace is not None else None
        drawing = [c for c in order if _label(c) != target] + [
            c for c in order if _label(c) == target
        ]
        base = 2.0  # matplotlib's zorder of collections
        drawn, legend_text = {}, {}
        for rank, label in enumerate(drawing):
            points = coordinates[labels == label]
            label = _label(label)
            legend_text[label] = str(label)
            if n_total is not None and n_total.get(label, 0) > len(points):
                legend_text[label] = f"{label} ({len(points):,} of {n_total[label]:,})"
            drawn[label] = ax.scatter(
                points[:, 0],
                points[:, 1],
                s=s,
                alpha=alpha,
                color=colors[label],
                label=str(label),
                linewidths=0,
                zorder=base + rank / (len(drawing) + 1),
            )
        scatters = {_label(c): drawn[_label(c)] for c in order}
        a, b = self.components
        name = "" if self.subspace is None else f"{self.subspace} "
        ax.set_xlabel(f"{name}direction {a + 1}")
        ax.set_ylabel(f"{name}direction {b + 1}")
        if title is None:
            title = (
                f"Categories on the {self.subspace} subspace"
                if self.subspace is not None
                else "Categories on the subspace"
            )
        if n_total is not None:
            n_shown = sum(len(offsets.get_offsets()) for offsets in drawn.values())
            n_all = sum(n_total.get(_label(c), 0) for c in order)
            if n_all > n_shown:
                note = f"{n_shown:,} of {n_all:,} points shown"
                title = f"{title}\n{note}" if title else note
        ax.set_title(title)
        # A reference line outside the points would stretch the axis to reach
        # it and squeeze the points into a line: draw only the ones inside.
        if coordinates.size:
            low, high = coordinates.min(axis=0), coordinates.max(axis=0)
            if low[1] <= 0 <= high[1]:
                ax.axhline(0, color="0.8", linewidth=0.8, zorder=0)
            if low[0] <= 0 <= high[0]:
                ax.axvline(0, color="0.8", linewidth=0.8, zorder=0)
        # One scale on both axes: a spread of 1e-5 beside one of 1e-3 must look
        # like a line, as it is, not be stretched into a round cloud.
        # Axes sharing both x and y with others cannot widen their limits alone
        # (matplotlib refuses "datalim" there): they keep the scale by their box.
        both_shared = all(
            len(shared.get_siblings(ax)) > 1
            for shared in (ax.get_shared_x_axes(), ax.get_shared_y_axes())
        )
        ax.set_aspect("equal", adjustable="box" if both_shared else "datalim")
        _scale_free_ticks(ax.xaxis)
        _scale_free_ticks(ax.yaxis)
        leg = None
        if legend:
            leg = ax.legend(
                list(scatters.values()),
                [legend_text[name] for name in scatters],
                title="category",
                markerscale=2,
                loc="best",
            )
            for handle in leg.legend_handles:
                handle.set_alpha(1)
        _mark(ax, caveat)
        self.scatters_, self.legend_, self.caveat_ = scatters, leg, caveat
        self.ax_, self.figure_ = ax, ax.figure
        return self

    def _check_n_total(self, labels):
        """``n_total`` as category → count, checked against the labels drawn."""
        if self.n_total is None:
            return None
        if not isinstance(self.n_total, dict):
            raise TypeError(
                "n_total must be a dict category -> number of points before "
                f"subsampling, or None; got {type(self.n_total).__name__}."
            )
        n_total = {_label(k): v for k, v in self.n_total.items()}
        for label, count in zip(*np.unique(labels, return_counts=True)):
            total = n_total.get(_label(label))
            if total is None or not isinstance(total, Integral) or total < count:
                raise ValueError(
                    f"n_total[{_label(label)!r}] must be a whole number of at "
                    f"least {int(count)} (the points of that category drawn), "
                    f"got {total!r}."
                )
        return n_total

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        subspace=None,
        components=(0, 1),
        max_points_per_class=1000,
        random_state=0,
        ax=None,
        **kwargs,
    ):
        """Project labelled embeddings on a fitted subspace and plot them.

        The coordinates are ``W_i^T (Log_mu(x) - m)`` on the chosen two rows
        of the basis ``W_i`` of category ``i`` (``x - m`` for the Euclidean
        geometry): the columns ``components`` of
        ``estimator.project(X, subspace=i, output="coordinates")``.

        Parameters
        ----------
        estimator : PartOfSpeechComponentAnalysis or VocabularyPartOfSpeechAnalysis
            Fitted estimator.

        X : array-like of shape (n_samples, n_features)
            Embeddings.

        y : array-like of shape (n_samples,)
            Category of each row (colours).

        subspace : label, default=None
            Which learned subspace (one of ``estimator.classes_``); ``None``
            uses the estimator's target (``target_``).

        components : tuple of two int, default=(0, 1)
            The two directions (0-based, largest eigenvalue first).

        max_points_per_class : int >= 1 or None, default=1000
            Draw at most this many points per category, chosen at random
            (the WordNet nouns alone are 112,219); ``None`` draws all.

        random_state : int, RandomState instance or None, default=0
            Seed of the subsampling.

        ax : matplotlib Axes, default=None
            Axes to draw in.

        **kwargs
            Passed to :meth:`plot`. Without ``caveat``, the caveat of the
            estimator's CLIP embedders (:func:`~sklearn_pos.caveats.caveat_of`)
            is used: a figure of random weights says so.

        Returns
        -------
        display : SubspaceScatterDisplay

        Notes
        -----
        ``X`` may be a scipy sparse matrix: only the rows drawn are made dense.
        When categories are subsampled, the title says how many points are
        shown out of how many.
        """
        # A VocabularyPartOfSpeechAnalysis keeps its subspaces in pos_; X still
        # goes through the step's own project, which checks it against the step.
        subspaces = getattr(estimator, "pos_", estimator)
        check_is_fitted(subspaces, ["classes_", "class_components_"])
        classes = np.asarray(subspaces.classes_)
        if subspace is None:
            subspace = getattr(subspaces, "target_", classes[0])
        matches = np.flatnonzero(classes == subspace)
        if matches.size == 0:
            raise ValueError(
                f"subspace={subspace!r} is not one of the learned subspaces "
                f"{classes.tolist()}."
            )
        components = tuple(components)
        n_kept = subspaces.class_components_.shape[1]
        if len(components) != 2 or not all(
            isinstance(c, Integral) and 0 <= c < n_kept for c in components
        ):
            raise ValueError(
                f"components must be two direction indices in [0, {n_kept - 1}], "
                f"got {components}."
            )
        if max_points_per_class is not None and (
            isinstance(max_points_per_class, bool)
            or not isinstance(max_points_per_class, Integral)
            or max_points_per_class < 1
        ):
            raise ValueError(
                "max_points_per_class must be a whole number of points of at "
                "least 1, or None to draw every point; got "
                f"{max_points_per_class!r}."
            )
        y = np.asarray(y)
        check_consistent_length(X, y)
        rows = np.arange(y.shape[0])
        labels, counts = np.unique(y, return_counts=True)
        n_total = {_label(c): int(n) for c, n in zip(labels, counts)}
        if max_points_per_class is not None:
            rng = check_random_state(random_state)
            picked = []
            for label in np.unique(y):
                members = rows[y == label]
                if members.size > max_points_per_class:
                    members = rng.choice(members, max_points_per_class, replace=False)
                picked.append(members)
            rows = np.sort(np.concatenate(picked))
        # rows of any container scikit-learn indexes (arrays, DataFrames,
        # sparse matrices, lists); sparse rows are made dense, the drawn ones only
        if sp.issparse(X):
            X = X.tocsr()  # COO and DIA matrices have no row indexing
        X_rows = _safe_indexing(X, rows)
        if sp.issparse(X_rows):
            X_rows = X_rows.toarray()
        name = classes[matches[0]]
        coordinates = estimator.project(X_rows, subspace=name, output="coordinates")
        coordinates = np.asarray(coordinates)[:, list(components)]
        name = _label(name)
        kwargs.setdefault("caveat", caveat_of(estimator))
        return cls(
            coordinates,
            y[rows],
            subspace=name,
            components=components,
            n_total=n_total,
        ).plot(ax=ax, **kwargs)


def plot_class_invariance(
    estimator, X, y, *, labels=None, normalize=True, ax=None, **kwargs
):
    """Plot the class-invariance heatmap of a fitted estimator.

    Shortcut for :meth:`ClassInvarianceDisplay.from_estimator`; see there
    for the parameters.

    Returns
    -------
    display : ClassInvarianceDisplay
        The display; ``display.ax_`` is the axes, ``display.table`` the
        scores.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_pos import PartOfSpeechComponentAnalysis
    >>> from sklearn_pos.plotting import plot_class_invariance
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 5)) + 3
    >>> y = np.repeat(["adj", "noun"], 100)
    >>> pos = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    >>> plot_class_invariance(pos, X, y).ax_.get_title()
    'Class invariance'
    """
    return ClassInvarianceDisplay.from_estimator(
        estimator, X, y, labels=labels, normalize=normalize, ax=ax, **kwargs
    )


def plot_subspace_scatter(
    estimator,
    X,
    y,
    *,
    subspace=None,
    components=(0, 1),
    max_points_per_class=1000,
    random_state=0,
    ax=None,
    **kwargs,
):
    """Plot every category's points on two directions of one subspace.

    Shortcut for :meth:`SubspaceScatterDisplay.from_estimator`; see there
    for the parameters.

    Returns
    -------
    display : SubspaceScatterDisplay
        The display; ``display.ax_`` is the axes, ``display.scatters_`` the
        point collections by category.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_pos import PartOfSpeechComponentAnalysis
    >>> from sklearn_pos.plotting import plot_subspace_scatter
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 5)) + 3
    >>> y = np.repeat(["adj", "noun"], 100)
    >>> pos = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    >>> plot_subspace_scatter(pos, X, y, subspace="adj").ax_.get_title()
    'Categories on the adj subspace'
    """
    return SubspaceScatterDisplay.from_estimator(
        estimator,
        X,
        y,
        subspace=subspace,
        components=components,
        max_points_per_class=max_points_per_class,
        random_state=random_state,
        ax=ax,
        **kwargs,
    )


#: File names of :func:`save_subspace_figures` (``{}``: the category).
CLASS_INVARIANCE_PNG = "class_invariance.png"
SUBSPACE_SCATTER_PNG = "subspace_scatter_{}.png"


def _file_label(label):
    """A category as a file name part: other characters than ``[A-Za-z0-9_.-]`` as ``_``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(label)) or "category"


def save_subspace_figures(
    estimator,
    X,
    y,
    folder,
    *,
    table=None,
    labels=None,
    max_points_per_class=1000,
    random_state=0,
    caveat=None,
    dpi=120,
):
    """Draw and save the figures of a fitted part-of-speech estimator.

    ``class_invariance.png``, the class-invariance heatmap (sized to the
    number of categories, titled with ``k``, ``lambda`` and the geometry),
    and ``subspace_scatter_<category>.png`` for each category: every
    category's points on the first two directions of its subspace (only
    when the subspaces have at least two directions). These are the
    figures of ``sklearn-pos fit``. Each figure carries the caveat of the
    results (random weights) in its title.

    Parameters
    ----------
    estimator : PartOfSpeechComponentAnalysis
        The fitted estimator.

    X : array-like of shape (n_samples, n_features)
        The embeddings it was fitted on.

    y : array-like of shape (n_samples,)
        Their categories.

    folder : str or path-like
        An existing folder; files of the same names are replaced.

    table : DataFrame, default=None
        The class-invariance table, if already computed
        (:func:`~sklearn_pos.metrics.class_invariance`); ``None`` computes it.

    labels : sequence, default=None
        The categories in the order to draw; ``None`` is
        :func:`category_order` of the estimator's classes.

    max_points_per_class : int, default=1000
        Points per category drawn in each scatter plot.

    random_state : int, RandomState instance or None, default=0
        Seed of the points drawn.

    caveat : str, default=None
        The caveat to stamp; ``None`` uses that of ``table`` or of the
        estimator (:func:`~sklearn_pos.caveats.caveat_of`).

    dpi : int, default=120
        Resolution of the files.

    Returns
    -------
    paths : list of Path
        The files written, in order.

    See Also
    --------
    plot_class_invariance, plot_subspace_scatter : One figure, on given axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn_pos import PartOfSpeechComponentAnalysis
    >>> from sklearn_pos.plotting import save_subspace_figures
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 5)) + 3
    >>> y = np.repeat(["adj", "noun"], 100)
    >>> pos = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    >>> [p.name for p in save_subspace_figures(pos, X, y, tempfile.mkdtemp())]
    ['class_invariance.png', 'subspace_scatter_noun.png', 'subspace_scatter_adj.png']
    """
    plt = _pyplot()
    check_is_fitted(estimator)
    folder = Path(folder)
    order = list(category_order(estimator.classes_) if labels is None else labels)
    if table is None:
        table = class_invariance(estimator, X, y, labels=order)
    if caveat is None:
        caveat = table.attrs.get("caveat") or caveat_of(estimator)
    written = []
    n = len(order)
    fig, ax = plt.subplots(figsize=(1.2 * n + 2.5, 0.9 * n + 1.5))
    try:
        ClassInvarianceDisplay(table).plot(
            ax=ax,
            title=f"Class invariance (k={estimator.n_components_}, "
            f"λ={estimator.lam:g}, {estimator.geometry})",
        )
        stamp_figure(fig, caveat)
        fig.tight_layout()
        path = folder / CLASS_INVARIANCE_PNG
        fig.savefig(path, dpi=dpi)
        written.append(path)
    finally:
        plt.close(fig)
    if estimator.n_components_ < 2:
        # Two directions are needed for a scatter plot.
        return written
    for subspace in order:
        fig, ax = plt.subplots(figsize=(5.5, 4.5))
        try:
            SubspaceScatterDisplay.from_estimator(
                estimator,
                X,
                y,
                subspace=subspace,
                max_points_per_class=max_points_per_class,
                random_state=random_state,
                ax=ax,
                order=order,
            )
            stamp_figure(fig, caveat)
            fig.tight_layout()
            path = folder / SUBSPACE_SCATTER_PNG.format(_file_label(subspace))
            fig.savefig(path, dpi=dpi)
            written.append(path)
        finally:
            plt.close(fig)
    return written
