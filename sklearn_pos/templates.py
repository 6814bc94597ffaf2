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
"""

import string
from collections.abc import Iterable

__all__ = [
    "TEMPLATES",
    "check_templates",
    "format_prompts",
    "get_templates",
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
        Class names.
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
    if isinstance(class_names, str):
        raise TypeError(
            f"class_names must be a sequence of names, got the single string "
            f"{class_names!r}; wrap it in a list: [{class_names!r}]."
        )
    templates = check_templates(templates)
    return [template.format(name) for name in class_names for template in templates]
