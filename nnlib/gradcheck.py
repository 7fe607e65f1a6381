"""Numerical gradients to check analytic ones. Introduced in chapter 06.

Expected sizes of ``rel_error`` between a correct backward and ``numerical_gradient`` (eps=1e-5):
about 1e-9 to 1e-7 in float64. In float32 the rounding error of the differences alone is ~1e-3 of
a typical entry, and far more for tiny entries (1e-3 up to 1 is seen for a correct Dense), so
gradient checks are done in float64 (``dtype=np.float64``).
"""

import numpy as np


def numerical_gradient(f, x, eps=1e-5):
    """∂f/∂x by central differences, (f(x + eps e_i) − f(x − eps e_i)) / 2 eps for each entry i.

    ``f`` takes no arguments and returns a scalar that depends on ``x``; ``x`` is changed in place
    during the call and restored afterwards. Returns an array shaped like x.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        f_plus = float(f())
        x[i] = original - eps
        f_minus = float(f())
        x[i] = original
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def rel_error(a, b):
    """max |a − b| / max(|a| + |b|, 1e-8), element-wise: 0 for equal arrays, 1 for opposite ones."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error got arrays of different shapes {a.shape} and {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8), initial=0.0))


def check_layer(layer, x, rng=None):
    """Gradient-check ``layer`` at input x with the loss L = Σ (layer(x) ⊙ r) for a random r.

    Returns {"inputs": rel_error, "<param>": rel_error, ...} comparing backward with
    numerical_gradient. Use float64 layers and inputs.
    """
    rng = np.random.default_rng(rng)
    r = rng.standard_normal(layer.forward(x).shape)

    def loss():
        return np.sum(layer.forward(x) * r)

    layer.forward(x)
    errors = {"inputs": rel_error(layer.backward(r), numerical_gradient(loss, x))}
    for name in getattr(layer, "param_names", ()):
        layer.forward(x)
        layer.backward(r)
        analytic = getattr(layer, "d" + name).copy()
        errors[name] = rel_error(analytic, numerical_gradient(loss, getattr(layer, name)))
    return errors
