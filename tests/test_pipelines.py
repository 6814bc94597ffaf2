"""Use cases as pipelines: vocabulary-fitted step, zero-shot, supervised, tabular."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline

from sklearn_pos import clear_caches
from sklearn_pos import vocabulary as vocabulary_module
from sklearn_pos.decomposition import PartOfSpeechComponentAnalysis
from sklearn_pos.vocabulary import VocabularyPartOfSpeechAnalysis
from sklearn_pos.zero_shot import ZeroShotClassifier, make_text_prototypes

D = 16


def _unit(X):
    return X / np.linalg.norm(X, axis=-1, keepdims=True)


def _clear_vocabulary_caches():
    # Only the vocabulary's caches: clear_caches() would drop the shared tiny
    # model too, and every test would build it again.
    vocabulary_module._EMBEDDINGS.clear()
    vocabulary_module._SUBSPACES.clear()


@pytest.fixture(autouse=True)
def _fresh_caches():
    _clear_vocabulary_caches()
    yield
    _clear_vocabulary_caches()


@pytest.fixture(autouse=True)
def _one_torch_thread():
    try:
        import torch
    except ImportError:  # pragma: no cover
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def words():
    """A small stratified sample of the WordNet vocabulary: (words, labels)."""
    from sklearn_pos.datasets import load_wordnet_vocabulary

    return load_wordnet_vocabulary(n_words=240, random_state=0, return_X_y=True)


def _vocabulary(rng, n_per_class=40):
    """Embeddings of a planted vocabulary: (E, labels)."""
    base = _unit(rng.normal(size=D)) * 3
    E = []
    for i in range(3):
        coef = 0.1 * rng.normal(size=(n_per_class, D))
        coef[:, i] *= 8  # each category varies along its own axis
        E.append(base + coef)
    return _unit(np.vstack(E)), np.repeat(["adj", "noun", "verb"], n_per_class)


class CountingPOS(PartOfSpeechComponentAnalysis):
    """Records the labels every subspace fit receives."""

    calls = []

    def fit(self, X, y):
        CountingPOS.calls.append(
            (X.shape, np.asarray(y).copy(), self.lam, self.n_components)
        )
        return super().fit(X, y)


# --------------------------------------------------------------------------- #
# The vocabulary-fitted step
# --------------------------------------------------------------------------- #
def test_subspace_comes_from_the_vocabulary_only():
    rng = np.random.RandomState(0)
    E, labels = _vocabulary(rng)
    # the same defaults (target, output): the step is PoS-CA fitted on the vocabulary
    direct = PartOfSpeechComponentAnalysis(3).fit(E, labels)
    X = rng.normal(size=(30, D))
    y = rng.randint(0, 2, 30)
    fits = [
        VocabularyPartOfSpeechAnalysis((E, labels), n_components=3).fit(X, y),
        VocabularyPartOfSpeechAnalysis((E, labels), n_components=3).fit(
            X, rng.permutation(y)
        ),
        VocabularyPartOfSpeechAnalysis((E, labels), n_components=3).fit(-X[:5] + 7),
        VocabularyPartOfSpeechAnalysis((E, labels), n_components=3).fit(None),
    ]
    for step in fits:
        np.testing.assert_allclose(step.components_, direct.components_)
        np.testing.assert_allclose(step.pos_.mean_, direct.mean_)
        assert step.categories_.tolist() == ["adj", "noun", "verb"]
        assert step.n_vocabulary_ == 120 and step.n_features_in_ == D
    for output in ("projection", "complement", "coordinates"):
        step = VocabularyPartOfSpeechAnalysis(
            (E, labels), n_components=3, output=output
        )
        np.testing.assert_allclose(
            step.fit_transform(X, y),
            clone(direct).set_params(output=output).fit(E, labels).transform(X),
        )


def test_lambda_and_k_candidates_give_their_own_subspaces():
    rng = np.random.RandomState(0)
    E, labels = _vocabulary(rng)
    bases = {}
    for lam in (0.0, 0.5, 1.0):
        for k in (1, 3):
            step = VocabularyPartOfSpeechAnalysis(
                (E, labels), n_components=k, lam=lam
            ).fit(None)
            direct = PartOfSpeechComponentAnalysis(k, lam=lam).fit(E, labels)
            np.testing.assert_allclose(step.components_, direct.components_)
            bases[lam, k] = step.components_
    projectors = [W.T @ W for W in bases.values()]
    for i in range(len(projectors)):
        for j in range(i):
            assert not np.allclose(projectors[i], projectors[j], atol=1e-6)


def test_grid_search_embeds_once_and_never_fits_on_image_labels(
    words, tiny_text_embedder, monkeypatch
):
    from sklearn_pos import _clip

    texts = []
    real_encode = _clip.encode_texts
    monkeypatch.setattr(
        _clip,
        "encode_texts",
        lambda loaded, t, **kw: texts.append(list(t)) or real_encode(loaded, t, **kw),
    )
    CountingPOS.calls = []
    monkeypatch.setattr(vocabulary_module, "PartOfSpeechComponentAnalysis", CountingPOS)

    rng = np.random.RandomState(0)
    X = _unit(rng.normal(size=(36, 64)))
    y = np.repeat(["red", "green", "blue"], 12)
    pipe = Pipeline(
        [
            (
                "pos",
                VocabularyPartOfSpeechAnalysis(
                    words, text_embedder=tiny_text_embedder, output="coordinates"
                ),
            ),
            ("clf", LogisticRegression()),
        ]
    )
    grid = {"pos__lam": [0.0, 0.5, 1.0], "pos__n_components": [2, 8]}
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)

    # (b) the vocabulary is embedded once for the 6 x 3 + 1 fits
    assert len(texts) == 1 and sorted(texts[0]) == sorted(set(map(str, words[0])))
    # each distinct subspace is fitted once, always on the vocabulary's labels
    assert len(CountingPOS.calls) == 6
    assert {(lam, k) for _, _, lam, k in CountingPOS.calls} == {
        (lam, k) for lam in grid["pos__lam"] for k in grid["pos__n_components"]
    }
    for shape, labels, _, _ in CountingPOS.calls:
        assert shape == (240, 64)
        np.testing.assert_array_equal(labels, words[1])
    # (a) other image labels give the same subspace, fitted on the vocabulary again
    best = search.best_estimator_["pos"]
    _clear_vocabulary_caches()
    refit = clone(best).fit(X, rng.permutation(y))
    assert len(CountingPOS.calls) == 7
    np.testing.assert_array_equal(CountingPOS.calls[-1][1], words[1])
    np.testing.assert_allclose(refit.components_, best.components_)
    assert len(texts) == 2  # the cache was cleared: embedded again, once


def test_step_errors_are_explained():
    rng = np.random.RandomState(0)
    E, labels = _vocabulary(rng)
    with pytest.raises(
        ValueError, match="X has 5 features but the vocabulary.*same CLIP model"
    ):
        VocabularyPartOfSpeechAnalysis((E, labels)).fit(np.ones((3, 5)))
    with pytest.raises(ValueError, match="need a text_embedder"):
        VocabularyPartOfSpeechAnalysis(
            (np.array(["cat", "run"]), ["noun", "verb"])
        ).fit(None)
    with pytest.raises(ValueError, match="one label"):
        VocabularyPartOfSpeechAnalysis((E, labels[:-1])).fit(None)
    with pytest.raises(TypeError, match="vocabulary must be"):
        VocabularyPartOfSpeechAnalysis(E).fit(None)
    with pytest.raises(ValueError, match="not a known vocabulary"):
        VocabularyPartOfSpeechAnalysis("webster").fit(None)
    with pytest.raises(ValueError, match="target='noun' is not one of the categories"):
        VocabularyPartOfSpeechAnalysis(
            (E, np.repeat(["a", "b", "c"], 40)), target="noun"
        ).fit(None)


def test_vocabulary_subset_is_stratified_and_reproducible():
    rng = np.random.RandomState(0)
    E, labels = _vocabulary(rng, n_per_class=100)
    a = VocabularyPartOfSpeechAnalysis(
        (E, labels), n_components=2, vocabulary_size=30
    ).fit(None)
    b = VocabularyPartOfSpeechAnalysis(
        (E, labels), n_components=2, vocabulary_size=30
    ).fit(None)
    c = VocabularyPartOfSpeechAnalysis(
        (E, labels), n_components=2, vocabulary_size=30, random_state=1
    ).fit(None)
    assert a.n_vocabulary_ == 30
    np.testing.assert_array_equal(a.pos_.class_counts_, [10, 10, 10])
    np.testing.assert_allclose(a.components_, b.components_)
    assert not np.allclose(a.components_, c.components_)


def test_vocabulary_subset_is_the_datasets_draw_and_explains_its_limits():
    from sklearn_pos.datasets import stratified_subset

    rng = np.random.RandomState(0)
    E, labels = _vocabulary(rng, n_per_class=20)
    step = VocabularyPartOfSpeechAnalysis(
        (E, labels), n_components=2, vocabulary_size=15, random_state=4
    ).fit(None)
    sub_E, sub_labels = stratified_subset(E, labels, 15, random_state=4)
    expected = PartOfSpeechComponentAnalysis(n_components=2)
    expected.fit(sub_E, sub_labels)
    np.testing.assert_allclose(step.components_, expected.components_)
    with pytest.raises(ValueError, match="vocabulary_size=2: .*at least 3 rows"):
        step.set_params(vocabulary_size=2).fit(None)


def test_step_pickles_and_names_features():
    rng = np.random.RandomState(0)
    E, labels = _vocabulary(rng)
    cols = [f"e{i}" for i in range(D)]
    X = pd.DataFrame(rng.normal(size=(4, D)), columns=cols)
    step = VocabularyPartOfSpeechAnalysis(
        (E, labels), n_components=2, output="projection"
    ).fit(X)
    assert step.get_feature_names_out().tolist() == cols
    coords = (
        clone(step)
        .set_params(output="coordinates")
        .set_output(transform="pandas")
        .fit(X)
    )
    out = coords.transform(X)
    assert list(out.columns) == [
        "vocabularypartofspeechanalysis0",
        "vocabularypartofspeechanalysis1",
    ]
    np.testing.assert_allclose(
        coords.inverse_transform(out.to_numpy()),
        coords.pos_.inverse_transform(out.to_numpy()),
    )
    again = pickle.loads(pickle.dumps(step))
    np.testing.assert_allclose(again.transform(X), step.transform(X))


def test_frozen_estimator_keeps_a_fixed_subspace():
    rng = np.random.RandomState(0)
    E, labels = _vocabulary(rng)
    pos = PartOfSpeechComponentAnalysis(3, target="noun", output="coordinates").fit(
        E, labels
    )
    W = pos.components_.copy()
    X = rng.normal(size=(30, D))
    y = np.repeat([0, 1], 15)
    pipe = make_pipeline(FrozenEstimator(pos), LogisticRegression())
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,)
    np.testing.assert_array_equal(pos.components_, W)


# --------------------------------------------------------------------------- #
# End-to-end pipelines on images, with the tiny CLIP model
# --------------------------------------------------------------------------- #
@pytest.mark.slow
def test_zero_shot_pipeline_in_cross_val_score(
    image_folder, tiny_image_embedder, tiny_text_embedder
):
    names = image_folder.target_names
    pipe = make_pipeline(
        tiny_image_embedder,
        ZeroShotClassifier(names, templates="simple", text_embedder=tiny_text_embedder),
    )
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, image_folder.paths, image_folder.target, cv=cv)
    # nothing is learned from the training folds: each fold scores the same
    # predictions, those of the prototypes of the class names
    X = tiny_image_embedder.transform(image_folder.paths)
    P = make_text_prototypes(names, tiny_text_embedder, "simple")
    correct = (
        np.asarray(names)[np.argmax(_unit(X) @ P.T, axis=1)] == image_folder.target
    )
    expected = [correct[test].mean() for _, test in cv.split(X, image_folder.target)]
    np.testing.assert_allclose(scores, expected)
    fitted = clone(pipe).fit(image_folder.paths)  # no labels at all
    assert fitted.score(image_folder.paths, image_folder.target) == pytest.approx(
        correct.mean()
    )


@pytest.mark.slow
def test_pos_zero_shot_is_the_papers_protocol(
    words, image_folder, tiny_image_embedder, tiny_text_embedder
):
    names = image_folder.target_names
    E = tiny_text_embedder.transform(list(words[0]))
    step = VocabularyPartOfSpeechAnalysis(
        words,
        text_embedder=tiny_text_embedder,
        n_components=16,
        geometry="tangent",
        target="noun",
        output="projection",
    )
    pipe = make_pipeline(
        tiny_image_embedder,
        step,
        ZeroShotClassifier(names, text_embedder=tiny_text_embedder),
    ).fit(image_folder.paths)
    pos = PartOfSpeechComponentAnalysis(16, target="noun", output="projection").fit(
        E, words[1]
    )
    X = tiny_image_embedder.transform(image_folder.paths)
    P = make_text_prototypes(names, tiny_text_embedder)
    np.testing.assert_allclose(
        pipe[-1].prototypes_, P
    )  # the text side is not projected
    cos = _unit(pos.transform(X)) @ P.T
    np.testing.assert_allclose(
        pipe[-1].cosine_similarity(pipe[:-1].transform(image_folder.paths)),
        cos,
        atol=1e-5,
    )
    np.testing.assert_array_equal(
        pipe.predict(image_folder.paths), np.asarray(names)[cos.argmax(1)]
    )

    projected = ZeroShotClassifier(
        names,
        text_embedder=tiny_text_embedder,
        image_transform=step,
        project_prototypes=True,
    ).fit(X)
    np.testing.assert_allclose(
        projected.prototypes_, _unit(pos.transform(P)), atol=1e-5
    )


@pytest.mark.slow
def test_supervised_pipeline_on_image_files(
    words, image_folder, tiny_image_embedder, tiny_text_embedder
):
    pipe = Pipeline(
        [
            ("embed", tiny_image_embedder),
            (
                "pos",
                VocabularyPartOfSpeechAnalysis(
                    words,
                    text_embedder=tiny_text_embedder,
                    n_components=8,
                    output="coordinates",
                ),
            ),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    ).fit(image_folder.paths, image_folder.target)
    assert pipe[:-1].transform(image_folder.paths).shape == (12, 8)
    proba = pipe.predict_proba(image_folder.paths)
    assert proba.shape == (12, 3) and np.allclose(proba.sum(1), 1)
    assert pipe.score(image_folder.paths, image_folder.target) > 1 / 3


@pytest.mark.slow
def test_column_transformer_with_an_embedder_per_column(image_folder, tiny_clip_kwargs):
    from sklearn_pos.embedding import CLIPEmbedder

    df = pd.DataFrame(
        {
            "image_path": image_folder.paths,
            "caption": [f"a {c} thing" for c in image_folder.target],
        }
    )
    image = CLIPEmbedder(modality="image", num_workers=0, **tiny_clip_kwargs)
    text = CLIPEmbedder(modality="text", **tiny_clip_kwargs)
    columns = ColumnTransformer(
        [
            ("img", image, "image_path"),
            ("txt", text, ["caption"]),
        ]  # a Series, a DataFrame
    )
    pipe = make_pipeline(columns, LogisticRegression(max_iter=1000)).fit(
        df, image_folder.target
    )
    Z = pipe[0].transform(df)
    expected = np.hstack(
        [image.transform(df["image_path"]), text.transform(df["caption"])]
    )
    np.testing.assert_allclose(Z, expected, atol=1e-6)
    names = pipe[0].get_feature_names_out()
    assert names[0] == "img__clipembedder0" and names[-1] == "txt__clipembedder63"
    assert pipe.score(df, image_folder.target) == 1.0  # the captions name the class
    reordered = df[["caption", "image_path"]]  # columns are found by name
    np.testing.assert_array_equal(pipe.predict(reordered), pipe.predict(df))


@pytest.mark.parametrize("output", ["coordinates", "projection", "complement"])
def test_step_projects_onto_any_vocabulary_category(output):
    rng = np.random.RandomState(0)
    E, labels = _vocabulary(rng)
    X = _unit(rng.normal(size=(7, D)) + 2)
    step = VocabularyPartOfSpeechAnalysis(
        (E, labels), n_components=2, output=output
    ).fit(X)
    np.testing.assert_array_equal(step.project(X), step.transform(X))
    for other in ("adj", "verb"):
        refit = clone(step).set_params(target=other).fit(X)
        np.testing.assert_array_equal(
            step.project(X, subspace=other), refit.transform(X)
        )
        direct = PartOfSpeechComponentAnalysis(
            n_components=2, target=other, output="coordinates"
        ).fit(E, labels)
        np.testing.assert_array_equal(
            step.project(X, subspace=other, output="coordinates"), direct.transform(X)
        )
    np.testing.assert_array_equal(step.tangent_vectors(X), step.pos_.tangent_vectors(X))
    with pytest.raises(ValueError, match=r"subspace='adv' is not one of"):
        step.project(X, subspace="adv")
    with pytest.raises(ValueError, match="features"):
        step.tangent_vectors(X[:, :3])
    with pytest.raises(NotFittedError):
        clone(step).project(X)


# --------------------------------------------------------------------------- #
# What the in-process vocabulary cache keys on
# --------------------------------------------------------------------------- #
def _char_counter(corpus):
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(analyzer="char").fit(corpus)


def test_vocabulary_cache_keys_on_the_fitted_state_of_the_embedder():
    words = ["abc", "bcd", "cde", "def", "aef", "fab"] * 3
    labels = np.repeat(["noun", "adj", "verb"], 6)
    # equal parameters, fitted on different corpora: different embeddings
    first = _char_counter(["abcdef"])
    second = _char_counter(["fedcbx"])
    assert first.get_params() == second.get_params()
    step = VocabularyPartOfSpeechAnalysis((words, labels), n_components=2)
    # (set after clone: clone would unfit them)
    a = clone(step).set_params(text_embedder=first).fit(None).pos_
    b = clone(step).set_params(text_embedder=second).fit(None).pos_
    _clear_vocabulary_caches()
    want = clone(step).set_params(text_embedder=second).fit(None).pos_
    np.testing.assert_allclose(b.mean_, want.mean_)
    assert not np.allclose(a.mean_, b.mean_)


def test_vocabulary_cache_keys_on_the_weights_content(tmp_path, tiny_clip_kwargs):
    torch = pytest.importorskip("torch")
    from sklearn_pos.embedding import CLIPEmbedder

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "w.pt", tmp_path / "b" / "w.pt"
    for seed, path in ((0, first), (1, second)):
        model = CLIPEmbedder(**{**tiny_clip_kwargs, "random_state": seed})
        torch.save(model.get_model().model.state_dict(), path)
    ckpt = tmp_path / "w.pt"
    ckpt.write_bytes(first.read_bytes())
    words, labels = (
        ["cat", "dog", "red", "big", "run", "eat"],
        np.repeat(["noun", "adj", "verb"], 2),
    )
    embedder = CLIPEmbedder(**{**tiny_clip_kwargs, "pretrained": str(ckpt)})
    step = VocabularyPartOfSpeechAnalysis(
        (words, labels), text_embedder=embedder, n_components=1
    )
    before = clone(step).fit(None).pos_.mean_
    st = ckpt.stat()
    ckpt.write_bytes(second.read_bytes())  # overwritten in place, same size
    import os

    os.utime(ckpt, ns=(st.st_atime_ns, st.st_mtime_ns))
    clear_caches()
    after = clone(step).fit(None).pos_.mean_
    clear_caches()
    want = (
        clone(step)
        .set_params(
            text_embedder=CLIPEmbedder(
                **{**tiny_clip_kwargs, "pretrained": str(second)}
            )
        )
        .fit(None)
        .pos_.mean_
    )
    np.testing.assert_allclose(after, want, atol=1e-6)
    assert not np.allclose(before, after)


@pytest.mark.parametrize("missing", [None, np.nan])
def test_missing_words_are_refused_naming_their_rows(missing):
    from sklearn.feature_extraction.text import CountVectorizer

    words = ["cat", "dog", missing, "red", "run", "eat"]
    labels = np.repeat(["noun", "adj", "verb"], 2)
    step = VocabularyPartOfSpeechAnalysis(
        (np.array(words, dtype=object), labels),
        text_embedder=CountVectorizer(analyzer="char"),
    )
    with pytest.raises(ValueError, match=r"1 word\(s\) that are not text \(row 2: "):
        step.fit(None)


def test_a_subset_too_small_for_a_rare_category_is_refused():
    rng = np.random.RandomState(0)
    E, labels = _vocabulary(rng, n_per_class=40)
    keep = np.r_[0:40, 40:80, 80:83]  # 'verb' is rare: 3 of 83 rows
    step = VocabularyPartOfSpeechAnalysis(
        (E[keep], labels[keep]), n_components=2, vocabulary_size=6
    )
    with pytest.raises(ValueError, match=r"keeps no row of labels \['verb'\]"):
        step.fit(None)


def test_parameters_are_checked_before_the_vocabulary_is_embedded():
    calls = []

    class Recording:
        def transform(self, texts):
            calls.append(len(texts))
            return np.ones((len(texts), 4))

    words = np.array(["cat", "dog", "red", "big", "run", "eat"])
    labels = np.repeat(["noun", "adj", "verb"], 2)
    step = VocabularyPartOfSpeechAnalysis(
        (words, labels), text_embedder=Recording(), n_components=9
    )
    with pytest.raises(ValueError, match=r"n_components=9 must be at most the width"):
        step.fit(np.ones((2, 4)))
    with pytest.raises(ValueError, match="target='pronoun' is not one of"):
        step.set_params(n_components=2, target="pronoun").fit(np.ones((2, 4)))
    with pytest.raises(ValueError, match="at least two parts of speech"):
        step.set_params(vocabulary=(words, ["noun"] * 6), target="noun").fit(None)
    assert calls == []


@pytest.mark.parametrize("odd", [3, 2.5, True])
def test_words_mixed_with_numbers_in_a_list_are_refused(odd):
    # numpy would turn the list into texts ('3'), which would then be embedded.
    from sklearn.feature_extraction.text import CountVectorizer

    words = ["cat", "dog", odd, "red", "run", "eat"]
    labels = np.repeat(["noun", "adj", "verb"], 2).tolist()
    step = VocabularyPartOfSpeechAnalysis(
        (words, labels), text_embedder=CountVectorizer(analyzer="char")
    )
    with pytest.raises(
        ValueError, match=rf"1 word\(s\) that are not text \(row 2: {odd!r}\)"
    ):
        step.fit(None)


def test_vocabulary_labels_mixed_in_a_list_are_refused():
    from sklearn.feature_extraction.text import CountVectorizer

    words = ["cat", "dog", "big", "red", "run", "eat"]
    step = VocabularyPartOfSpeechAnalysis(
        (words, ["noun", "noun", "adj", "adj", 1, 1]),
        text_embedder=CountVectorizer(analyzer="char"),
    )
    with pytest.raises(ValueError, match="The vocabulary mixes labels of different"):
        step.fit(None)
