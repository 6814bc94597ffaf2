"""Helpers shared by the bundled-dataset loaders."""

from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

_PACKAGE = "sklearn_pos.datasets"

# Column names shared by every loader, so that frames can be stacked with
# ``pandas.concat`` and arrays with ``numpy.concatenate``.
TEXT_COLUMN = "word"
TARGET_COLUMN = "category"


def _package_file(folder, name):
    return resources.files(_PACKAGE) / folder / name


def read_data_bytes(name):
    """Bytes of a file in ``sklearn_pos/datasets/data``."""
    return _package_file("data", name).read_bytes()


def read_descr(name):
    """Text of a description in ``sklearn_pos/datasets/descr``."""
    return _package_file("descr", name).read_text(encoding="utf-8")


def make_bunch(words, labels, target_names, descr, *, as_frame, return_X_y):
    """Build the loader output from fresh ``words`` / ``labels`` arrays.

    ``words`` and ``labels`` are 1-D object arrays of ``str`` owned by the
    caller (they are returned as is, not copied).
    """
    frame = None
    if as_frame:
        data = pd.Series(words, name=TEXT_COLUMN, dtype="str")
        target = pd.Series(
            pd.Categorical(labels, categories=list(target_names)),
            name=TARGET_COLUMN,
        )
        frame = pd.concat([data, target], axis=1)
    else:
        data, target = words, labels

    if return_X_y:
        return data, target

    return Bunch(
        data=data,
        target=target,
        target_names=list(target_names),
        frame=frame,
        DESCR=descr,
    )


def as_object_array(values):
    """1-D ``object`` array of ``str`` from a sequence."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
