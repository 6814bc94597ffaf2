"""scikit-learn's estimator checks on every public estimator, from one table.

The same table runs the package's own rules on every estimator: one rule for
empty input (fit needs a sample, fitted methods map 0 rows to 0 rows, score
of 0 rows raises) and labels checked as given.

Each row of ``ESTIMATORS`` names an estimator, the parameters to build it and
the checks it is expected to fail, each with its reason. Estimators whose
input is numeric run all of scikit-learn's checks (``parametrize_with_checks``;
an expected failure that passes is an error, so the table stays honest).
Estimators whose input is text or images (``CLIPEmbedder``) get only the
checks that need no data: the common checks feed numeric arrays only, and
their own test files test fit, transform and pickling on real inputs.
"""

import inspect
from dataclasses import dataclass, field

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_pos
from sklearn_pos import (
    CLAPDisentangler,
    CLIPEmbedder,
    NearestPrototypeClassifier,
    PartOfSpeechComponentAnalysis,
    ProjectionAugmentationEmbedding,
    VocabularyPartOfSpeechAnalysis,
    ZeroShotClassifier,
)
from sklearn_pos.datasets import PlantedTextEmbedder

#: The checks that need no data, for estimators whose input is text or images.
DATA_FREE_CHECKS = (
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_valid_tag_types",
)

#: The bundled tiny CLIP model: random seeded weights, no download.
TINY_CLIP = dict(model_name="sklearn-pos-tiny", pretrained=None, device="cpu")

#: Width of the embeddings that fix the input width of some estimators below;
#: 3 is the width most of scikit-learn's checks use.
WIDTH = 3

_ZERO_ROWS = {
    "check_estimators_dtypes": (
        "the check's small integer data contains all-zero rows, which cannot be "
        "scaled onto the unit sphere; fit raises a ValueError saying so"
    ),
}


_ZERO_ROWS_AT_PREDICT = {
    "check_estimators_dtypes": (
        "the check's small integer data contains all-zero rows, which have no "
        "direction to compare with the prototypes; predict raises a ValueError "
        "naming the first one"
    ),
}


def _fixed_width(source):
    """Expected failures of an estimator whose input width ``source`` fixes."""
    reason = (
        f"the input width is fixed by the {source} ({WIDTH} features here) and "
        "this check fits on data of another width; fit raises a ValueError "
        "naming both widths"
    )
    checks = [
        "check_dtype_object",
        "check_estimators_dtypes",
        "check_estimators_fit_returns_self",
        "check_estimators_overwrite_params",
        "check_fit2d_1feature",
        "check_fit2d_1sample",
        "check_fit_check_is_fitted",
        "check_fit_idempotent",
        "check_n_features_in",
        "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit",
        "check_readonly_memmap_input",
        "check_array_api_input",
    ]
    return {name: reason for name in checks}


def _vocabulary():
    """A numeric part-of-speech vocabulary of width ``WIDTH``: (E, labels)."""
    rng = np.random.RandomState(0)
    E = rng.normal(size=(30, WIDTH)) + 2.0
    return E, np.repeat(["adj", "noun", "verb"], 10)


def _corpus():
    """Three prompt embeddings of width ``WIDTH``, for CLIP-PAE."""
    return np.array([[1.0, 0.2, 0.1], [0.2, 1.0, 0.3], [0.1, 0.4, 1.0]])


@dataclass
class Row:
    """One estimator of the table: how to build it and what it fails."""

    cls: type
    params: dict = field(default_factory=dict)
    expected_failed_checks: dict = field(default_factory=dict)
    #: ``None``: all of scikit-learn's checks; else the names of the checks run.
    checks: tuple = None

    def build(self):
        return self.cls(**self.params)


#: PartOfSpeechComponentAnalysis copies its fitted attributes to the namespace
#: and device of X instead of refusing X, by design.
_CONVERTS_FITTED = {
    "check_array_api_same_namespace": (
        "fitted attributes (a few vectors and the n_classes x k x d bases) are "
        "copied to the namespace and device of X, so an estimator fitted on NumPy "
        "arrays also transforms CUDA tensors, e.g. as ZeroShotClassifier's "
        "image_transform, instead of raising"
    ),
}

#: Array API checks of an output that is already an embedding.
_NO_INVERSE = {
    name: (
        "the check calls inverse_transform after transform, which is only defined "
        "for output='coordinates' (the projection and the complement already "
        "live in the input space); it raises a ValueError saying so"
    )
    for name in ("check_array_api_input", "check_array_api_mixed_inputs")
}

ESTIMATORS = [
    Row(PartOfSpeechComponentAnalysis, {}, {**_ZERO_ROWS, **_CONVERTS_FITTED}),
    Row(
        PartOfSpeechComponentAnalysis,
        dict(n_components=2, output="projection"),
        {**_ZERO_ROWS, **_CONVERTS_FITTED, **_NO_INVERSE},
    ),
    Row(
        PartOfSpeechComponentAnalysis,
        dict(n_components=2, output="complement"),
        {**_ZERO_ROWS, **_CONVERTS_FITTED, **_NO_INVERSE},
    ),
    Row(
        PartOfSpeechComponentAnalysis,
        dict(n_components=1, geometry="euclidean"),
        {
            **_ZERO_ROWS,
            **_CONVERTS_FITTED,
            "check_transformer_n_iter": (
                "geometry='euclidean' computes no intrinsic mean, so n_iter_ is 0; "
                "max_iter only applies to geometry='tangent'"
            ),
        },
    ),
    Row(
        VocabularyPartOfSpeechAnalysis,
        dict(vocabulary=_vocabulary(), n_components=1),
        {
            **_fixed_width("vocabulary embeddings"),
            "check_transformer_n_iter": (
                "the subspace is fitted by the inner PartOfSpeechComponentAnalysis "
                "(pos_), which holds n_iter_; the wrapper exposes max_iter but not "
                "n_iter_"
            ),
        },
    ),
    Row(CLIPEmbedder, dict(modality="text", **TINY_CLIP), checks=DATA_FREE_CHECKS),
    Row(CLIPEmbedder, dict(modality="image", **TINY_CLIP), checks=DATA_FREE_CHECKS),
    Row(ZeroShotClassifier, {}, _ZERO_ROWS_AT_PREDICT),
    Row(NearestPrototypeClassifier, {}, _ZERO_ROWS_AT_PREDICT),
    Row(
        NearestPrototypeClassifier,
        dict(mean="extrinsic"),
        {
            **_ZERO_ROWS_AT_PREDICT,
            "check_non_transformer_estimators_n_iter": (
                "mean='extrinsic' is a closed form with no iterations, so n_iter_ "
                "is 0; max_iter only applies to mean='intrinsic'"
            ),
        },
    ),
    Row(
        NearestPrototypeClassifier,
        dict(prior=ZeroShotClassifier(), prior_weight=2.0),
        _ZERO_ROWS_AT_PREDICT,
    ),
    Row(
        CLAPDisentangler,
        dict(
            class_names=["cat", "dog"],
            text_embedder=PlantedTextEmbedder(["cat", "dog"], n_features=WIDTH),
            hidden_dim=4,
            n_prompts_per_class=5,
            max_steps=3,
            validation_interval=1,
            device="cpu",
        ),
        _fixed_width("text_embedder's embeddings"),
    ),
    Row(
        ProjectionAugmentationEmbedding,
        dict(corpus=_corpus(), target=_corpus()[2]),
        _fixed_width("corpus embeddings"),
    ),
]

_ALL_CHECKS = [(row, row.build()) for row in ESTIMATORS if row.checks is None]
_EXPECTED = {id(est): row.expected_failed_checks for row, est in _ALL_CHECKS}
# Strict where scikit-learn supports it (1.8+): a listed check that passes fails.
_STRICT = (
    {"xfail_strict": True}
    if "xfail_strict" in inspect.signature(parametrize_with_checks).parameters
    else {}
)


def test_every_public_estimator_has_a_row():
    public = {
        obj
        for name in sklearn_pos.__all__
        if isinstance(obj := getattr(sklearn_pos, name), type)
        and issubclass(obj, BaseEstimator)
    }
    assert public == {row.cls for row in ESTIMATORS}


# The checks' standardised blobs straddle the origin, i.e. lie on opposite sides
# of the sphere, where the intrinsic mean converges slowly; that is reported.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [estimator for _, estimator in _ALL_CHECKS],
    expected_failed_checks=lambda estimator: _EXPECTED[id(estimator)],
    **_STRICT,
)
def test_sklearn_compatible_estimator(estimator, check):
    if _needs_absent_cuda(check):
        # scikit-learn runs its CUDA checks whenever torch was built with CUDA,
        # even on a machine without a GPU, where they fail to allocate.
        pytest.skip("the check runs on a CUDA device, and none is available")
    check(estimator)


def _needs_absent_cuda(check):
    """Whether ``check`` (an Array API check) asks for a CUDA device missing here."""
    keywords = getattr(check, "keywords", {})
    devices = [getattr(value, "device", value) for value in keywords.values()]
    if "cuda" not in devices:
        return False
    try:
        import torch
    except ImportError:
        return False  # the check skips itself
    return not torch.cuda.is_available()


@pytest.mark.parametrize(
    "estimator, check_name",
    [
        (row.build(), name)
        for row in ESTIMATORS
        if row.checks is not None
        for name in row.checks
    ],
    ids=lambda value: value if isinstance(value, str) else repr(value),
)
def test_data_free_checks(estimator, check_name):
    getattr(estimator_checks, check_name)(type(estimator).__name__, estimator)


def _fit_data(row):
    """``(X, y)`` to fit ``row``'s estimator: texts or images for CLIPEmbedder."""
    if row.cls is CLIPEmbedder:
        if row.params["modality"] == "text":
            return ["a dog", "a red car", "a tree"], None
        rng = np.random.RandomState(0)
        images = [rng.randint(0, 256, size=(8, 8, 3), dtype=np.uint8) for _ in range(3)]
        return images, None
    return _vocabulary()


#: Methods that map the rows of a fitted estimator one by one.
_ROW_METHODS = (
    "transform",
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "cosine_similarity",
)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "row", ESTIMATORS, ids=lambda row: f"{row.cls.__name__}{sorted(row.params)}"
)
def test_one_rule_for_empty_input(row):
    # fit needs at least one sample; the methods of a fitted estimator map 0
    # rows to 0 rows of the output width and dtype (an empty partition of a
    # Dask collection); score of 0 rows raises.
    X, y = _fit_data(row)
    empty_y = None if y is None else y[:0]
    est = row.build()
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        est.fit(X[:0], empty_y)
    if hasattr(est, "fit_transform"):
        with pytest.raises(ValueError, match=r"0 sample\(s\)"):
            clone(est).fit_transform(X[:0], empty_y)
    est.fit(X, y)
    tried = 0
    for method in _ROW_METHODS:
        if not hasattr(est, method):
            continue
        full = np.asarray(getattr(est, method)(X[:2]))
        out = getattr(est, method)(X[:0])
        assert isinstance(out, np.ndarray), method
        assert out.shape == (0,) + full.shape[1:], method
        assert out.dtype == full.dtype, method
        tried += 1
    assert tried, "no method of the estimator was tried"
    coordinates = getattr(est, "output", "") == "coordinates"
    if hasattr(est, "inverse_transform") and coordinates:
        Z = est.transform(X[:2])
        out = est.inverse_transform(Z[:0])
        assert out.shape == (0, est.inverse_transform(Z).shape[1])
    if hasattr(est, "score"):
        with pytest.raises(ValueError, match=r"0 sample\(s\)"):
            est.score(X[:0], empty_y)


_LABELLED = [
    row
    for row in ESTIMATORS
    if row.cls
    in (PartOfSpeechComponentAnalysis, ZeroShotClassifier, NearestPrototypeClassifier)
]


@pytest.mark.parametrize(
    "labels, match",
    [
        (["adj", 1] * 15, r"y mixes labels of different types: number \(1\), str"),
        (["adj", float("nan")] * 15, r"y has 15 missing label\(s\)"),
        (("adj", "noun", None) * 10, r"y has 10 missing label\(s\)"),
    ],
    ids=["str and int", "str and NaN", "None"],
)
@pytest.mark.parametrize(
    "row", _LABELLED, ids=lambda row: f"{row.cls.__name__}{sorted(row.params)}"
)
def test_labels_in_a_list_are_checked_as_given(row, labels, match):
    # numpy turns ["adj", 1] into ['adj', '1'] and NaN into 'nan': fitted as
    # such, predict would return '1' where 1 was meant.
    X, _ = _vocabulary()
    with pytest.raises(ValueError, match=match):
        row.build().fit(X, labels)


@pytest.mark.parametrize(
    "row",
    [row for row in ESTIMATORS if row.checks is None],
    ids=lambda row: f"{row.cls.__name__}{sorted(row.params)}",
)
def test_texts_given_as_x_are_refused_naming_the_embedder(row):
    # The embedder left out of a pipeline: numpy alone would say "could not
    # convert string to float".
    X, y = _vocabulary()
    texts = np.array([["a photo of a dog"] * WIDTH] * len(X))
    name = row.cls.__name__
    match = rf"^{name} expects embeddings .* make_pipeline\(CLIPEmbedder"
    with pytest.raises(ValueError, match=match):
        row.build().fit(texts, y)
    est = row.build().fit(X, y)
    for method in _ROW_METHODS:
        if hasattr(est, method):
            with pytest.raises(ValueError, match=match):
                getattr(est, method)(texts[:2])
