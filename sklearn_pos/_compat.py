"""Every private scikit-learn name sklearn_pos relies on, imported in one place.

scikit-learn keeps parameter validation (``Interval``, ``StrOptions``,
``validate_params``), the ``_fit_context`` decorator and a few input checks
private. Every module of sklearn_pos imports them from here, so that a
scikit-learn release that moves or renames one of them is absorbed by this file
alone. The supported range is the one declared in ``pyproject.toml``
(scikit-learn >= 1.6).
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import _assert_all_finite, _check_feature_names_in

__all__ = [
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "_assert_all_finite",
    "_check_feature_names_in",
    "_fit_context",
    "validate_params",
]
