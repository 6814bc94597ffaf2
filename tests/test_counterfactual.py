"""Tests of the CLIP-NCE loss and of the directional similarity."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn_pos.counterfactual import (  # noqa: E402
    clip_nce_loss,
    directional_similarity,
)

D, K = 32, 4


@pytest.fixture(autouse=True)
def _one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _unit(X):
    return X / np.linalg.norm(X, axis=-1, keepdims=True)


@pytest.fixture
def scene():
    """A source image and texts under K templates, like CLIP embeddings."""
    rng = np.random.RandomState(0)
    common = rng.normal(size=D)
    source_word, target_word = rng.normal(size=D), rng.normal(size=D)
    templates = 0.5 * rng.normal(size=(K, D))
    source_text = _unit(common + source_word + templates)
    target_text = _unit(common + target_word + templates)
    image = _unit(common + source_word + 0.8 * rng.normal(size=D))
    text_direction = _unit((target_text - source_text).mean(axis=0))
    sideways = rng.normal(size=D)
    sideways -= (sideways @ text_direction) * text_direction
    return dict(
        image=image,
        source_text=source_text,
        target_text=target_text,
        direction=text_direction,
        sideways=_unit(sideways),
    )


def _edit(scene, s, step=0.3):
    """The image moved by ``step`` along ``s * text direction + sideways``."""
    move = s * scene["direction"] + 0.5 * scene["sideways"]
    return _unit(scene["image"] + step * move)


def test_hand_computed_case():
    x = np.array([1.0, 0.0, 0.0])
    edited = np.array([0.0, 1.0, 0.0])
    t_source, t_target = np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0])
    # q = (-1, 1, 0)/sqrt2, p1 = (0, 1, -1)/sqrt2, p2 = (-1, 1, 0)/sqrt2,
    # n1 = (-1, 0, 1)/sqrt2: cos(q, p1) = 1/2, cos(q, p2) = 1, cos(q, n1) = 1/2.
    tau = 0.1
    loss_p1 = -math.log(
        math.exp(0.5 / tau) / (math.exp(0.5 / tau) + math.exp(0.5 / tau))
    )
    loss_p2 = -math.log(math.exp(1 / tau) / (math.exp(1 / tau) + math.exp(0.5 / tau)))
    expected = 0.5 * (loss_p1 + loss_p2)
    got = clip_nce_loss(x, edited, t_source, t_target, temperature=tau)
    assert isinstance(got, torch.Tensor) and got.ndim == 0
    assert float(got) == pytest.approx(expected, rel=1e-6)
    # Unnormalised inputs give the same value: everything is normalised.
    got = clip_nce_loss(3 * x, 2 * edited, 5 * t_source, t_target, temperature=tau)
    assert float(got) == pytest.approx(expected, rel=1e-6)
    # cos((-1, 1, 0), (0, 1, -1)) = 1/2.
    assert directional_similarity(x, edited, t_source, t_target) == pytest.approx(0.5)
    # Another temperature, evaluated by hand as well.
    got = clip_nce_loss(x, edited, t_source, t_target, temperature=1.0)
    expected = 0.5 * (math.log(2) + math.log1p(math.exp(-0.5)))
    assert float(got) == pytest.approx(expected, rel=1e-6)


def test_loss_decreases_along_the_text_direction(scene):
    args = scene["image"], scene["source_text"], scene["target_text"]
    steps = np.linspace(-1.5, 1.5, 13)
    losses = [
        float(clip_nce_loss(args[0], _edit(scene, s), args[1], args[2])) for s in steps
    ]
    assert np.all(np.diff(losses) < 0), losses  # along: lower; against: higher
    sims = [directional_similarity(args[0], _edit(scene, s), *args[1:]) for s in steps]
    assert np.all(np.diff(sims) > 0)
    assert sims[0] < 0 < sims[-1]
    # Relative to a sideways edit (no text component): along helps, against hurts.
    sideways = losses[len(steps) // 2]
    assert losses[-1] < sideways - 0.5
    assert losses[0] > sideways + 0.5


def test_gradient_descent_on_the_edit_follows_the_text(scene):
    source_text = torch.as_tensor(scene["source_text"], dtype=torch.float32)
    target_text = torch.as_tensor(scene["target_text"], dtype=torch.float32)
    image = torch.as_tensor(scene["image"], dtype=torch.float32)
    edit = torch.as_tensor(_edit(scene, 0.0, step=0.1), dtype=torch.float32)
    edit.requires_grad_(True)
    optimizer = torch.optim.SGD([edit], lr=0.02)
    with torch.no_grad():
        start_loss = float(clip_nce_loss(image, edit, source_text, target_text))
        start_sim = float(directional_similarity(image, edit, source_text, target_text))
    for _ in range(30):
        optimizer.zero_grad()
        loss = clip_nce_loss(image, edit, source_text, target_text)
        loss.backward()
        assert torch.isfinite(edit.grad).all() and edit.grad.abs().sum() > 0
        optimizer.step()
    with torch.no_grad():
        end_sim = float(directional_similarity(image, edit, source_text, target_text))
    assert loss.item() < start_loss - 0.5
    assert end_sim > start_sim + 0.3


def test_gradients_reach_every_tensor_input(scene):
    inputs = [
        torch.tensor(scene["image"], requires_grad=True),
        torch.tensor(_edit(scene, 0.5), requires_grad=True),
        torch.tensor(scene["source_text"], requires_grad=True),
        torch.tensor(scene["target_text"], requires_grad=True),
    ]
    loss = clip_nce_loss(*inputs)
    assert loss.dtype == torch.float64  # the widest input dtype is kept
    loss.backward()
    for t in inputs:
        assert t.grad is not None and torch.isfinite(t.grad).all()
        assert t.grad.abs().sum() > 0
    sim = directional_similarity(*[t.detach().requires_grad_(True) for t in inputs])
    assert isinstance(sim, torch.Tensor) and sim.ndim == 0
    sim.backward()


def test_batches_and_per_sample_templates(scene):
    rng = np.random.RandomState(1)
    B = 5
    images = _unit(scene["image"] + 0.3 * rng.normal(size=(B, D)))
    edits = _unit(images + 0.3 * rng.normal(size=(B, D)))
    st, tt = scene["source_text"], scene["target_text"]
    each = clip_nce_loss(images, edits, st, tt, reduction="none")
    assert each.shape == (B,)
    single = [float(clip_nce_loss(images[i], edits[i], st, tt)) for i in range(B)]
    np.testing.assert_allclose(each.numpy(), single, rtol=1e-6)
    assert float(clip_nce_loss(images, edits, st, tt)) == pytest.approx(np.mean(single))
    total = clip_nce_loss(images, edits, st, tt, reduction="sum")
    assert float(total) == pytest.approx(np.sum(single), rel=1e-6)
    # (B, K, d) texts: one set of templates per sample.
    per_sample = clip_nce_loss(
        images, edits, np.stack([st] * B), np.stack([tt] * B), reduction="none"
    )
    np.testing.assert_allclose(per_sample.numpy(), each.numpy(), rtol=1e-6)
    # One source image shared by several edits.
    shared = clip_nce_loss(images[0], edits, st, tt, reduction="none")
    assert shared[0].item() == pytest.approx(single[0], rel=1e-6)
    # One template given as a vector equals K = 1.
    np.testing.assert_allclose(
        float(clip_nce_loss(images, edits, st[0], tt[0])),
        float(clip_nce_loss(images, edits, st[:1], tt[:1])),
    )
    sims = directional_similarity(images, edits, st, tt)
    assert isinstance(sims, np.ndarray) and sims.shape == (B,)
    sims_torch = directional_similarity(torch.as_tensor(images), edits, st, tt)
    np.testing.assert_allclose(sims_torch.numpy(), sims, rtol=1e-6)


def test_numpy_inputs_give_a_float32_tensor(scene):
    loss = clip_nce_loss(
        scene["image"].astype(np.float32),
        _edit(scene, 1.0).astype(np.float32),
        scene["source_text"].astype(np.float32),
        scene["target_text"].astype(np.float32),
    )
    assert loss.dtype == torch.float32 and not loss.requires_grad


def test_identical_edit_is_finite(scene):
    loss = clip_nce_loss(
        scene["image"], scene["image"], scene["source_text"], scene["target_text"]
    )
    assert float(loss) == pytest.approx(math.log(K + 1), rel=1e-6)
    sim = directional_similarity(
        scene["image"], scene["image"], scene["source_text"], scene["target_text"]
    )
    assert sim == 0.0


@pytest.mark.parametrize(
    "shapes, match",
    [
        (((D,), (D,), (K, D), (K + 1, D)), "same shape"),
        (((D,), (D + 1,), (K, D), (K, D)), "same width"),
        (((3, D), (4, D), (K, D), (K, D)), "different batch sizes"),
        (((3, D), (3, D), (2, K, D), (2, K, D)), "do not match"),
        (((D,), (D,), (K, D + 1), (K, D + 1)), "shape"),
        (((2, 2, D), (D,), (K, D), (K, D)), "shape"),
    ],
)
def test_shape_errors(shapes, match):
    arrays = [np.ones(s) for s in shapes]
    with pytest.raises(ValueError, match=match):
        clip_nce_loss(*arrays)
    with pytest.raises(ValueError, match=match):
        directional_similarity(*arrays)


def test_parameter_errors(scene):
    args = scene["image"], _edit(scene, 1.0), scene["source_text"], scene["target_text"]
    with pytest.raises(ValueError, match="temperature"):
        clip_nce_loss(*args, temperature=0)
    with pytest.raises(ValueError, match="reduction"):
        clip_nce_loss(*args, reduction="max")


# ------------------------------------------------------------ bad inputs


def _args(scene):
    return [
        scene["image"],
        _edit(scene, 1.0),
        scene["source_text"],
        scene["target_text"],
    ]


@pytest.mark.parametrize("position", [0, 1, 2, 3])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_non_finite_inputs_are_named(scene, position, bad, as_tensor):
    args = _args(scene)
    args[position] = np.array(args[position], dtype=np.float64)
    args[position].flat[0] = bad
    if as_tensor:
        args[position] = torch.as_tensor(args[position])
    name = ["source_image", "edited_image", "source_text", "target_text"][position]
    for function in (clip_nce_loss, directional_similarity):
        with pytest.raises(ValueError, match=f"{name} contains NaN or infinite"):
            function(*args)


def test_empty_inputs_are_refused(scene):
    args = _args(scene)
    d = args[0].shape[-1]
    empty_batch = [np.zeros((0, d)), np.zeros((0, d)), args[2], args[3]]
    no_templates = [args[0], args[1], np.zeros((0, d)), np.zeros((0, d))]
    for function in (clip_nce_loss, directional_similarity):
        with pytest.raises(ValueError, match=r"source_image is empty \(shape \(0, "):
            function(*empty_batch)
        with pytest.raises(ValueError, match="source_text is empty"):
            function(*no_templates)


def test_texts_instead_of_embeddings(scene):
    args = _args(scene)
    for function in (clip_nce_loss, directional_similarity):
        with pytest.raises(TypeError, match="source_text must hold embeddings"):
            function(args[0], args[1], ["a dog", "a cat"], args[3])
        with pytest.raises(TypeError, match="the string 'a dog'"):
            function(args[0], args[1], "a dog", args[3])


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, 0.0])
def test_temperature_and_eps_must_be_finite_and_positive(scene, value):
    args = _args(scene)
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        clip_nce_loss(*args, temperature=value)
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        clip_nce_loss(*args, eps=value)
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        directional_similarity(*args, eps=value)
