"""Checks for chapter 07 (SGD): gradient_descent on a loss surface, the SGD optimizer, and SGD with
momentum. Each runs the student's code beside a simulation of the right update; when the numbers
differ, a table of typical mistakes, each simulated the same way, names the one that was made.
"""

import numpy as np

from ..activations import ReLU
from ..layers import Dense
from ._core import Mistake, Problem, check, expect_array, rng_for_checks

TOL = dict(rtol=1e-7, atol=1e-9)

# --- gradient_descent -----------------------------------------------------------------------------
DESCENT_FIX = """def gradient_descent(grad_fn, start, learning_rate, steps):
    w = np.array(start, dtype=float)
    path = [w]
    for _ in range(steps):
        w = w - learning_rate * grad_fn(w)
        path.append(w)
    return np.array(path)"""
DESCENT_LINE = "w = w - learning_rate * grad_fn(w)   # a new array, against the gradient at w"
DOWNHILL = ("The gradient points towards higher loss. A step of gradient descent goes the other "
            "way, by η times the gradient at the point where you are now.")
SAME_ARRAY = ("Appending an array to a list stores the array itself, not a snapshot of it: an "
              "in-place update afterwards changes what the list holds.")
PATH_ROWS = "The path is the start, then one point after each step: steps + 1 rows of D numbers."
OWN_COPY = "w = np.array(start, dtype=float)   # your own floating-point copy of start"


def _walk(start, steps, step):
    """The path (steps + 1, D) from ``start`` when each step is w -> step(w)."""
    w = np.array(start, dtype=np.float64)
    path = [w]
    for _ in range(steps):
        w = step(w)
        path.append(w)
    return np.array(path)


def reference_gradient_descent(grad_fn, start, learning_rate, steps):
    """Path (steps + 1, D) of w ← w − η ∇L(w), starting at ``start`` (D,)."""
    return _walk(start, steps, lambda w: w - learning_rate * grad_fn(w))


def _descent_mistakes(grad_fn, start, lr, steps, path):
    g0 = grad_fn(np.array(start, dtype=np.float64))
    return [
        Mistake(_walk(start, steps, lambda w: w + lr * grad_fn(w)),
                "your path goes UPHILL: each step moved along the gradient, and the gradient "
                "points towards higher loss", DOWNHILL, DESCENT_LINE),
        Mistake(np.tile(path[-1], (steps + 1, 1)),
                "every row of your path is the same point (the last one): the path holds one "
                "array several times, and each in-place update changed all of them", SAME_ARRAY,
                DESCENT_LINE + "\npath.append(w)"),
        Mistake(np.vstack([path[:1], np.tile(path[-1], (steps, 1))]),
                "every row after the start is the same point (the last one): the path holds one "
                "array several times, and each in-place update changed all of them", SAME_ARRAY,
                DESCENT_LINE + "\npath.append(w)"),
        Mistake(_walk(start, steps, lambda w: w - lr * lr * grad_fn(w)),
                "the learning rate is applied twice: each step moved by η² times the gradient",
                "Each step moves by η times the gradient: η appears once.", DESCENT_LINE),
        Mistake(_walk(start, steps, lambda w: w - grad_fn(w)),
                "your steps ignore the learning rate: each one moved by the whole gradient",
                "The learning rate is what makes a step small: it scales every step.",
                DESCENT_LINE),
        Mistake(np.array([np.array(start, dtype=np.float64) - t * lr * g0
                          for t in range(steps + 1)]),
                "every step uses the gradient at the START: the gradient was computed once, not "
                "at each new point", "The slope changes from point to point: ask for the "
                "gradient where you are now, inside the loop.",
                "for _ in range(steps):\n    " + DESCENT_LINE + "\n    path.append(w)"),
        Mistake(path[1:], f"your path is missing the start point: it has {steps} rows, one per "
                "step, instead of steps + 1", PATH_ROWS, "path = [w]   # the start, before the "
                "first step"),
        Mistake(path[:-1], f"your path stops one step short: it has {steps} rows instead of "
                "steps + 1", PATH_ROWS, "for _ in range(steps):   # exactly steps steps, each "
                "appending one point"),
        Mistake(path[-1], "you returned only the final point: the exercise asks for the whole "
                "path, one row per point", PATH_ROWS, "return np.array(path)   # (steps + 1, D)"),
    ]


def _call_descent(gradient_descent, grad_fn, start, lr, steps):
    given = start.copy()
    try:
        out = gradient_descent(grad_fn, given, lr, steps)
    except ValueError as err:
        if len(start) != 2 and ("shape" in str(err) or "unpack" in str(err)):
            raise Problem(f"with a start point of {len(start)} numbers your function raised "
                          f"ValueError ({str(err).splitlines()[0].strip()}): it handles exactly "
                          "two coordinates, and the point may have any length D",
                          "Treat w as one array and do the arithmetic on whole arrays: then the "
                          "same lines work in any dimension.", DESCENT_FIX) from None
        raise
    except TypeError as err:
        if start.dtype.kind in "iu" and "cast" in str(err):
            raise Problem("for a start point of whole numbers (an integer array) your function "
                          "raised an error: it updated an integer array in place, and an integer "
                          "array cannot hold the fractions the path passes through",
                          "The points of the path are real numbers, whatever type start has.",
                          OWN_COPY) from None
        raise
    if not np.array_equal(given, start):
        raise Problem("it changed start in place, so the caller's array moved too: the updates "
                      "wrote into the array it was given", "A second name for an array is not a "
                      "copy: an in-place update through it changes the caller's data.", OWN_COPY)
    return out


def _as_path(out, path):
    """The student's path as an array, after the checks that a table of numbers needs."""
    if out is None:
        return None
    try:
        table = np.asarray(out)
        if table.dtype.kind in "iub" and not np.array_equal(table, path):
            raise Problem("your path holds whole numbers only: it was kept in an integer array, "
                          "which cuts off every fraction", "The points of the path are real "
                          "numbers, whatever type start has.", OWN_COPY)
        return np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        raise Problem(f"your path is not a table of numbers (it is a {type(out).__name__} whose "
                      "rows differ in length or hold other things)", PATH_ROWS,
                      "return np.array(path)   # (steps + 1, D)") from None


@check("gradient_descent", hint="Start at a copy of start; repeat w ← w − η ∇L(w) steps times, "
       "with the gradient taken at the current point; keep every point, the start included.",
       fix=DESCENT_FIX)
def check_gradient_descent(gradient_descent):
    rng = rng_for_checks()
    scales = np.array([1.0, 10.0])
    c = rng.standard_normal(3)
    cases = [
        (lambda w: scales * w, np.array([-4.0, 1.5]), 0.05, 8,
         "on the bowl L = (w1² + 10 w2²) / 2, learning rate 0.05, 8 steps"),
        (lambda w: w ** 3 + c, rng.standard_normal(3), 0.1, 5,
         "in 3-D on L = Σ w⁴/4 + c·w, learning rate 0.1, 5 steps"),
        (lambda w: scales * w, np.array([2.0, -1.0]), 0.3, 4,
         "with learning rate 0.3 (too large: the path must diverge), 4 steps"),
        (lambda w: scales * w, np.array([3, -2]), 0.05, 3,
         "from a start of whole numbers (an integer array), 3 steps"),
    ]
    for grad_fn, start, lr, steps, where in cases:
        out = _call_descent(gradient_descent, grad_fn, start, lr, steps)
        path = reference_gradient_descent(grad_fn, start, lr, steps)
        expect_array(_as_path(out, path), path, f"the path {where}",
                     mistakes=_descent_mistakes(grad_fn, start, lr, steps, path))

    out = _call_descent(gradient_descent, lambda w: scales * w, np.array([3.0, 1.0]), 0.1, 0)
    expect_array(_as_path(out, [[3.0, 1.0]]), np.array([[3.0, 1.0]]), "the path for no steps", [
        Mistake(np.array([3.0, 1.0]), "for no steps at all you returned the bare start point, "
                "shape (2,): the path is a table with one row per point, here one row",
                PATH_ROWS, "return np.array(path)   # (steps + 1, D), also for steps = 0"),
    ])
    return "the path starts at the start point and steps against the gradient, in any dimension"


# --- SGD: the student's optimizer on small networks, against a simulation ------------------------
SGD_FIX = """class SGD:
    def __init__(self, learning_rate=0.1):
        self.learning_rate = learning_rate

    def step(self, layers):
        for layer in layers:
            for name in layer.param_names:
                param = getattr(layer, name)
                param -= self.learning_rate * getattr(layer, "d" + name)"""
SGD_HINT = ("θ ← θ − η·dθ for every parameter of every layer, in place: each layer lists the "
            "names of its parameters, and each gradient sits beside its parameter under the same "
            "name with a d in front.")
MOMENTUM_FIX = """class SGD:
    def __init__(self, learning_rate=0.1, momentum=0.0):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.velocity = {}

    def step(self, layers):
        for layer in layers:
            for name in layer.param_names:
                param, grad = getattr(layer, name), getattr(layer, "d" + name)
                key = (id(layer), name)
                if key not in self.velocity:
                    self.velocity[key] = np.zeros_like(param)
                v = self.velocity[key]
                v *= self.momentum
                v -= self.learning_rate * grad
                param += v"""
MOMENTUM_HINT = ("v ← μ·v − η·dθ, then θ ← θ + v. The optimizer keeps one velocity per parameter "
                 "of each layer between calls of step; each starts at zero.")
IN_PLACE_STEP = ('param = getattr(layer, name)\n'
                 'param -= self.learning_rate * getattr(layer, "d" + name)')
EVERY_NAME = ('for name in layer.param_names:   # ("weights", "biases") for Dense, () for ReLU\n'
              '    param = getattr(layer, name)\n'
              '    param -= self.learning_rate * getattr(layer, "d" + name)')
MOMENTUM_STEP = "v *= self.momentum\nv -= self.learning_rate * grad\nparam += v"
NOT_THE_LAYERS = ("The layer keeps its own array: either change that array in place, or store "
                  "the new array back on the layer.")
BOTH_NAMES = "A Dense layer has two parameters, and it lists both names."
ONE_VELOCITY_EACH = ("key = (id(layer), name)   # one velocity per layer AND per parameter\n"
                     "if key not in self.velocity:\n"
                     "    self.velocity[key] = np.zeros_like(param)")


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


def _snapshot(layers):
    """[(dense layer number, name, copy of the parameter)] for every Dense parameter."""
    return [(i, name, np.array(getattr(layer, name), dtype=np.float64, copy=True))
            for i, layer in enumerate(_dense(layers)) for name in ("weights", "biases")]


def _flat(params):
    return np.concatenate([np.ravel(p) for p in params])


def _case(shapes, n_steps, seed):
    """A fresh network, its starting parameters and the gradients to feed it at each step."""
    rng = np.random.default_rng(seed)
    layers = _network(shapes, seed)
    params0 = _snapshot(layers)
    grads_per_step = [[rng.standard_normal(p.shape) for _, _, p in params0]
                      for _ in range(n_steps)]
    return layers, params0, grads_per_step


def _simulate(params0, grads_per_step, rule, shared=lambda key: key):
    """Parameters after each step, one row each (steps, number of parameters), when every parameter
    moves by ``rule(key, v, p, g) -> (new v, new p)``; v is its velocity, kept per shared(key) and
    starting at zero. None when the rule cannot run on these shapes (such a mistake would crash)."""
    keys = [(i, name) for i, name, _ in params0]
    params, velocity, rows = [p.copy() for _, _, p in params0], {}, []
    try:
        for grads in grads_per_step:
            for j, (key, p, g) in enumerate(zip(keys, params, grads)):
                v = velocity.get(shared(key), np.zeros_like(p))
                velocity[shared(key)], params[j] = rule(key, v, p, g)
            rows.append(_flat(params))
    except ValueError:
        return None
    return np.array(rows)


def _mistakes(params0, grads_per_step, table):
    """The table's rows with each rule (or (rule, shared)) replaced by the parameters it gives."""
    rows = []
    for m in table:
        wrong = _simulate(params0, grads_per_step, *(m.wrong if isinstance(m.wrong, tuple)
                                                      else (m.wrong,)))
        if wrong is not None:
            rows.append(m._replace(wrong=wrong))
    return rows


def _plain_table(lr):
    """The typical mistakes of a plain SGD step; each row's wrong is a rule for one parameter p
    with gradient g (see _simulate)."""
    return [
        Mistake(lambda k, v, p, g: (v, p),
                "the parameters did not change: you updated a copy, or only rebound a local "
                "name to a new array, so the layer still holds its old one", NOT_THE_LAYERS,
                IN_PLACE_STEP),
        Mistake(lambda k, v, p, g: (v, p + lr * g),
                "the parameters moved UPHILL: each step went along the gradient, which points "
                "towards higher loss", "θ ← θ − η·dθ: against the gradient.", IN_PLACE_STEP),
        Mistake(lambda k, v, p, g: (v, p - lr * g if k[1] == "weights" else p),
                "the weights are right but the biases never change: only the weights were "
                "updated", BOTH_NAMES, EVERY_NAME),
        Mistake(lambda k, v, p, g: (v, p - lr * g if k[1] == "biases" else p),
                "the biases are right but the weights never change: only the biases were "
                "updated", BOTH_NAMES, EVERY_NAME),
        Mistake(lambda k, v, p, g: (v, p - lr * g if k[0] == 0 else p),
                "only the first layer was updated: the loop over the layers ended after the "
                "first one", "A return inside a loop ends the whole method, not just one round "
                "of the loop.", "for layer in layers:\n    " + EVERY_NAME.replace("\n", "\n    ")
                + "\n# no return inside the loops"),
        Mistake(lambda k, v, p, g: (v, p - lr * lr * g),
                "the learning rate is applied twice: each step moved by η² times the gradient",
                "θ ← θ − η·dθ: η appears once.", IN_PLACE_STEP),
        Mistake(lambda k, v, p, g: (v, p - g),
                "the step ignores the learning rate: each parameter moved by its whole gradient",
                "The learning rate given to the constructor scales every step.", IN_PLACE_STEP),
        Mistake(lambda k, v, p, g: (v, p - 0.1 * g),
                f"every step used the learning rate 0.1, not the {lr:g} this optimizer was "
                "created with", "The constructor stores the learning rate it is given; step "
                "uses that stored value.", "self.learning_rate = learning_rate   # in __init__\n"
                'param -= self.learning_rate * getattr(layer, "d" + name)   # in step'),
    ]


def _momentum_table(lr, mu):
    """The typical mistakes of a momentum step; each row's wrong is a rule for one parameter p
    with gradient g, or (rule, how velocities are shared)."""
    return [
        Mistake(lambda k, v, p, g: (mu * v + lr * g, p + mu * v + lr * g),
                "the parameters moved UPHILL: the velocity and the update use opposite signs, "
                "so every step goes along the gradient", "With v ← μ·v − η·dθ the velocity "
                "already points downhill: how is it then added to θ?", MOMENTUM_STEP),
        Mistake(lambda k, v, p, g: (v, p - lr * g),
                "momentum had no effect: every step is exactly plain SGD's, so the velocity did "
                "not survive from one step to the next", "The velocity is state: the optimizer "
                "keeps it between calls of step, one per parameter of each layer, created only "
                "once.", ONE_VELOCITY_EACH),
        Mistake(lambda k, v, p, g: (mu * v - lr * g, p + lr * (mu * v - lr * g)),
                "the learning rate is applied twice: the velocity already contains η, and the "
                "update multiplied it by η again", "v ← μ·v − η·dθ, then θ ← θ + v: η appears "
                "once.", "param += v   # v already holds the learning rate"),
        Mistake((lambda k, v, p, g: (mu * v - lr * g, p + mu * v - lr * g), lambda key: key[1]),
                "the velocity is shared between layers: two layers whose weights have the same "
                "shape feed one velocity, so each moves with the other's history too", "Two "
                "layers with equal shapes are still two parameters, each with a history of its "
                "own.", ONE_VELOCITY_EACH),
        Mistake(lambda k, v, p, g: (mu * v - lr * g, p + v),
                "the parameters moved with the OLD velocity and the velocity was updated "
                "afterwards, so the first step did not move at all", "Order matters: first the "
                "new velocity, then the step with it.", MOMENTUM_STEP),
        Mistake(lambda k, v, p, g: (mu * v - (1 - mu) * lr * g, p + mu * v - (1 - mu) * lr * g),
                "the gradient was scaled by (1 − μ): that is a damped momentum, whose steps stay "
                "as short as plain SGD's; classical momentum (nnlib, Keras, PyTorch) lets them "
                "grow", "In classical momentum the whole η·dθ enters the velocity at each step.",
                "v -= self.learning_rate * grad   # no (1 - momentum) factor"),
        Mistake(lambda k, v, p, g: (-mu * v - lr * g, p - mu * v - lr * g),
                "the old velocity enters with a minus sign, so it flips direction every step "
                "instead of building up speed", "Consistent gradients should make the steps "
                "longer: μ·v keeps the old direction.", MOMENTUM_STEP),
        Mistake(lambda k, v, p, g: (mu * v - lr * g, p - lr * g + mu * v - lr * g),
                "the gradient is applied twice, once through the velocity and once directly",
                "θ ← θ + v is the whole update: the gradient is already in v.", MOMENTUM_STEP),
        Mistake(lambda k, v, p, g: (v, p),
                "the parameters did not change: you updated a copy, or only rebound a local "
                "name to a new array, so the layer still holds its old one", NOT_THE_LAYERS,
                "param += v   # in place: the layer's own array"),
    ]


def _make(SGD, lr, momentum=None):
    try:
        return SGD(lr) if momentum is None else SGD(lr, momentum=momentum)
    except TypeError as err:
        if "unexpected keyword argument 'momentum'" in str(err):
            raise Problem("your SGD cannot be created with a momentum: its constructor has no "
                          "momentum argument", "The constructor takes the momentum as a second "
                          "argument, 0 by default.", MOMENTUM_FIX) from None
        raise


def _call_step(optimizer, layers, momentum):
    """Call ``step(layers)``; name the two typical crashes: touching a ReLU's (absent) parameters,
    and a parameter moved by an array of another parameter's shape."""
    try:
        optimizer.step(layers)
    except AttributeError as err:
        if "ReLU" in str(err):
            raise Problem("step crashed on a ReLU layer, which has no parameters "
                          f"({str(err).splitlines()[0]}): a layer without parameters must be "
                          "left alone", "Each layer lists the names of its parameters; a ReLU's "
                          "list is empty, so a loop over it does nothing.", EVERY_NAME) from None
        raise
    except ValueError as err:
        if "broadcast" in str(err) or "shape" in str(err):
            own = "its own velocity, with its own shape, one per layer and per name" if momentum \
                else "its own gradient"
            raise Problem(f"step raised ValueError ({str(err).splitlines()[0]}): a parameter met "
                          f"an array of another parameter's shape; each parameter moves by {own}",
                          MOMENTUM_HINT if momentum else SGD_HINT,
                          ONE_VELOCITY_EACH if momentum else EVERY_NAME) from None
        raise


def _run_student(optimizer, layers, grads_per_step, what, momentum):
    """Apply ``optimizer.step(layers)`` once per set of gradients; return the parameters after each
    step, one row each: (steps, number of parameters)."""
    rows = []
    for grads in grads_per_step:
        for layer, dw, db in zip(_dense(layers), grads[::2], grads[1::2]):
            layer.dweights, layer.dbiases = dw.copy(), db.copy()
        params = [(layer, name) for layer in _dense(layers) for name in ("weights", "biases")]
        shapes = [np.shape(getattr(layer, name)) for layer, name in params]
        _call_step(optimizer, layers, momentum)
        for (layer, name), shape in zip(params, shapes):
            got = np.shape(getattr(layer, name))
            if got != shape:
                raise Problem(f"after a step, a layer's {name} have shape {got} instead of "
                              f"{shape} ({what}): a parameter was moved by an array of another "
                              "parameter's shape, but each has its own gradient"
                              + (" and its own velocity" if momentum else ""),
                              MOMENTUM_HINT if momentum else SGD_HINT,
                              ONE_VELOCITY_EACH if momentum else EVERY_NAME)
        for layer, dw, db in zip(_dense(layers), grads[::2], grads[1::2]):
            if not (np.array_equal(layer.dweights, dw) and np.array_equal(layer.dbiases, db)):
                raise Problem("step changed the layers' gradients (dweights or dbiases): a "
                              "gradient was scaled in place, so the layer no longer holds the "
                              "gradient backward set", "η times the gradient can be a new array; "
                              "the gradient itself belongs to the layer.",
                              'param -= self.learning_rate * getattr(layer, "d" + name)   '
                              "# a new product, the gradient untouched")
        rows.append(_flat(p for _, _, p in _snapshot(layers)))
    return np.array(rows)


def _compare(out, expected, mistakes, what, first_step=None):
    """Name the first mistake whose trajectory matches ``out``; else say where it goes wrong."""
    if np.allclose(out, expected, **TOL):
        return
    for m in mistakes:
        if m.wrong.shape == out.shape and np.allclose(out, m.wrong, **TOL):
            raise Problem.of(m)
    if first_step is not None and not np.allclose(out[:1], first_step, **TOL):
        raise Problem(f"the first step is wrong ({what}): it differs from plain SGD's first "
                      "step, so the velocity did not start at ZERO", "A velocity that starts at "
                      "zero makes the first step of momentum exactly the step of plain SGD.",
                      ONE_VELOCITY_EACH)
    step = int(np.argmax(~np.all(np.isclose(out, expected, **TOL), axis=1)))
    raise Problem(f"the parameters after step {step + 1} are wrong ({what}): they match neither "
                  "the update nor any of the typical mistakes this check knows")


def _plain_case(SGD, shapes, lr, n_steps, seed, what, momentum=None):
    layers, params0, grads_per_step = _case(shapes, n_steps, seed)
    out = _run_student(_make(SGD, lr, momentum), layers, grads_per_step, what, False)
    plain = _plain_table(lr)
    expected = _simulate(params0, grads_per_step, lambda k, v, p, g: (v, p - lr * g))
    _compare(out, expected, _mistakes(params0, grads_per_step, plain), what)


@check("SGD", hint=SGD_HINT, fix=SGD_FIX)
def check_sgd(SGD):
    _plain_case(SGD, [(3, 4)], 0.1, 1, 0, "one Dense layer, one step, learning rate 0.1")
    _plain_case(SGD, [(3, 4), (4, 2)], 0.05, 1, 1,
                "Dense, ReLU, Dense, one step, learning rate 0.05")
    _plain_case(SGD, [(5, 3), (3, 3), (3, 2)], 0.3, 3, 2,
                "three Dense layers with ReLUs between them, three steps, learning rate 0.3")

    # real float32 layers, as in a network: the parameters must stay float32 arrays
    rng = rng_for_checks()
    layer = Dense(4, 3, rng=rng)
    layer.dweights = rng.standard_normal((4, 3)).astype(np.float32)
    layer.dbiases = rng.standard_normal(3).astype(np.float32)
    expected_w = layer.weights - np.float32(0.1) * layer.dweights
    _call_step(SGD(0.1), [layer], False)
    if np.asarray(layer.weights).dtype != np.float32:
        raise Problem(f"a float32 layer's weights became {np.asarray(layer.weights).dtype}: the "
                      "step made new arrays of another type, so the network silently changes "
                      "its number type", "An in-place update keeps the array, and so its dtype.",
                      IN_PLACE_STEP)
    expect_array(layer.weights, expected_w, "the weights of a float32 Dense(4 → 3) after a step")
    return "θ ← θ − η·dθ for the weights and biases of every layer, in place"


# --- SGD with momentum ----------------------------------------------------------------------------
def _momentum_case(SGD, shapes, lr, mu, n_steps, seed, what):
    layers, params0, grads_per_step = _case(shapes, n_steps, seed)
    out = _run_student(_make(SGD, lr, mu), layers, grads_per_step, what, True)
    expected = _simulate(params0, grads_per_step,
                         lambda k, v, p, g: (mu * v - lr * g, p + mu * v - lr * g))
    first_step = _simulate(params0, grads_per_step[:1], lambda k, v, p, g: (v, p - lr * g))
    _compare(out, expected, _mistakes(params0, grads_per_step, _momentum_table(lr, mu)), what,
             first_step)


@check("SGD with momentum", hint=MOMENTUM_HINT, fix=MOMENTUM_FIX)
def check_sgd_momentum(SGD):
    _momentum_case(SGD, [(3, 3), (3, 3)], 0.2, 0.9, 4, 4,
                   "two Dense(3 → 3) layers, learning rate 0.2, momentum 0.9, four steps")
    _momentum_case(SGD, [(4, 3), (3, 2)], 0.05, 0.5, 3, 5,
                   "Dense(4 → 3), ReLU, Dense(3 → 2), learning rate 0.05, momentum 0.5, "
                   "three steps")
    _plain_case(SGD, [(3, 4), (4, 2)], 0.1, 2, 3,
                "without a momentum it must be plain SGD; Dense, ReLU, Dense, two steps")
    _plain_case(SGD, [(3, 4), (4, 2)], 0.1, 2, 3,
                "with momentum 0 it must be plain SGD", momentum=0.0)

    # a constant gradient: the step size must grow towards η·g / (1 − μ)
    layer = Dense(2, 2, rng=rng_for_checks(), dtype=np.float64)
    layer.dweights, layer.dbiases = np.ones((2, 2)), np.ones(2)
    optimizer, before = _make(SGD, 0.1, 0.9), layer.weights.copy()
    for _ in range(60):
        _call_step(optimizer, [layer], True)
    moved = float(np.mean(before - layer.weights)) / 60
    if not 0.5 < moved < 0.9:
        raise Problem(f"with a constant gradient 1, learning rate 0.1 and momentum 0.9 the "
                      f"average step over 60 steps should be about 0.85 (speeding up towards "
                      f"0.1 / (1 − 0.9) = 1), but it was {moved:.3g}")
    return "v ← μ·v − η·g, θ ← θ + v, one velocity per parameter, starting at zero"
