"""Prompt templates for zero-shot classification with CLIP.

A template is a format string with one ``{}`` placeholder for the class name,
e.g. ``"a photo of a {}."``. Plain strings (not functions) keep estimators
that hold templates picklable and their ``repr`` readable.

Three sets ship by name, see :data:`TEMPLATES` and :func:`get_templates`:

- ``"bare"``: ``("{}",)``, the class name alone (the setting of Oldfield et
  al., 2023, Table 1);
- ``"simple"``: the 7 templates that Radford et al. (2021) selected from the
  80 below for ImageNet;
- ``"openai_imagenet"``: the 80 ImageNet templates of Radford et al. (2021).

The prompt grammar of CLAP (Cai et al., 2023) lives here too:
:func:`make_clap_prompts` describes each class in every combination of
:data:`CLAP_STYLE_MODIFIERS`, :data:`CLAP_STYLES`, :data:`CLAP_SIZES` and
:data:`CLAP_COLOURS`, and augments each prompt;
:class:`~sklearn_pos.clap.CLAPDisentangler` trains on them.
"""

import string
from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ._compat import Interval, validate_params
from ._validation import check_class_names

__all__ = [
    "CLAP_COLOURS",
    "CLAP_SIZES",
    "CLAP_STYLES",
    "CLAP_STYLE_MODIFIERS",
    "TEMPLATES",
    "check_class_template",
    "check_templates",
    "format_prompts",
    "get_templates",
    "make_clap_prompts",
]

_BARE = ("{}",)

_SIMPLE_IMAGENET = (
    "itap of a {}.",
    "a bad photo of the {}.",
    "a origami {}.",
    "a photo of the large {}.",
    "a {} in a video game.",
    "art of the {}.",
    "a photo of the small {}.",
)

_OPENAI_IMAGENET = (
    "a bad photo of a {}.",
    "a photo of many {}.",
    "a sculpture of a {}.",
    "a photo of the hard to see {}.",
    "a low resolution photo of the {}.",
    "a rendering of a {}.",
    "graffiti of a {}.",
    "a bad photo of the {}.",
    "a cropped photo of the {}.",
    "a tattoo of a {}.",
    "the embroidered {}.",
    "a photo of a hard to see {}.",
    "a bright photo of a {}.",
    "a photo of a clean {}.",
    "a photo of a dirty {}.",
    "a dark photo of the {}.",
    "a drawing of a {}.",
    "a photo of my {}.",
    "the plastic {}.",
    "a photo of the cool {}.",
    "a close-up photo of a {}.",
    "a black and white photo of the {}.",
    "a painting of the {}.",
    "a painting of a {}.",
    "a pixelated photo of the {}.",
    "a sculpture of the {}.",
    "a bright photo of the {}.",
    "a cropped photo of a {}.",
    "a plastic {}.",
    "a photo of the dirty {}.",
    "a jpeg corrupted photo of a {}.",
    "a blurry photo of the {}.",
    "a photo of the {}.",
    "a good photo of the {}.",
    "a rendering of the {}.",
    "a {} in a video game.",
    "a photo of one {}.",
    "a doodle of a {}.",
    "a close-up photo of the {}.",
    "a photo of a {}.",
    "the origami {}.",
    "the {} in a video game.",
    "a sketch of a {}.",
    "a doodle of the {}.",
    "a origami {}.",
    "a low resolution photo of a {}.",
    "the toy {}.",
    "a rendition of the {}.",
    "a photo of the clean {}.",
    "a photo of a large {}.",
    "a rendition of a {}.",
    "a photo of a nice {}.",
    "a photo of a weird {}.",
    "a blurry photo of a {}.",
    "a cartoon {}.",
    "art of a {}.",
    "a sketch of the {}.",
    "a embroidered {}.",
    "a pixelated photo of a {}.",
    "itap of the {}.",
    "a jpeg corrupted photo of the {}.",
    "a good photo of a {}.",
    "a plushie {}.",
    "a photo of the nice {}.",
    "a photo of the small {}.",
    "a photo of the weird {}.",
    "the cartoon {}.",
    "art of the {}.",
    "a drawing of the {}.",
    "a photo of the large {}.",
    "a black and white photo of a {}.",
    "the plushie {}.",
    "a dark photo of a {}.",
    "itap of a {}.",
    "graffiti of the {}.",
    "a toy {}.",
    "itap of my {}.",
    "a photo of a cool {}.",
    "a photo of a small {}.",
    "a tattoo of the {}.",
)

#: The template sets shipped by name: ``"bare"`` (1 template),
#: ``"simple"`` (7) and ``"openai_imagenet"`` (80). Values are tuples of
#: format strings.
TEMPLATES = {
    "bare": _BARE,
    "simple": _SIMPLE_IMAGENET,
    "openai_imagenet": _OPENAI_IMAGENET,
}


def get_templates(name):
    """Return a named set of prompt templates.

    Parameters
    ----------
    name : {"bare", "simple", "openai_imagenet"}
        ``"bare"``: the class name alone; ``"simple"``: 7 ImageNet templates;
        ``"openai_imagenet"``: the 80 ImageNet templates of CLIP.

    Returns
    -------
    templates : list of str
        Format strings, each with one ``{}`` placeholder.

    Examples
    --------
    >>> from sklearn_pos.templates import get_templates
    >>> get_templates("simple")[:2]
    ['itap of a {}.', 'a bad photo of the {}.']
    >>> len(get_templates("openai_imagenet"))
    80
    """
    try:
        return list(TEMPLATES[name])
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown template set {name!r}; the named sets are "
            f"{sorted(TEMPLATES)}. Pass one of these names or a list of format "
            "strings such as ['a photo of a {}.']."
        ) from None


def _check_template(template):
    if not isinstance(template, str):
        raise TypeError(
            f"Each template must be a format string such as 'a photo of a {{}}.', "
            f"got {type(template).__name__} {template!r}. Functions are not "
            "accepted, so that estimators holding templates stay picklable."
        )
    try:
        fields = [
            f for _, f, _, _ in string.Formatter().parse(template) if f is not None
        ]
    except ValueError as exc:
        raise ValueError(
            f"Template {template!r} is not a valid format string: {exc}."
        ) from None
    if fields != [""]:
        found = "no placeholder" if not fields else f"the fields {fields}"
        raise ValueError(
            f"Template {template!r} must contain exactly one '{{}}' placeholder "
            f"for the class name, but has {found}. Write literal braces as "
            "'{{' and '}}'."
        )


def check_templates(templates):
    """Validate prompt templates and return them as a list of str.

    Parameters
    ----------
    templates : str or sequence of str
        The name of a shipped set (see :data:`TEMPLATES`) or format strings,
        each with exactly one ``{}`` placeholder.

    Returns
    -------
    templates : list of str
        The templates.

    Raises
    ------
    ValueError
        If the name is unknown, the sequence is empty, or a template does not
        have exactly one ``{}`` placeholder.
    TypeError
        If a template is not a string.

    Examples
    --------
    >>> from sklearn_pos.templates import check_templates
    >>> check_templates("bare")
    ['{}']
    >>> check_templates(["a photo of a {}."])
    ['a photo of a {}.']
    """
    if isinstance(templates, str):
        return get_templates(templates)
    if not isinstance(templates, Iterable) or isinstance(templates, (bytes, dict)):
        raise TypeError(
            "templates must be the name of a template set or a list of format "
            f"strings such as ['a photo of a {{}}.'], got {templates!r}."
        )
    templates = list(templates)
    if not templates:
        raise ValueError(
            "The template list is empty: give at least one format string such as "
            "'{}' (the class name alone), or a named set among "
            f"{sorted(TEMPLATES)}."
        )
    for template in templates:
        _check_template(template)
    return templates


def format_prompts(class_names, templates):
    """Every template filled with every class name.

    Parameters
    ----------
    class_names : sequence of str
        Distinct class names (see :func:`make_clap_prompts` for the accepted
        containers).
    templates : str or sequence of str
        As accepted by :func:`check_templates`.

    Returns
    -------
    prompts : list of str
        ``len(class_names) * len(templates)`` prompts, class by class: the
        prompts of ``class_names[i]`` are
        ``prompts[i * n_templates:(i + 1) * n_templates]``.

    Examples
    --------
    >>> from sklearn_pos.templates import format_prompts
    >>> format_prompts(["cat", "dog"], ["a {}.", "the {}"])
    ['a cat.', 'the cat', 'a dog.', 'the dog']
    """
    _, names = check_class_names(class_names, mapping=False)
    templates = check_templates(templates)
    return [template.format(name) for name in names for template in templates]


#: Rendering qualifiers, the first slot of the prompt grammar.
CLAP_STYLE_MODIFIERS = ("realistic", "impressionistic")

#: Image styles (domains), the second slot of the prompt grammar.
CLAP_STYLES = (
    "painting",
    "sketch",
    "cartoon",
    "clipart",
    "photograph",
    "infograph",
    "mosaic art",
    "sculpture",
)

#: Object sizes, dropped by the augmentation with probability ``p_drop_size``.
CLAP_SIZES = ("large", "normal sized", "small")

#: Object colours, dropped by the augmentation with probability
#: ``p_drop_colour``.
CLAP_COLOURS = (
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "brown",
    "black",
    "white",
)


def _with_article(phrase):
    """``phrase`` preceded by "a" or "an" according to its first letter."""
    article = "an" if phrase[:1].lower() in "aeiou" else "a"
    return f"{article} {phrase}"


def _object_phrase(class_name, size, colour):
    """ "a large red dog"; ``size`` or ``colour`` may be ``None`` (dropped)."""
    words = [w for w in (size, colour, class_name) if w is not None]
    return _with_article(" ".join(words))


def _styled_prompt(modifier, style, obj, reorder):
    """The two word orders of the grammar, around an object phrase."""
    if reorder:
        return f"{obj} in {modifier} {style} style"
    return f"{_with_article(modifier + ' ' + style)} of {obj}"


def check_class_template(class_template):
    """Check the one prompt template ``class_template`` (see :func:`check_templates`).

    Examples
    --------
    >>> from sklearn_pos.templates import check_class_template
    >>> check_class_template("a photo of a {}")
    """
    try:
        check_templates([class_template])
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"class_template={class_template!r}: {exc}") from None


@validate_params(
    {
        "class_names": ["array-like", str],
        "n_prompts_per_class": [Interval(Integral, 1, None, closed="left"), None],
        "p_drop_size": [Interval(Real, 0, 1, closed="both")],
        "p_drop_colour": [Interval(Real, 0, 1, closed="both")],
        "p_reorder": [Interval(Real, 0, 1, closed="both")],
        "class_template": [str],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_clap_prompts(
    class_names,
    *,
    n_prompts_per_class=None,
    p_drop_size=0.5,
    p_drop_colour=0.5,
    p_reorder=0.5,
    class_template="{}",
    random_state=None,
):
    """Styled training prompts and their augmentations, one row per prompt.

    Every class name is described by the grammar

        "a {modifier} {style} of a {size} {colour} {class}"

    with ``modifier`` in :data:`CLAP_STYLE_MODIFIERS` (2), ``style`` in
    :data:`CLAP_STYLES` (8), ``size`` in :data:`CLAP_SIZES` (3) and ``colour``
    in :data:`CLAP_COLOURS` (10): 480 prompts per class, e.g.
    ``"an impressionistic sketch of a small red dog"``. Each prompt gets one
    augmented version in which the size word is dropped with probability
    ``p_drop_size``, the colour word with probability ``p_drop_colour``
    (independently) and, with probability ``p_reorder``, the words are
    reordered to ``"{object} in {modifier} {style} style"``, e.g.
    ``"a red dog in impressionistic sketch style"``. The articles "a"/"an"
    follow the next word.

    Parameters
    ----------
    class_names : sequence of str
        Distinct class names (a list, array, pandas Series or one-column
        DataFrame); a name given twice is an error.

    n_prompts_per_class : int, default=None
        Number of prompts drawn per class from the 480 combinations, without
        replacement up to 480 (with replacement beyond). ``None`` uses all
        480 once, in grammar order.

    p_drop_size, p_drop_colour, p_reorder : float in [0, 1], default=0.5
        Probabilities of the three augmentations.

    class_template : str, default="{}"
        Format string giving the plain prompt of a class, e.g. ``"{}"`` (the
        class name alone) or ``"a photo of a {}"``. Use the prompts your
        zero-shot classifier will use.

    random_state : int, RandomState instance or None, default=None
        Seeds the sampling of combinations and of augmentations: the same
        integer gives the same prompts.

    Returns
    -------
    prompts : pandas.DataFrame
        One row per training prompt, in class order, with columns
        ``class_name``, ``modifier``, ``style``, ``size``, ``colour``,
        ``prompt`` (the original), ``augmented_prompt`` and ``class_prompt``.

    Examples
    --------
    >>> from sklearn_pos.templates import make_clap_prompts
    >>> prompts = make_clap_prompts(["dog", "owl"], random_state=0)
    >>> prompts.shape
    (960, 8)
    >>> prompts.loc[0, "prompt"]
    'a realistic painting of a large red dog'
    >>> sorted(set(prompts["class_prompt"]))
    ['dog', 'owl']
    """
    _, classes = check_class_names(class_names, mapping=False)
    check_class_template(class_template)
    rng = check_random_state(random_state)
    grid = (
        np.array(
            np.meshgrid(
                np.arange(len(CLAP_STYLE_MODIFIERS)),
                np.arange(len(CLAP_STYLES)),
                np.arange(len(CLAP_SIZES)),
                np.arange(len(CLAP_COLOURS)),
                indexing="ij",
            )
        )
        .reshape(4, -1)
        .T
    )
    n_grid = grid.shape[0]

    rows = []
    for class_name in classes:
        if n_prompts_per_class is None:
            picks = grid
        else:
            idx = rng.choice(
                n_grid, n_prompts_per_class, replace=n_prompts_per_class > n_grid
            )
            picks = grid[idx]
        n = picks.shape[0]
        drop_size = rng.random_sample(n) < p_drop_size
        drop_colour = rng.random_sample(n) < p_drop_colour
        reorder = rng.random_sample(n) < p_reorder
        plain = class_template.format(class_name)
        for (m, s, z, c), ds, dc, ro in zip(picks, drop_size, drop_colour, reorder):
            modifier, style = CLAP_STYLE_MODIFIERS[m], CLAP_STYLES[s]
            size, colour = CLAP_SIZES[z], CLAP_COLOURS[c]
            original = _styled_prompt(
                modifier, style, _object_phrase(class_name, size, colour), False
            )
            augmented = _styled_prompt(
                modifier,
                style,
                _object_phrase(
                    class_name, None if ds else size, None if dc else colour
                ),
                bool(ro),
            )
            rows.append(
                (class_name, modifier, style, size, colour, original, augmented, plain)
            )
    return pd.DataFrame(
        rows,
        columns=[
            "class_name",
            "modifier",
            "style",
            "size",
            "colour",
            "prompt",
            "augmented_prompt",
            "class_prompt",
        ],
    )
