"""Every private scikit-learn name sklearn_pos relies on, imported in one place.

scikit-learn keeps parameter validation (``Interval``, ``StrOptions``,
``validate_params``), the ``_fit_context`` decorator and a few input checks
private. Every module of sklearn_pos imports them from here, so that a
scikit-learn release that moves or renames one of them is absorbed by this file
alone. The supported range is the one declared in ``pyproject.toml``
(scikit-learn >= 1.7).

The Array API helpers (``get_namespace``, ``device``, ``_convert_to_numpy``,
``_is_numpy_namespace``) and the vendored ``array_api_compat`` exist in every
supported release; an older scikit-learn fails here with a message saying which
release is needed.
"""

import sklearn
from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_params,
)
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.fixes import parse_version
from sklearn.utils.validation import _assert_all_finite, _check_feature_names_in

try:
    from sklearn.externals import array_api_compat
    from sklearn.utils._array_api import (
        _convert_to_numpy,
        _is_numpy_namespace,
        device,
        get_namespace,
    )
except ImportError as error:  # pragma: no cover - scikit-learn < 1.7
    raise ImportError(
        "sklearn_pos needs scikit-learn >= 1.7 (its Array API helpers); "
        f"scikit-learn {sklearn.__version__} is installed. Upgrade it with "
        "`pip install -U scikit-learn`."
    ) from error

__all__ = [
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "_assert_all_finite",
    "_check_feature_names_in",
    "_convert_to_numpy",
    "_fit_context",
    "_is_numpy_namespace",
    "array_api_compat",
    "device",
    "get_namespace",
    "keep_series_index",
    "validate_params",
]

# scikit-learn 1.8 gives the DataFrames of set_output(transform="pandas") the
# index of a pandas Series input; 1.7 only does so for a DataFrame input
# and numbers the rows 0, 1, ... otherwise.
_SET_OUTPUT_KEEPS_SERIES_INDEX = parse_version(
    parse_version(sklearn.__version__).base_version
) >= parse_version("1.8")


def keep_series_index(estimator, X, Xt, method="transform"):
    """``Xt`` as a DataFrame indexed like ``X`` where old scikit-learn would not.

    For an estimator whose ``set_output`` asks for pandas, a pandas Series
    input ``X`` and scikit-learn < 1.8, returns ``pd.DataFrame(Xt,
    index=X.index)``: the set_output wrapper keeps the index of a DataFrame it
    is given and only renames its columns, as 1.8 does by itself. Otherwise
    returns ``Xt`` unchanged.
    """
    if _SET_OUTPUT_KEEPS_SERIES_INDEX or type(X).__name__ != "Series":
        return Xt
    if _get_output_config(method, estimator)["dense"] != "pandas":
        return Xt
    import pandas as pd

    if not isinstance(X, pd.Series):
        return Xt
    return pd.DataFrame(Xt, index=X.index)
