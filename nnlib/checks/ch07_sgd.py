"""Checks for chapter 07 (SGD): gradient_descent on a loss surface, the SGD optimizer, and SGD with
momentum. Each runs the student's code next to nnlib's reference and, when the numbers differ,
compares them with the numbers that the typical mistakes would give, to name the mistake.
"""

import numpy as np

from ..activations import ReLU
from ..layers import Dense
from ..optimizers import SGD as ReferenceSGD
from ._core import Problem, check, expect_array, rng_for_checks


# --- gradient_descent -----------------------------------------------------------------------------
def reference_gradient_descent(grad_fn, start, learning_rate, steps):
    """Path (steps + 1, D) of w ← w − η ∇L(w), starting at ``start`` (D,)."""
    w = np.array(start, dtype=np.float64)
    path = [w]
    for _ in range(steps):
        w = w - learning_rate * grad_fn(w)
        path.append(w)
    return np.array(path)


def _descent_mistakes(grad_fn, start, lr, steps):
    """(wrong path, explanation) for the typical gradient-descent mistakes."""
    path = reference_gradient_descent(grad_fn, start, lr, steps)
    uphill = [np.array(start, dtype=np.float64)]
    for _ in range(steps):
        uphill.append(uphill[-1] + lr * grad_fn(uphill[-1]))
    g0 = grad_fn(np.array(start, dtype=np.float64))
    mistakes = [
        (np.array(uphill), "your path goes UPHILL: the gradient points towards higher loss, so "
                           "step against it, w = w - learning_rate * grad_fn(w)"),
        (np.tile(path[-1], (steps + 1, 1)),
         "every row of your path is the same point (the last one): you appended the same array "
         "again and again and then changed it in place; append a copy (w.copy()) or make a new "
         "array each step (w = w - learning_rate * grad_fn(w))"),
        (np.vstack([path[:1], np.tile(path[-1], (steps, 1))]),
         "every row after the start is the same point (the last one): you appended the same array "
         "and then changed it in place with -=; append w.copy(), or write "
         "w = w - learning_rate * grad_fn(w), which makes a new array"),
        (reference_gradient_descent(grad_fn, start, lr * lr, steps),
         "the learning rate is applied twice (learning_rate**2 * gradient): multiply the gradient "
         "by learning_rate once"),
        (reference_gradient_descent(grad_fn, start, 1.0, steps),
         "your steps ignore learning_rate: move by learning_rate * gradient, not by the whole "
         "gradient"),
        (np.array([np.array(start, dtype=np.float64) - t * lr * g0 for t in range(steps + 1)]),
         "every step uses the gradient at the START: call grad_fn(w) inside the loop, at the "
         "current point"),
        (path[1:], "your path is missing the start point: the first row must be `start`, then one "
                   "row after each step (steps + 1 rows in all)"),
        (path[:-1], "your path stops one step short: take `steps` steps, so the path has "
                    "steps + 1 rows (the start and one row per step)"),
        (path[-1], "you returned only the final point: return the whole path, one row per point, "
                   "shape (steps + 1, D)"),
    ]
    return path, mistakes


def _call_descent(gradient_descent, grad_fn, start, lr, steps):
    given = start.copy()
    try:
        out = gradient_descent(grad_fn, given, lr, steps)
    except ValueError as err:
        if len(start) != 2 and ("shape" in str(err) or "unpack" in str(err)):
            raise Problem(f"with a start point of {len(start)} numbers your function raised "
                          f"ValueError ({str(err).splitlines()[0].strip()}): treat w as one "
                          "array of any length D, not as two numbers") from None
        raise
    if not np.array_equal(given, start):
        raise Problem("it changed `start` in place, so the caller's array moved too: begin with "
                      "a copy, w = np.array(start, dtype=float)")
    return out


@check("gradient_descent")
def check_gradient_descent(gradient_descent):
    rng = rng_for_checks()
    scales = np.array([1.0, 10.0])
    c = rng.standard_normal(3)
    cases = [
        (lambda w: scales * w, np.array([-4.0, 1.5]), 0.05, 8,
         "on the bowl L = (w1² + 10 w2²) / 2, learning_rate 0.05, 8 steps"),
        (lambda w: w ** 3 + c, rng.standard_normal(3), 0.1, 5,
         "in 3-D on L = Σ w⁴/4 + c·w, learning_rate 0.1, 5 steps"),
        (lambda w: scales * w, np.array([2.0, -1.0]), 0.3, 4,
         "with learning_rate 0.3 (too large: the path must diverge), 4 steps"),
    ]
    for grad_fn, start, lr, steps, where in cases:
        out = _call_descent(gradient_descent, grad_fn, start, lr, steps)
        path, mistakes = _descent_mistakes(grad_fn, start, lr, steps)
        expect_array(out, path, f"the path {where}", mistakes=mistakes)

    out = _call_descent(gradient_descent, lambda w: scales * w, np.array([3.0, 1.0]), 0.1, 0)
    expect_array(out, np.array([[3.0, 1.0]]), "the path for steps=0", mistakes=[
        (np.array([3.0, 1.0]), "for steps=0 return a path with one row, the start: "
                               "shape (1, D), not (D,)"),
    ])
    return "the path starts at `start` and steps against the gradient, in any dimension"


# --- SGD ------------------------------------------------------------------------------------------
def _network(shapes, seed):
    """Dense layers (float64) of the given (n_in, n_out) with a ReLU between each pair."""
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in shapes:
        if layers:
            layers.append(ReLU())
        layers.append(Dense(n_in, n_out, rng=rng, dtype=np.float64))
        layers[-1].biases = rng.standard_normal(n_out)
    return layers


def _dense(layers):
    return [layer for layer in layers if isinstance(layer, Dense)]


def _set_gradients(layers, rng):
    for layer in _dense(layers):
        layer.dweights = rng.standard_normal(layer.weights.shape)
        layer.dbiases = rng.standard_normal(layer.biases.shape)


def _snapshot(layers):
    """[(layer index, name, copy of the parameter)] for every Dense parameter."""
    return [(i, name, np.array(getattr(layer, name), dtype=np.float64, copy=True))
            for i, layer in enumerate(_dense(layers)) for name in ("weights", "biases")]


def _gradients(layers):
    return [np.array(getattr(layer, "d" + name), dtype=np.float64, copy=True)
            for layer in _dense(layers) for name in ("weights", "biases")]


def _flat(params):
    return np.concatenate([np.ravel(p) for p in params])


def _call_step(step, layers, state_word):
    """Call ``step(layers)`` and turn the two typical crashes into a Problem that explains them:
    touching a ReLU's (absent) parameters, and one ``state_word`` shared by differently shaped
    parameters."""
    try:
        step(layers)
    except AttributeError as err:
        if "ReLU" in str(err):
            raise Problem("step crashed on a ReLU layer, which has no parameters "
                          f"({str(err).splitlines()[0]}): update only the names listed in "
                          "layer.param_names (ReLU's is empty)") from None
        raise
    except ValueError as err:
        if "broadcast" in str(err) or "shape" in str(err):
            raise Problem(f"step raised ValueError: {str(err).splitlines()[0]} — each parameter "
                          f"needs its own {state_word} with its own shape: keep one per layer "
                          "and per name, e.g. a dict keyed by (id(layer), name)") from None
        raise


def _run_student(optimizer, layers, grads_per_step, what):
    """Apply ``optimizer.step(layers)`` once per set of gradients; return the parameters after each
    step as one row each: (steps, number of parameters)."""
    rows = []
    for k, grads in enumerate(grads_per_step):
        for layer, (dw, db) in zip(_dense(layers), zip(grads[::2], grads[1::2])):
            layer.dweights, layer.dbiases = dw.copy(), db.copy()
        before = [(getattr(l, "weights").shape, getattr(l, "biases").shape) for l in _dense(layers)]
        _call_step(optimizer.step, layers, "velocity")
        for layer, (w_shape, b_shape) in zip(_dense(layers), before):
            for name, shape in (("weights", w_shape), ("biases", b_shape)):
                got = np.shape(getattr(layer, name))
                if got != shape:
                    raise Problem(f"after step, a layer's {name} has shape {got} instead of "
                                  f"{shape} ({what}): update each parameter with its own "
                                  f"gradient, layer.d{name} (and, with momentum, its own "
                                  "velocity, keyed by (id(layer), name))")
        for layer, (dw, db) in zip(_dense(layers), zip(grads[::2], grads[1::2])):
            if not (np.array_equal(layer.dweights, dw) and np.array_equal(layer.dbiases, db)):
                raise Problem("step changed the layers' gradients (dweights or dbiases) in place: "
                              "compute learning_rate * gradient as a new array instead of "
                              "scaling the gradient itself")
        rows.append(_flat(p for _, _, p in _snapshot(layers)))
    return np.array(rows)


def _simulate(params0, grads_per_step, update):
    """Parameters after each step when every parameter follows ``update(state, key, p, g)``, where
    key = (layer index, name); returns (steps, number of parameters) like _run_student."""
    params = [(i, name, p.copy()) for i, name, p in params0]
    state, rows = {}, []
    for grads in grads_per_step:
        params = [(i, name, update(state, (i, name), p, g))
                  for (i, name, p), g in zip(params, grads)]
        rows.append(_flat(p for _, _, p in params))
    return np.array(rows)


def _compare(out, expected, mistakes, what):
    """Name the first mistake whose trajectory matches ``out``; else say where out goes wrong."""
    if np.allclose(out, expected, rtol=1e-7, atol=1e-9):
        return
    for wrong, why in mistakes:
        if wrong.shape == out.shape and np.allclose(out, wrong, rtol=1e-7, atol=1e-9):
            raise Problem(why)
    step = int(np.argmax(~np.all(np.isclose(out, expected, rtol=1e-7, atol=1e-9), axis=1)))
    raise Problem(f"the parameters after step {step + 1} are wrong ({what}); "
                  "θ ← θ − learning_rate · dθ for every parameter of every layer")


def _plain_mistakes(params0, grads_per_step, lr):
    def update(rule):
        return lambda state, key, p, g: rule(key, p, g)

    first = params0[0][0]
    return [
        (_simulate(params0, grads_per_step, update(lambda k, p, g: p)),
         "the parameters did not change: you updated a copy (or only rebound a local name, "
         "as in `param = param - ...`); change the array itself with `param -= learning_rate * "
         "grad`, or store the new array back with setattr(layer, name, ...)"),
        (_simulate(params0, grads_per_step, update(lambda k, p, g: p + lr * g)),
         "the parameters moved UPHILL: subtract the gradient, θ ← θ − learning_rate · dθ"),
        (_simulate(params0, grads_per_step,
                   update(lambda k, p, g: p - lr * g if k[1] == "weights" else p)),
         "the weights are right but the biases never change: update every name in "
         "layer.param_names, ('weights', 'biases')"),
        (_simulate(params0, grads_per_step,
                   update(lambda k, p, g: p - lr * g if k[1] == "biases" else p)),
         "the biases are right but the weights never change: update every name in "
         "layer.param_names, ('weights', 'biases')"),
        (_simulate(params0, grads_per_step,
                   update(lambda k, p, g: p - lr * g if k[0] == first else p)),
         "only the first layer was updated: is there a `return` inside your loop over the "
         "layers? Update every layer in the list"),
        (_simulate(params0, grads_per_step, update(lambda k, p, g: p - lr * lr * g)),
         "the learning rate is applied twice (learning_rate**2 · gradient): multiply by "
         "learning_rate once"),
        (_simulate(params0, grads_per_step, update(lambda k, p, g: p - g)),
         "the step ignores the learning rate: θ ← θ − learning_rate · dθ, not θ − dθ"),
    ]


def _case(shapes, n_steps, seed):
    """A fresh network, its starting parameters and the gradients to feed it at each step."""
    rng = np.random.default_rng(seed)
    layers = _network(shapes, seed)
    params0 = _snapshot(layers)
    grads_per_step = []
    for _ in range(n_steps):
        _set_gradients(layers, rng)
        grads_per_step.append(_gradients(layers))
    return layers, params0, grads_per_step


def _plain_case(SGD, shapes, lr, n_steps, seed, what, momentum=None):
    layers, params0, grads_per_step = _case(shapes, n_steps, seed)
    optimizer = SGD(lr) if momentum is None else SGD(lr, momentum=momentum)
    out = _run_student(optimizer, layers, grads_per_step, what)
    expected = _simulate(params0, grads_per_step, lambda s, k, p, g: p - lr * g)
    _compare(out, expected, _plain_mistakes(params0, grads_per_step, lr), what)


@check("SGD")
def check_sgd(SGD):
    _plain_case(SGD, [(3, 4)], 0.1, 1, 0, "one Dense layer, one step, learning_rate 0.1")
    _plain_case(SGD, [(3, 4), (4, 2)], 0.05, 1, 1,
                "Dense → ReLU → Dense, one step, learning_rate 0.05")
    _plain_case(SGD, [(5, 3), (3, 3), (3, 2)], 0.3, 3, 2,
                "three Dense layers with ReLUs between them, three steps, learning_rate 0.3")

    # real float32 layers, as in a network: the parameters must stay float32 arrays
    rng = rng_for_checks()
    layer = Dense(4, 3, rng=rng)
    layer.dweights = rng.standard_normal((4, 3)).astype(np.float32)
    layer.dbiases = rng.standard_normal(3).astype(np.float32)
    expected_w = layer.weights - np.float32(0.1) * layer.dweights
    SGD(0.1).step([layer])
    if np.asarray(layer.weights).dtype != np.float32:
        raise Problem(f"a float32 layer's weights became {np.asarray(layer.weights).dtype}: "
                      "keep the parameters' dtype (param -= learning_rate * grad does)")
    expect_array(layer.weights, expected_w, "the weights of a float32 Dense(4 → 3) after a step")
    return "θ ← θ − η·dθ for the weights and biases of every layer, in place"


# --- SGD with momentum ----------------------------------------------------------------------------
def _velocity_rule(init, velocity, move):
    """A momentum update: v starts at init(p, g), then v ← velocity(v, g), p ← move(p, v, g)."""
    def update(state, key, p, g):
        if key not in state:
            state[key] = init(p, g)
        state[key] = velocity(state[key], g)
        return move(p, state[key], g)
    return update


def _momentum_mistakes(params0, grads_per_step, lr, mu):
    zero = lambda p, g: np.zeros_like(p)  # noqa: E731

    def shared_by_name(state, key, p, g):
        v = state.get(key[1], np.zeros_like(p))
        state[key[1]] = mu * v - lr * g
        return p + state[key[1]]

    def stale(state, key, p, g):
        v = state.get(key, np.zeros_like(p))
        state[key] = mu * v - lr * g
        return p + v

    rules = [
        (_velocity_rule(zero, lambda v, g: mu * v + lr * g, lambda p, v, g: p + v),
         "the parameters moved UPHILL: with v ← μ·v − η·g the update is θ ← θ + v (or, with "
         "v ← μ·v + η·g, it is θ ← θ − v); check the signs"),
        (lambda state, key, p, g: p - lr * g,
         "momentum had no effect (this is plain SGD): the velocity must survive from one step to "
         "the next — keep it in a dict on the optimizer (self.velocity), keyed by layer and "
         "parameter name, and create each entry only once"),
        (_velocity_rule(zero, lambda v, g: mu * v - lr * g, lambda p, v, g: p + lr * v),
         "the learning rate is applied twice: v ← μ·v − η·g already contains η, so θ ← θ + v "
         "(not θ + η·v)"),
        (shared_by_name,
         "the velocity is shared between layers: two layers' weights use the same velocity. "
         "Keep one velocity per layer AND per parameter, e.g. keyed by (id(layer), name)"),
        (stale,
         "you moved θ with the OLD velocity and updated v afterwards (the first step does not move "
         "at all): first v ← μ·v − η·g, then θ ← θ + v"),
        (_velocity_rule(zero, lambda v, g: mu * v - (1 - mu) * lr * g, lambda p, v, g: p + v),
         "you scaled the gradient by (1 − μ): classical momentum (nnlib, Keras, PyTorch) is "
         "v ← μ·v − η·g"),
        (_velocity_rule(zero, lambda v, g: -mu * v - lr * g, lambda p, v, g: p + v),
         "the old velocity enters with a minus sign (v ← −μ·v − η·g): it must be v ← μ·v − η·g, "
         "so that consistent gradients build up speed"),
        (_velocity_rule(zero, lambda v, g: mu * v - lr * g, lambda p, v, g: p - lr * g + v),
         "the gradient is applied twice, once through v and once directly: θ ← θ + v with "
         "v ← μ·v − η·g is the whole update"),
    ]
    return [(_simulate(params0, grads_per_step, rule), why) for rule, why in rules]


def _momentum_case(SGD, shapes, lr, mu, n_steps, seed, what):
    layers, params0, grads_per_step = _case(shapes, n_steps, seed)
    out = _run_student(SGD(lr, momentum=mu), layers, grads_per_step, what)

    reference_layers = _network(shapes, seed)
    reference = ReferenceSGD(lr, momentum=mu)
    expected = []
    for grads in grads_per_step:
        for layer, (dw, db) in zip(_dense(reference_layers), zip(grads[::2], grads[1::2])):
            layer.dweights, layer.dbiases = dw, db
        reference.step(reference_layers)
        expected.append(_flat(p for _, _, p in _snapshot(reference_layers)))
    expected = np.array(expected)

    if np.allclose(out, expected, rtol=1e-7, atol=1e-9):
        return
    mistakes = _momentum_mistakes(params0, grads_per_step, lr, mu)
    mistakes += _plain_mistakes(params0, grads_per_step, lr)[:1]
    for wrong, why in mistakes:
        if np.allclose(out, wrong, rtol=1e-7, atol=1e-9):
            raise Problem(why)
    plain_first = _simulate(params0, grads_per_step[:1], lambda s, k, p, g: p - lr * g)
    if not np.allclose(out[:1], plain_first, rtol=1e-7, atol=1e-9):
        raise Problem(f"the first step is wrong ({what}): the velocity starts at ZERO "
                      "(np.zeros_like(param)), so the first step is exactly plain SGD's, −η·g")
    step = int(np.argmax(~np.all(np.isclose(out, expected, rtol=1e-7, atol=1e-9), axis=1)))
    raise Problem(f"the parameters after step {step + 1} are wrong ({what}): "
                  "v ← μ·v − η·g, then θ ← θ + v, with one v per parameter of each layer")


@check("SGD with momentum")
def check_sgd_momentum(SGD):
    _momentum_case(SGD, [(3, 3), (3, 3)], 0.2, 0.9, 4, 4,
                   "two Dense(3 → 3) layers, learning_rate 0.2, momentum 0.9, four steps")
    _momentum_case(SGD, [(4, 3), (3, 2)], 0.05, 0.5, 3, 5,
                   "Dense(4 → 3) → ReLU → Dense(3 → 2), learning_rate 0.05, momentum 0.5, "
                   "three steps")
    _plain_case(SGD, [(3, 4), (4, 2)], 0.1, 2, 3,
                "SGD(0.1) without momentum must be plain SGD; Dense → ReLU → Dense, two steps")
    _plain_case(SGD, [(3, 4), (4, 2)], 0.1, 2, 3,
                "SGD(0.1, momentum=0.0) must be plain SGD", momentum=0.0)

    # a constant gradient: the step size must grow towards η·g / (1 − μ)
    layer = Dense(2, 2, rng=rng_for_checks(), dtype=np.float64)
    layer.dweights, layer.dbiases = np.ones((2, 2)), np.ones(2)
    optimizer, before = SGD(0.1, momentum=0.9), layer.weights.copy()
    for _ in range(60):
        optimizer.step([layer])
    moved = float(np.mean(before - layer.weights)) / 60
    if not 0.5 < moved < 0.9:
        raise Problem(f"with a constant gradient 1, learning_rate 0.1 and momentum 0.9 the "
                      f"average step over 60 steps should be about 0.85 (speeding up towards "
                      f"0.1 / (1 − 0.9) = 1), but it was {moved:.3g}")
    return "v ← μ·v − η·g, θ ← θ + v, one velocity per parameter, starting at zero"
