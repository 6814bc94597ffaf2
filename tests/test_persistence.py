"""Saving fitted subspaces as arrays + JSON, and reading them back verified."""

import json
import pickle
import zipfile

import joblib
import numpy as np
import pytest

from sklearn_pos import (
    PartOfSpeechComponentAnalysis,
    VocabularyPartOfSpeechAnalysis,
    load_subspaces,
    save_subspaces,
)
from sklearn_pos.persistence import FORMAT_VERSION

LABELS = {
    "str": np.array(["adj", "noun", "verb"], dtype=object),
    "unicode": np.array(["adj", "noun", "verb"]),
    "int": np.array([3, 7, 11]),
}


def _data(dtype, labels, seed=0):
    rng = np.random.RandomState(seed)
    X = (rng.normal(size=(150, 7)) + 2.5).astype(dtype)
    y = np.repeat(labels, 50)
    X[y == labels[1], 2] += 2 * rng.normal(size=50).astype(dtype)
    return X, y


def _fitted_attributes(est):
    return {k: v for k, v in vars(est).items() if k.endswith("_")}


def _assert_same_fit(loaded, pos):
    assert type(loaded) is PartOfSpeechComponentAnalysis
    assert loaded.get_params() == pos.get_params()
    before, after = _fitted_attributes(pos), _fitted_attributes(loaded)
    assert sorted(after) == sorted(before)
    for name, value in before.items():
        if isinstance(value, np.ndarray):
            assert after[name].dtype == value.dtype, name
            np.testing.assert_array_equal(after[name], value, err_msg=name)
        else:
            assert after[name] == value and type(after[name]) is type(value), name


@pytest.mark.parametrize("geometry", ["tangent", "euclidean"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("labels", sorted(LABELS))
def test_round_trip_keeps_every_fitted_attribute_and_output(
    geometry, dtype, labels, tmp_path
):
    classes = LABELS[labels]
    X, y = _data(dtype, classes)
    pos = PartOfSpeechComponentAnalysis(
        n_components=3, lam=0.3, geometry=geometry, target=classes[1]
    ).fit(X, y)
    path = save_subspaces(pos, tmp_path / "pos.npz", metadata={"note": "é"})
    loaded, meta = load_subspaces(path, return_metadata=True)
    _assert_same_fit(loaded, pos)
    assert loaded.target_ == classes[1]
    assert (loaded.center_ is loaded.mean_) == (geometry == "euclidean")
    assert meta["note"] == "é"
    assert meta["saved_with"]["dtype"] == np.dtype(dtype).name
    assert meta["saved_with"]["format_version"] == FORMAT_VERSION
    for output in ["coordinates", "projection", "complement"]:
        pos.set_params(output=output)
        loaded.set_params(output=output)
        Z = pos.transform(X)
        np.testing.assert_array_equal(loaded.transform(X), Z)
        if output == "coordinates":
            np.testing.assert_array_equal(
                loaded.inverse_transform(Z), pos.inverse_transform(Z)
            )
    np.testing.assert_array_equal(
        loaded.project(X, subspace=classes[0]), pos.project(X, subspace=classes[0])
    )


def test_feature_names_are_kept(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = _data(np.float64, LABELS["str"])
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    pos = PartOfSpeechComponentAnalysis(n_components=2).fit(frame, y)
    loaded = load_subspaces(save_subspaces(pos, tmp_path / "pos.npz"))
    _assert_same_fit(loaded, pos)
    np.testing.assert_array_equal(loaded.transform(frame), pos.transform(frame))


def test_the_file_is_arrays_and_json_only(tmp_path):
    X, y = _data(np.float64, LABELS["str"])
    pos = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    path = save_subspaces(pos, tmp_path / "pos.npz")
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
    assert names == sorted(
        f"{n}.npy"
        for n in ["__metadata__", "mean_", "center_", "class_components_",
                  "class_eigenvalues_", "class_counts_"]
    )  # fmt: skip
    with np.load(path, allow_pickle=False) as npz:
        document = json.loads(npz["__metadata__"].tobytes())
        for name, spec in document["arrays"].items():
            assert npz[name].dtype != object
            assert len(spec["sha256"]) == 64
    assert document["classes"]["values"] == ["adj", "noun", "verb"]
    assert document["params"]["n_components"] == 2


def test_vocabulary_analysis_saves_its_subspace_estimator(tmp_path):
    labels = np.repeat(["adj", "noun"], 30)
    rng = np.random.RandomState(0)
    E = rng.normal(size=(60, 6)) + 2
    step = VocabularyPartOfSpeechAnalysis(
        (E, labels), n_components=2, target="noun"
    ).fit()
    loaded = load_subspaces(save_subspaces(step, tmp_path / "v.npz"))
    _assert_same_fit(loaded, step.pos_)
    np.testing.assert_array_equal(loaded.transform(E), step.pos_.transform(E))


def test_unfitted_or_other_estimators_are_refused(tmp_path):
    from sklearn.decomposition import PCA
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        save_subspaces(PartOfSpeechComponentAnalysis(), tmp_path / "a.npz")
    with pytest.raises(TypeError, match="got PCA"):
        save_subspaces(PCA().fit(np.eye(3)), tmp_path / "a.npz")
    X, y = _data(np.float64, LABELS["str"])
    pos = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    with pytest.raises(TypeError, match="as JSON"):
        save_subspaces(pos, tmp_path / "a.npz", metadata={"x": object()})
    assert not (tmp_path / "a.npz").exists()


@pytest.fixture
def saved(tmp_path):
    X, y = _data(np.float32, LABELS["str"])
    pos = PartOfSpeechComponentAnalysis(n_components=2).fit(X, y)
    return save_subspaces(pos, tmp_path / "pos.npz"), pos


def test_every_flipped_byte_of_the_arrays_is_detected(saved):
    path, pos = saved
    data = bytearray(path.read_bytes())
    # Flip one bit inside the stored bytes of class_components_ (found by
    # its values): the archive's CRC-32 or the array's SHA-256 tells.
    raw = pos.class_components_.tobytes()
    at = bytes(data).index(raw[:32])
    data[at + 5] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged") as info:
        load_subspaces(path)
    assert str(path) in str(info.value)


def test_a_damaged_array_with_a_valid_zip_fails_its_digest(saved, tmp_path):
    path, pos = saved
    # Rewrite the archive with one value changed but its old digest: the
    # archive itself is sound, the content is not what was saved.
    with np.load(path, allow_pickle=False) as npz:
        members = {name: npz[name] for name in npz.files}
    members["class_eigenvalues_"] = members["class_eigenvalues_"].copy()
    members["class_eigenvalues_"][0, 0] += 1
    forged = tmp_path / "forged.npz"
    np.savez(forged, **members)
    with pytest.raises(ValueError, match="class_eigenvalues_ does not match"):
        load_subspaces(forged)


@pytest.mark.parametrize("keep", [0.3, 0.7, 0.99])
def test_truncated_files_are_detected(saved, keep):
    path, _ = saved
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match="not a usable subspaces file") as info:
        load_subspaces(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("how", ["pickle", "joblib", "joblib-compressed"])
def test_pickle_and_joblib_files_are_refused_unread(how, tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        # Unpickling calls open(marker, "w"): proof that code ran.
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "pos_subspaces.joblib"
    if how == "pickle":
        path.write_bytes(pickle.dumps({"estimator": Payload()}))
    else:
        joblib.dump({"estimator": Payload()}, path, compress=how != "joblib")
    with pytest.raises(ValueError, match="pickle/joblib file") as info:
        load_subspaces(path)
    assert "can run any code" in str(info.value) and str(path) in str(info.value)
    assert not marker.exists()


def test_other_files_are_refused(tmp_path):
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="it is empty"):
        load_subspaces(empty)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a NumPy .npz archive"):
        load_subspaces(text)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ValueError, match="no __metadata__ member"):
        load_subspaces(other)
    with pytest.raises(FileNotFoundError):
        load_subspaces(tmp_path / "missing.npz")


def test_a_later_format_version_is_refused(saved, tmp_path):
    path, _ = saved
    with np.load(path, allow_pickle=False) as npz:
        members = {name: npz[name] for name in npz.files}
    document = json.loads(members["__metadata__"].tobytes())
    document["format_version"] = FORMAT_VERSION + 1
    members["__metadata__"] = np.frombuffer(json.dumps(document).encode(), np.uint8)
    later = tmp_path / "later.npz"
    np.savez(later, **members)
    with pytest.raises(ValueError, match="upgrade sklearn_pos"):
        load_subspaces(later)
