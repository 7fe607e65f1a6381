"""nnlib.Dropout: inverted dropout, active only inside Model.train_step; saved and loaded by rate."""

import numpy as np
import pytest

from nnlib import SGD, Dense, Dropout, Model, ReLU, Softmax
from nnlib.gradcheck import numerical_gradient, rel_error


def test_dropout_is_the_identity_outside_training(rng):
    x = rng.standard_normal((5, 7))
    np.testing.assert_array_equal(Dropout(0.5, rng=0).forward(x), x)


def test_dropout_in_training_drops_about_rate_and_keeps_the_mean(rng):
    layer = Dropout(0.3, rng=1)
    layer.training = True
    x = np.ones((400, 500))
    y = layer.forward(x)
    assert abs(np.mean(y == 0) - 0.3) < 0.01
    np.testing.assert_allclose(np.unique(y), [0, 1 / 0.7])
    assert abs(y.mean() - 1) < 0.01


def test_dropout_backward_matches_the_numerical_gradient_with_the_mask_frozen(rng):
    layer = Dropout(0.4, rng=2)
    layer.training = True
    x, r = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    layer.forward(x)
    mask = layer.mask.copy()
    numerical = numerical_gradient(lambda: np.sum(x * mask * r), x)
    assert rel_error(layer.backward(r), numerical) < 1e-9   # float64


def _model(rate=0.5):
    rng = np.random.default_rng(0)
    return Model([Dense(6, 8, rng=rng, dtype=np.float64), ReLU(), Dropout(rate, rng=3),
                  Dense(8, 3, rng=rng, dtype=np.float64), Softmax()], input_shape=6)


def test_train_step_switches_dropout_on_for_its_own_pass_only(rng):
    model = _model()
    dropout = model.layers[2]
    x, y = rng.standard_normal((32, 6)), rng.integers(0, 3, 32)
    model.train_step(x, y, SGD(0.1))
    assert dropout.mask is not None and np.any(dropout.mask == 0)   # it dropped units
    assert dropout.training is False
    without = Model([model.layers[i] for i in (0, 1, 3, 4)], input_shape=6)
    np.testing.assert_array_equal(model.forward(x), model.forward(x))
    np.testing.assert_array_equal(model.forward(x), without.forward(x))


def test_a_model_with_dropout_saves_and_loads_with_identical_outputs(tmp_path, rng):
    model = _model(0.25)
    x = rng.standard_normal((4, 6))
    model.save(tmp_path / "m")
    loaded = Model.load(tmp_path / "m")
    assert repr(loaded.layers[2]) == "Dropout(0.25)"
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


@pytest.mark.parametrize("rate", [1.0, -0.1, "0.5", True])
def test_a_bad_dropout_rate_is_a_one_line_error(rate):
    with pytest.raises(ValueError, match=r"Dropout rate must be a number in \[0, 1\)"):
        Dropout(rate)
