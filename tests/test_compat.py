"""sklearn_pos._compat: behaviour that holds on every supported scikit-learn."""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from sklearn_pos._compat import keep_series_index


class _Lengths(TransformerMixin, BaseEstimator):
    """Text lengths: a transformer of a Series of strings, like CLIPEmbedder."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        Xt = np.array([[len(s), 2 * len(s)] for s in X], dtype=float)
        return keep_series_index(self, X, Xt)

    def get_feature_names_out(self, input_features=None):
        return np.array(["len", "len2"], dtype=object)


def test_pandas_output_keeps_the_index_of_a_series_input():
    X = pd.Series(["dog", "horse"], index=["a", "b"], name="word")
    out = _Lengths().set_output(transform="pandas").fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == ["a", "b"]
    assert list(out.columns) == ["len", "len2"]
    np.testing.assert_array_equal(out.to_numpy(), [[3, 6], [5, 10]])


def test_default_output_and_list_input_stay_arrays():
    X = pd.Series(["dog", "horse"], index=["a", "b"])
    out = _Lengths().fit_transform(X)
    assert isinstance(out, np.ndarray) and out.shape == (2, 2)
    out = _Lengths().set_output(transform="pandas").fit_transform(["dog", "horse"])
    assert list(out.index) == [0, 1]
