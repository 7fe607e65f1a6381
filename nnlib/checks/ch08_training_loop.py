"""Checks for chapter 08 (the training loop): minibatches, train_step, train_epoch and fit.

The student's loop runs on a small float64 network whose first layer records every batch it sees.
From those records a check learns which examples were used in which order, replays the same
batches with nnlib's reference (forward, SoftmaxCrossEntropy, backward, SGD) and compares
parameters, losses and accuracies: any valid shuffle is accepted, and each typical mistake is
named. ``fit`` also runs with verbose off and on while everything it prints or displays is
captured: the first must show nothing, the second something (a progress bar).

Each section starts with its exercise's fix and a table of Mistake rows. The rows here are
recognised by what the check records, not by a value, so their ``wrong`` is None and their
``says`` may hold {fields} that ``_fail`` fills in; the averages of an epoch are the one table
matched by value.
"""

import contextlib
import inspect
import io
import warnings

import numpy as np

from ..activations import ReLU
from ..layers import Dense
from ..losses import SoftmaxCrossEntropy, accuracy
from ..optimizers import SGD
from ._core import IN_PLACE, Mistake, Problem, check, expect_scalar

RTOL, ATOL = 1e-7, 1e-9


def _fail(row, **fields):
    """Raise the Mistake ``row`` with its tier-1 line filled in from ``fields``."""
    raise Problem(row.says.format(**fields), row.hint, row.fix)


def _a(value):
    """The type of ``value`` with its article: "a list", "an ndarray"."""
    kind = type(value).__name__
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def _close(a, b):
    return np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=RTOL, atol=ATOL)


RETURN_HINT = "The caller gets exactly what the function's last line hands back."
NO_NUMBER = Mistake(None, "{what} is None: the function ends without returning it", RETURN_HINT)
NOT_ONE_NUMBER = Mistake(None, "{what} should be one number, got an array of shape {shape}",
                         "A loss or an accuracy is one number: the average over the examples.")
NOT_A_NUMBER = Mistake(None, "{what} should be a number, got {kind}", RETURN_HINT)


def _number(value, what, fix):
    """``value`` as a float, or the Problem that says what was returned instead."""
    if value is None:
        _fail(NO_NUMBER._replace(fix=fix), what=what)
    if np.ndim(value) != 0 and np.size(value) != 1:
        _fail(NOT_ONE_NUMBER._replace(fix=fix), what=what, shape=np.shape(value))
    if np.asarray(value).dtype.kind not in "biuf":   # a text "0.5" is not a number either
        _fail(NOT_A_NUMBER._replace(fix=fix), what=what, kind=type(value).__name__)
    return float(np.asarray(value).reshape(()))


# rows shared by the exercises
RNG_HINT = ("The caller chooses the order through the generator it passes in: draw from that "
            "generator, and pass it on.")
RNG_FIX = ("order = rng.permutation(len(x))                # in minibatches: the rng argument\n"
           "minibatches(x, y, batch_size, rng=rng)         # in train_epoch: pass it on")
NOT_REPRODUCIBLE = Mistake(None, "two runs with generators made from the same seed gave a "
                           "different order of examples: the order does not come from the "
                           "generator passed in, so a run cannot be repeated", RNG_HINT, RNG_FIX)
OWN_RNG = Mistake(None, "different rngs gave the same order of examples: the order comes from a "
                  "generator of your own, not from the one passed in", RNG_HINT, RNG_FIX)
NOT_PAIR = Mistake(None, "it must return two numbers, the loss and the accuracy of the {whose}; "
                   "it returned {kind}", RETURN_HINT, "return loss, acc   # two numbers")
SWAPPED = Mistake(None, "you returned (accuracy, loss): the loss comes first", "Every function "
                  "of this chapter returns the loss first, then the accuracy.",
                  "return loss, acc   # the loss first")


# --- minibatches ----------------------------------------------------------------------------------
MINIBATCHES_FIX = """\
def minibatches(x, y, batch_size, rng):
    order = rng.permutation(len(x))
    for start in range(0, len(x), batch_size):
        idx = order[start:start + batch_size]
        yield x[idx], y[idx]"""
MINIBATCHES_HINT = ("Shuffle the indices, not the data: one random permutation of 0 … N−1 drawn "
                    "from the generator you are given, cut into consecutive slices of "
                    "batch_size; the same slice selects the rows of x and of y.")
GENERATOR_HINT = ("A function with yield in its body is a generator: each time the for loop "
                  "asks for the next batch, it runs on to the next yield and hands out that one.")
PERMUTATION_HINT = ("A permutation holds every index exactly once, in random order; the "
                    "generator has a method that draws one.")
SLICE_FIX = ("for start in range(0, len(x), batch_size):   # the last start lies below len(x)\n"
             "    idx = order[start:start + batch_size]    # the last slice may be shorter\n"
             "    yield x[idx], y[idx]")

MB_NONE = Mistake(None, "it returned None: it neither hands out batches one at a time nor "
                  "returns anything", GENERATOR_HINT, MINIBATCHES_FIX)
MB_NOT_GENERATOR = Mistake(None, "it returned {kind}, not a generator: every batch was made "
                           "before the loop asked for the first one, so a second copy of the "
                           "whole data set sits in memory", GENERATOR_HINT, MINIBATCHES_FIX)
MB_NOT_PAIR = Mistake(None, "each batch must come out as a pair, the inputs and their labels; "
                      "got {kind}", "One batch is two arrays handed out together, as a tuple.",
                      "yield x[idx], y[idx]   # a pair: inputs and labels of one batch")
MB_IN_PLACE = Mistake(None, "it shuffled the caller's x or y in place, so the data set outside "
                      "the function is reordered too", "Shuffle a list of indices instead of the "
                      "data: selecting rows with it makes new arrays and leaves x and y alone.",
                      "order = rng.permutation(len(x))   # shuffled indices; x and y untouched")
MB_NOTHING = Mistake(None, "it yielded no batch ({where}): all {n} examples must come out, in "
                     "batches", GENERATOR_HINT, MINIBATCHES_FIX)
MB_X_SHAPE = Mistake(None, "an x_batch has shape {shape} ({where}); a batch is some whole rows of "
                     "x, shape (batch, {features})", "Selecting rows of x with an array of "
                     "example numbers keeps the feature axis.", SLICE_FIX)
MB_LENGTHS = Mistake(None, "an x_batch has {nx} rows but its y_batch {ny} ({where}): the labels "
                     "must be those of the same examples", "Use the SAME indices for x and y.",
                     SLICE_FIX)
MB_Y_SHAPE = Mistake(None, "a y_batch has shape {shape} ({where}); a batch of labels is some "
                     "whole rows of y, shape {expected}", "Select rows of y exactly as of x.",
                     SLICE_FIX)
MB_EMPTY = Mistake(None, "it yielded an empty batch ({where}, sizes {sizes}): a batch started at "
                   "or after the end of the data", "N examples make ⌈N / batch_size⌉ batches; "
                   "the last one starts below N.", SLICE_FIX)
MB_NEIGHBOURS = Mistake(None, "each batch holds the same neighbouring examples as without "
                        "shuffling, only the order of the batches changed: examples stored "
                        "together are still trained together", "Shuffle the examples, not the "
                        "batches: one permutation of all N indices, then cut it into slices.",
                        MINIBATCHES_FIX)
MB_LAST_MISSING = Mistake(None, "the last, smaller batch ({rest} examples) is missing ({where}): "
                          "those examples are never trained on", "N is rarely a multiple of "
                          "batch_size; the remainder makes one last, smaller batch.", SLICE_FIX)
MB_ONE_BATCH = Mistake(None, "it yielded one batch with all {n} examples ({where}): the data was "
                       "never cut into batches of {batch_size}", "A mini-batch is a slice of "
                       "batch_size examples of the shuffled order.", SLICE_FIX)
MB_SIZES = Mistake(None, "the batch sizes are {sizes} ({where}), expected {expected}: full "
                   "batches, and the remainder in one last, smaller batch", "Consecutive "
                   "slices of batch_size, starting at 0, batch_size, 2·batch_size, …", SLICE_FIX)
MB_NOT_ROWS = Mistake(None, "the rows of an x_batch are not rows of x ({where})", "A batch is a "
                      "selection of whole rows: index the first axis with example numbers.",
                      SLICE_FIX)
MB_REPEATS = Mistake(None, "some examples appear more than once and others never ({where}): the "
                     "order was drawn with replacement, not as a permutation", PERMUTATION_HINT,
                     "order = rng.permutation(len(x))   # not rng.integers or rng.choice")
MB_PAIRS_BROKEN = Mistake(None, "x and y were shuffled differently ({where}): the labels no "
                          "longer belong to their images", "Draw ONE order and use it for both "
                          "arrays.", "yield x[idx], y[idx]   # the same idx for both")
MB_UNSHUFFLED = Mistake(None, "the batches come in the original order: the data was never "
                        "shuffled", "Data stored class by class trains a network that knows "
                        "only the last class it saw (section 2).", MINIBATCHES_FIX)
MB_FROZEN_RNG = Mistake(None, "two epochs with the same generator gave the same order: the "
                        "generator was copied or re-seeded, so its state never moved on",
                        "A generator's state advances every time it is used: that is what gives "
                        "each epoch a new order.", "order = rng.permutation(len(x))   # the rng "
                        "argument itself")


def _toy_data(n, features=3, one_hot=False):
    """x whose row i is (i, i + 0.5, −i) and y = i (or one-hot of i % 10): rows name themselves."""
    ids = np.arange(n, dtype=np.float64)
    x = np.stack([ids, ids + 0.5, -ids] + [ids * 0] * (features - 3), axis=1)
    y = np.eye(10)[np.arange(n) % 10] if one_hot else np.arange(n)
    return x, y


def _collect(minibatches, x, y, batch_size, rng):
    """The batches as a list of (x_batch, y_batch), checking that x and y stay unchanged."""
    x_given, y_given = x.copy(), y.copy()
    out = minibatches(x_given, y_given, batch_size, rng=rng)
    if out is None:
        _fail(MB_NONE)
    if not inspect.isgenerator(out):
        _fail(MB_NOT_GENERATOR, kind=_a(out))
    batches = []
    for item in out:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            shape = f" of shape {item.shape}" if hasattr(item, "shape") else ""
            count = f" of {len(item)} items" if isinstance(item, (tuple, list)) else ""
            _fail(MB_NOT_PAIR, kind=f"{_a(item)}{shape}{count}")
        batches.append((np.asarray(item[0]), np.asarray(item[1])))
    if not (np.array_equal(x_given, x) and np.array_equal(y_given, y)):
        _fail(MB_IN_PLACE)
    return batches


def _expected_sizes(n, batch_size):
    return [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])


def _is_block(ids, batch_size):
    """True if ``ids`` are exactly the examples of one unshuffled batch."""
    ids = np.sort(np.asarray(ids).astype(np.int64))
    return len(ids) > 0 and ids[0] % batch_size == 0 and np.array_equal(
        ids, np.arange(ids[0], ids[0] + len(ids)))


def _check_batches(batches, x, y, batch_size, where):
    """The ids of the examples in the order they were yielded, after checking sizes and pairing."""
    n = len(x)
    if not batches:
        _fail(MB_NOTHING, where=where, n=n)
    for xb, yb in batches:
        if xb.ndim != 2 or xb.shape[1] != x.shape[1] or xb.dtype.kind not in "biuf":
            _fail(MB_X_SHAPE, shape=xb.shape, where=where, features=x.shape[1])
        if yb.ndim == 0 or yb.shape[1:] != y.shape[1:] or yb.dtype.kind not in "biuf":
            _fail(MB_Y_SHAPE, shape=yb.shape, where=where,
                  expected=f"(batch, {y.shape[1]})" if y.ndim == 2 else "(batch,)")
        if len(yb) != len(xb):
            _fail(MB_LENGTHS, nx=len(xb), ny=len(yb), where=where)
    sizes, expected = [len(xb) for xb, _ in batches], _expected_sizes(n, batch_size)
    if 0 in sizes:
        _fail(MB_EMPTY, where=where, sizes=sizes)
    if sizes != expected:
        if sorted(sizes) == sorted(expected) and all(
                _is_block(xb[:, 0], batch_size) for xb, _ in batches):
            _fail(MB_NEIGHBOURS)
        if sizes == expected[:-1] and n % batch_size:
            _fail(MB_LAST_MISSING, rest=n % batch_size, where=where)
        if sizes == [n] and len(expected) > 1:
            _fail(MB_ONE_BATCH, n=n, where=where, batch_size=batch_size)
        _fail(MB_SIZES, sizes=sizes, where=where, expected=expected)
    ids = np.concatenate([xb[:, 0] for xb, _ in batches]).astype(np.int64)
    rows = np.concatenate([xb for xb, _ in batches])
    if np.any(ids < 0) or np.any(ids >= n) or not np.array_equal(rows, x[np.clip(ids, 0, n - 1)]):
        _fail(MB_NOT_ROWS, where=where)
    if len(np.unique(ids)) != n:
        _fail(MB_REPEATS, where=where)
    y_ids = np.concatenate([yb.argmax(axis=1) if y.ndim == 2 else yb for _, yb in batches])
    if not np.array_equal(y_ids, (ids % 10) if y.ndim == 2 else ids):
        _fail(MB_PAIRS_BROKEN, where=where)
    return ids


def _batch_ids(minibatches, n, batch_size, rng, where="103 examples, batch_size 16",
               one_hot=False):
    x, y = _toy_data(n, one_hot=one_hot)
    return _check_batches(_collect(minibatches, x, y, batch_size, rng), x, y, batch_size, where)


@check("minibatches", hint=MINIBATCHES_HINT, fix=MINIBATCHES_FIX)
def check_minibatches(minibatches):
    ids = _batch_ids(minibatches, 103, 16, np.random.default_rng(0))
    if np.array_equal(ids, np.arange(103)):
        _fail(MB_UNSHUFFLED)
    starts = np.cumsum([0] + _expected_sizes(103, 16))
    if all(_is_block(ids[a:b], 16) for a, b in zip(starts[:-1], starts[1:])):
        _fail(MB_NEIGHBOURS)
    if not np.array_equal(ids, _batch_ids(minibatches, 103, 16, np.random.default_rng(0))):
        _fail(NOT_REPRODUCIBLE)
    if np.array_equal(ids, _batch_ids(minibatches, 103, 16, np.random.default_rng(1))):
        _fail(OWN_RNG)
    rng = np.random.default_rng(2)
    if np.array_equal(_batch_ids(minibatches, 103, 16, rng), _batch_ids(minibatches, 103, 16,
                                                                          rng)):
        _fail(MB_FROZEN_RNG)
    for n, batch_size, one_hot, where in [
            (96, 16, False, "96 examples, batch_size 16 (no remainder)"),
            (5, 1, False, "5 examples, batch_size 1"),
            (10, 64, False, "10 examples, batch_size 64 (larger than the data)"),
            (20, 8, True, "20 examples with one-hot labels (20, 10), batch_size 8")]:
        _batch_ids(minibatches, n, batch_size, np.random.default_rng(3), where, one_hot)
    return "every example once per epoch, x and y shuffled together, reproducible from the rng"


# --- shared machinery for train_step, train_epoch and fit -----------------------------------------
class _RecordingDense(Dense):
    """A Dense layer that keeps a copy of every input it gets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.records = []

    def forward(self, x):
        self.records.append(np.array(x, copy=True))
        return super().forward(x)


class _CountingSGD(SGD):
    """nnlib's SGD that also records, at each step, the gradients it was given."""

    def __init__(self, learning_rate):
        super().__init__(learning_rate)
        self.calls = []

    def step(self, layers):
        layers = list(layers)
        self.calls.append([(id(layer), name, np.array(getattr(layer, "d" + name), copy=True))
                           for layer in layers for name in getattr(layer, "param_names", ())])
        super().step(layers)


def _network(sizes, seed, recording=True):
    rng = np.random.default_rng(seed)
    first = (_RecordingDense if recording else Dense)(sizes[0], sizes[1], rng=rng,
                                                      dtype=np.float64)
    layers = [first]
    for n_in, n_out in zip(sizes[1:-1], sizes[2:]):
        layers += [ReLU(), Dense(n_in, n_out, rng=rng, dtype=np.float64)]
    for layer in layers[::2]:
        layer.biases = rng.standard_normal(layer.n_outputs) * 0.1
    return layers


def _params(layers):
    return [np.array(getattr(layer, name), copy=True)
            for layer in layers for name in getattr(layer, "param_names", ())]


def _set_params(layers, params):
    dense = [(layer, name) for layer in layers for name in getattr(layer, "param_names", ())]
    for (layer, name), value in zip(dense, params):
        setattr(layer, name, value.copy())


def _logits(layers, x):
    for layer in layers:
        x = layer.forward(x)
    return x


def _reference_step(layers, x, y, optimizer):
    """nnlib's training step on a list of layers producing logits: (loss, accuracy)."""
    loss_fn = SoftmaxCrossEntropy()
    z = _logits(layers, x)
    loss, acc = loss_fn.forward(z, y), accuracy(z, y)
    grad = loss_fn.backward(z, y)
    for layer in reversed(layers):
        grad = layer.backward(grad)
    optimizer.step(layers)
    return loss, acc


def _same_params(a, b):
    return len(a) == len(b) and all(_close(p, q) for p, q in zip(a, b))


def _data(n, features, classes, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features))
    y = np.arange(n) % classes
    rng.shuffle(y)
    return x, y


def _pair(out, whose, fix):
    """``out`` as (loss, accuracy) floats of the batch or epoch (``whose``)."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        count = f" of {len(out)} items" if isinstance(out, (tuple, list)) else ""
        _fail(NOT_PAIR, whose=whose,
              kind="nothing (None)" if out is None else f"{_a(out)}{count}")
    return (_number(out[0], "the returned loss", fix),
            _number(out[1], "the returned accuracy", fix))


# --- train_step -----------------------------------------------------------------------------------
TRAIN_STEP_FIX = """\
def train_step(layers, x, y, optimizer):
    logits = forward(layers, x)
    loss = loss_fn.forward(logits, y)
    acc = accuracy(logits, y)
    grad = loss_fn.backward(logits, y)
    for layer in reversed(layers):
        grad = layer.backward(grad)
    optimizer.step(layers)
    return loss, acc"""
TRAIN_STEP_HINT = ("Forward to the logits; the loss and accuracy from them; the loss's gradient "
                   "back through the layers from last to first, each layer handing its result "
                   "to the one before; then one update by the optimizer.")
BACKWARD_HINT = ("The chain rule runs from the loss back to the input: the last layer gets the "
                 "loss's gradient, and every layer passes on what its backward returns.")
BACKWARD_FIX = ("grad = loss_fn.backward(logits, y)\nfor layer in reversed(layers):\n"
                "    grad = layer.backward(grad)\noptimizer.step(layers)   # after the loop, once")
ORDER_HINT = "Forward, loss, backward, update: each stage needs what the one before produced."
MEASURE_HINT = ("The loss and accuracy of a step describe the network that made the gradients: "
                "the logits of this step's forward pass.")

STEP_REVERSE = Mistake(None, "it raised {kind} on mismatched shapes ({where}): the usual cause is "
                       "a backward pass not in REVERSE order, or a layer not given the gradient "
                       "that the layer after it returned", BACKWARD_HINT, BACKWARD_FIX)
STEP_NEVER = Mistake(None, "the optimizer never stepped: the gradients were computed, but no "
                     "parameter moved", "Backward only computes gradients; which object changes "
                     "the parameters?", "optimizer.step(layers)   # once, after the backward loop")
STEP_MANY = Mistake(None, "the optimizer stepped {count} times for one batch (inside the "
                    "backward loop?): layers moved before backward had reached the layers below "
                    "them, and some moved several times", "Backward runs through ALL the layers "
                    "first; then the update happens, once.", BACKWARD_FIX)
STEP_SOME_LAYERS = Mistake(None, "the optimizer's step was not given every layer, so the layers "
                           "it was not given never learn", "The optimizer updates exactly the "
                           "layers it is handed.", "optimizer.step(layers)   # the whole list")
STEP_BEFORE_BACKWARD = Mistake(None, "the optimizer stepped BEFORE backward, with the gradients "
                               "left over from the previous batch", ORDER_HINT, TRAIN_STEP_FIX)
STEP_ZERO_GRADS = Mistake(None, "the gradients were zero when the optimizer stepped: backward had "
                          "not run through the layers", ORDER_HINT, BACKWARD_FIX)
STEP_FIRST_LAYER = Mistake(None, "the first Dense layer's {name} is wrong at the time of the step "
                           "while the last layer's is right: backward must pass through EVERY "
                           "layer, the ReLU included, in reverse order", BACKWARD_HINT,
                           BACKWARD_FIX)
STEP_GRADS = Mistake(None, "the gradients at the time of the step are wrong ({where}): they must "
                     "come from the loss's gradient for this batch's logits, passed back through "
                     "the layers from last to first", BACKWARD_HINT, BACKWARD_FIX)
STEP_OWN_UPDATE = Mistake(None, "the parameters after the step are wrong ({where}), although the "
                          "gradients were right: they changed by something other than the "
                          "optimizer's one update", "Leave the update to the optimizer: it knows "
                          "the learning rate and the momentum.", "optimizer.step(layers)   # the "
                          "only place where the parameters change")
STEP_UNCHANGED = Mistake(None, "the parameters did not change: the update was undone, or made "
                         "on copies of the layers", "The optimizer must update the layers of "
                         "the network itself.", "optimizer.step(layers)")
STEP_LOSS_AFTER = Mistake(None, "the returned loss was measured AFTER the update, with a second "
                          "forward pass: it must be the loss of the forward pass that made the "
                          "gradients", MEASURE_HINT, TRAIN_STEP_FIX)
STEP_LOSS_SUM = Mistake(None, "the returned loss is the SUM over the batch, {n} times the mean: "
                        "the loss of a batch is the mean over its examples", "The loss object "
                        "already returns the mean cross-entropy of the batch.",
                        "loss = loss_fn.forward(logits, y)   # already the mean")
STEP_LOSS = Mistake(None, "the returned loss is {got:.6g}, expected {want:.6g} ({where}): the "
                    "mean cross-entropy of the batch, before the update", MEASURE_HINT,
                    "loss = loss_fn.forward(logits, y)")
STEP_ACC_AFTER = Mistake(None, "the returned accuracy was measured AFTER the update: it must "
                         "come from the logits of the forward pass that made the gradients",
                         MEASURE_HINT, "acc = accuracy(logits, y)   # the same logits")
STEP_ACC = Mistake(None, "the returned accuracy is {got:.6g}, expected {want:.6g} ({where}): the "
                   "fraction of the batch classified right, between 0 and 1, before the update",
                   MEASURE_HINT, "acc = accuracy(logits, y)")


def _run(fn, where, *args, **kwargs):
    """Call the student's loop; a shape error there is the usual sign of a wrong backward order."""
    try:
        return fn(*args, **kwargs)
    except (ValueError, TypeError) as err:
        if any(word in str(err) for word in ("shape", "broadcast", "matmul", "aligned")):
            _fail(STEP_REVERSE, kind=type(err).__name__, where=where)
        raise


def _check_one_step(train_step, n, seed):
    x, y = _data(n, 4, 3, seed)
    where = f"a batch of {n}"
    layers = _network([4, 6, 3], seed, recording=False)
    params0 = _params(layers)
    rng = np.random.default_rng(seed + 100)
    stale = []
    for layer in layers[::2]:    # gradients left over from an earlier batch
        layer.dweights = rng.standard_normal(layer.weights.shape)
        layer.dbiases = rng.standard_normal(layer.biases.shape)
        stale += [layer.dweights.copy(), layer.dbiases.copy()]

    reference = _network([4, 6, 3], seed, recording=False)
    ref_loss, ref_acc = _reference_step(reference, x, y, SGD(0.1))
    grads = [g for layer in reference[::2] for g in (layer.dweights, layer.dbiases)]
    after = _params(reference)

    optimizer = _CountingSGD(0.1)
    x_given, y_given = x.copy(), y.copy()
    out = _run(train_step, where, layers, x_given, y_given, optimizer)
    if not (np.array_equal(x_given, x) and np.array_equal(y_given, y)):
        raise Problem.of(IN_PLACE)
    if not optimizer.calls:
        _fail(STEP_NEVER)
    if len(optimizer.calls) > 1:
        _fail(STEP_MANY, count=len(optimizer.calls))
    given = {(i, name): g for i, name, g in optimizer.calls[0]}
    expected_keys = [(id(layer), name) for layer in layers[::2] for name in layer.param_names]
    if set(given) != set(expected_keys):
        _fail(STEP_SOME_LAYERS)
    at_step = [given[key] for key in expected_keys]
    if _same_params(at_step, stale):
        _fail(STEP_BEFORE_BACKWARD)
    if _same_params(at_step, [p * 0 for p in stale]):
        _fail(STEP_ZERO_GRADS)
    for k, (got, want) in enumerate(zip(at_step, grads)):
        if not _close(got, want):
            if k < 2 and all(_close(g, w) for g, w in zip(at_step[2:], grads[2:])):
                _fail(STEP_FIRST_LAYER, name=("dweights", "dbiases")[k])
            _fail(STEP_GRADS, where=where)
    if not _same_params(_params(layers), after):
        _fail(STEP_OWN_UPDATE, where=where)
    if _same_params(_params(layers), params0):
        _fail(STEP_UNCHANGED)

    loss, acc = _pair(out, "batch", TRAIN_STEP_FIX)
    later = _logits(reference, x)
    later_loss, later_acc = SoftmaxCrossEntropy().forward(later, y), accuracy(later, y)
    if np.isclose(loss, ref_acc) and np.isclose(acc, ref_loss) and not np.isclose(loss, ref_loss):
        _fail(SWAPPED)
    if not np.isclose(loss, ref_loss, rtol=RTOL, atol=ATOL):
        if np.isclose(loss, later_loss, rtol=RTOL, atol=ATOL):
            _fail(STEP_LOSS_AFTER)
        if n > 1 and np.isclose(loss, ref_loss * n, rtol=RTOL, atol=ATOL):
            _fail(STEP_LOSS_SUM, n=n)
        _fail(STEP_LOSS, got=loss, want=ref_loss, where=where)
    if not np.isclose(acc, ref_acc, rtol=RTOL, atol=ATOL):
        if np.isclose(acc, later_acc, rtol=RTOL, atol=ATOL):
            _fail(STEP_ACC_AFTER)
        _fail(STEP_ACC, got=acc, want=ref_acc, where=where)


@check("train_step", hint=TRAIN_STEP_HINT, fix=TRAIN_STEP_FIX)
def check_train_step(train_step):
    _check_one_step(train_step, 7, 0)
    _check_one_step(train_step, 12, 1)
    _check_one_step(train_step, 1, 2)
    return "forward, loss, backward in reverse, one optimizer step; loss and accuracy before it"


# --- train_epoch ----------------------------------------------------------------------------------
TRAIN_EPOCH_FIX = """\
def train_epoch(layers, x, y, optimizer, batch_size, rng):
    total_loss = total_correct = 0.0
    for xb, yb in minibatches(x, y, batch_size, rng=rng):
        loss, acc = train_step(layers, xb, yb, optimizer)
        total_loss += loss * len(xb)
        total_correct += acc * len(xb)
    return total_loss / len(x), total_correct / len(x)"""
TRAIN_EPOCH_HINT = ("One train_step on every batch that minibatches yields. The epoch's loss is "
                    "(1/N) Σ B_b·L_b over the batches b, with B_b the number of examples in "
                    "batch b; the accuracy likewise.")
AVERAGE_HINT = ("Every example should count once: weight each batch's value by the number of "
                "examples in that batch, add up, and divide by the number of examples N.")
AVERAGE_FIX = ("total_loss += loss * len(xb)       # in the loop: this batch's own size\n"
               "total_correct += acc * len(xb)\n"
               "return total_loss / len(x), total_correct / len(x)   # after the loop")
LOOP_FIX = ("for xb, yb in minibatches(x, y, batch_size, rng=rng):\n"
            "    loss, acc = train_step(layers, xb, yb, optimizer)")
SHUFFLE_HINT = ("The order of an epoch comes from minibatches, drawn from the generator the "
                "epoch is given.")
CHECK_MINIBATCHES = ("This comes from the batches: run the check of minibatches, and use "
                     "minibatches here.")

EPOCH_NO_EXAMPLE = Mistake(None, "the network never saw a training example ({where}): no batch "
                           "went through it", TRAIN_EPOCH_HINT, LOOP_FIX)
EPOCH_ONE_BATCH = Mistake(None, "the whole training set went through the network in ONE batch "
                          "({where}): that is one update per epoch instead of one per "
                          "mini-batch", "An epoch is many small steps, one per mini-batch.",
                          LOOP_FIX)
EPOCH_EXTRA_PASS = Mistake(None, "after the epoch you ran the whole training set through the "
                           "network once more: the epoch's loss and accuracy are the "
                           "size-weighted averages of the batch values you already have",
                           AVERAGE_HINT, AVERAGE_FIX)
EPOCH_LAST_MISSING = Mistake(None, "the last, smaller batch ({rest} examples) was never trained "
                             "on ({where})", CHECK_MINIBATCHES, LOOP_FIX)
EPOCH_SIZES = Mistake(None, "the batch sizes were {sizes} ({where}), expected {expected}: one "
                      "training step per batch of minibatches", CHECK_MINIBATCHES, LOOP_FIX)
EPOCH_REPEATS = Mistake(None, "some examples were used twice and others never ({where})",
                        CHECK_MINIBATCHES, LOOP_FIX)
EPOCH_UNSHUFFLED = Mistake(None, "the examples were used in their original order ({where}): the "
                           "epoch was not shuffled", SHUFFLE_HINT, LOOP_FIX)
EPOCH_NO_STEP = Mistake(None, "the optimizer never stepped during the epoch, so no parameter "
                        "moved", "Each batch needs a whole training step, update included: run "
                        "the check of train_step.", LOOP_FIX)
EPOCH_STEPS = Mistake(None, "the epoch had {batches} batches but {steps} optimizer steps: exactly "
                      "one update per batch", "Each batch gets one train_step, and each "
                      "train_step one update.", LOOP_FIX)
EPOCH_PARAMS = Mistake(None, "after the epoch the parameters differ from one train_step per "
                       "batch in the order the batches were seen", "Run the check of "
                       "train_step, and call train_step once on each batch.", LOOP_FIX)


def _averaging_mistakes(per_batch, batch_size, which):
    """The wrong epoch averages of the loss (which = 0) or accuracy (1), each with its tiers."""
    name = ("loss", "accuracy")[which]
    values = np.array([b[which] for b in per_batch])
    counts = np.array([b[2] for b in per_batch])
    n, last = counts.sum(), counts[-1]
    return [
        Mistake(values.mean(), f"the epoch's {name} is the plain mean of the batch values, but "
                f"the last batch holds only {last} examples and must count less than a full one",
                AVERAGE_HINT, AVERAGE_FIX),
        Mistake(values.sum() * batch_size / n, f"the epoch's {name} weights every batch by the "
                f"full batch size, {batch_size}, but the last batch holds only {last} examples: "
                f"they count {batch_size / last:g} times as much as the others, and the weights "
                f"add up to {len(values) * batch_size}, not {n}", "Which batch is not batch_size "
                "long? Weight each batch by the number of examples it actually holds.",
                "total_loss += loss * len(xb)      # this batch's size, not batch_size\n"
                "total_correct += acc * len(xb)"),
        Mistake(values[-1], f"you returned the {name} of the last batch only: the epoch's value "
                "averages all its batches", AVERAGE_HINT, AVERAGE_FIX),
        Mistake(values.sum(), f"you returned the SUM of the batch {name} values, not their "
                "average", AVERAGE_HINT, AVERAGE_FIX),
        Mistake((values * counts).sum(), f"you forgot to divide by the number of examples: the "
                f"{name} is the size-weighted SUM, {n} times the average", AVERAGE_HINT,
                AVERAGE_FIX),
        Mistake((values * counts).sum() / len(values), f"you divided the size-weighted sum of "
                f"the {name} by the number of batches, {len(values)}, instead of the number of "
                f"examples, {n}", AVERAGE_HINT, AVERAGE_FIX),
    ]


def _index_of_rows(x):
    return {row.tobytes(): i for i, row in enumerate(np.ascontiguousarray(x))}


def _train_batches(records, index):
    """Indices of the training examples in each recorded forward pass of training rows, as
    [(ids, None)]; passes over other data (the validation set) are left out."""
    batches = []
    for x in records:
        keys = [row.tobytes() for row in np.ascontiguousarray(x)]
        if all(k in index for k in keys):
            batches.append((np.array([index[k] for k in keys], dtype=np.int64), None))
    return batches


def _epoch_batches(batches, n, batch_size, where):
    """Check the training batches of one epoch; the ids in order."""
    sizes = [len(ids) for ids, _ in batches]
    expected = _expected_sizes(n, batch_size)
    if not batches:
        _fail(EPOCH_NO_EXAMPLE, where=where)
    if sizes == [n] and len(expected) > 1:
        _fail(EPOCH_ONE_BATCH, where=where)
    if sizes[-1] == n and sizes[:-1] == expected:
        _fail(EPOCH_EXTRA_PASS)
    if sizes != expected:
        if sizes == expected[:-1] and n % batch_size:
            _fail(EPOCH_LAST_MISSING, rest=n % batch_size, where=where)
        _fail(EPOCH_SIZES, sizes=sizes, where=where, expected=expected)
    ids = np.concatenate([ids for ids, _ in batches])
    if len(np.unique(ids)) != n:
        _fail(EPOCH_REPEATS, where=where)
    if np.array_equal(ids, np.arange(n)):
        _fail(EPOCH_UNSHUFFLED, where=where)
    return ids


def _replay(layers0_params, sizes, x, y, batch_ids, learning_rate):
    """Replay training on these batches with nnlib: per-batch (loss, acc, size) and the layers."""
    layers = _network(sizes, 0, recording=False)
    _set_params(layers, layers0_params)
    optimizer = SGD(learning_rate)
    per_batch = [(*_reference_step(layers, x[ids], y[ids], optimizer), len(ids))
                 for ids in batch_ids]
    return per_batch, layers


def _run_epoch(train_epoch, sizes, x, y, batch_size, seed, where):
    layers = _network(sizes, 0)
    params0 = _params(layers)
    optimizer = _CountingSGD(0.1)
    x_given, y_given = x.copy(), y.copy()
    out = _run(train_epoch, where, layers, x_given, y_given, optimizer, batch_size,
               np.random.default_rng(seed))
    if not (np.array_equal(x_given, x) and np.array_equal(y_given, y)):
        raise Problem.of(IN_PLACE)
    batches = _train_batches(layers[0].records, _index_of_rows(x))
    ids = _epoch_batches(batches, len(x), batch_size, where)
    return out, layers, params0, optimizer, batches, ids


@check("train_epoch", hint=TRAIN_EPOCH_HINT, fix=TRAIN_EPOCH_FIX)
def check_train_epoch(train_epoch):
    sizes, batch_size = [5, 8, 3], 16
    x, y = _data(50, 5, 3, 0)
    where = "50 examples, batch_size 16: batches of 16, 16, 16 and 2"
    out, layers, params0, optimizer, batches, ids = _run_epoch(train_epoch, sizes, x, y,
                                                               batch_size, 0, where)
    if not optimizer.calls:
        _fail(EPOCH_NO_STEP)
    if len(optimizer.calls) != len(batches):
        _fail(EPOCH_STEPS, batches=len(batches), steps=len(optimizer.calls))
    per_batch, reference = _replay(params0, sizes, x, y, [b for b, _ in batches], 0.1)
    if not _same_params(_params(layers), _params(reference)):
        _fail(EPOCH_PARAMS)
    loss, acc = _pair(out, "epoch", TRAIN_EPOCH_FIX)
    expected = [sum(b[k] * b[2] for b in per_batch) / len(x) for k in (0, 1)]
    if np.isclose(loss, expected[1]) and np.isclose(acc, expected[0]):
        _fail(SWAPPED)
    for k, got in enumerate((loss, acc)):
        expect_scalar(got, expected[k], f"the epoch's {('loss', 'accuracy')[k]} ({where})",
                      mistakes=_averaging_mistakes(per_batch, batch_size, k), rtol=1e-6,
                      atol=1e-9)

    if not np.array_equal(ids, _run_epoch(train_epoch, sizes, x, y, batch_size, 0, where)[5]):
        _fail(NOT_REPRODUCIBLE)
    if np.array_equal(ids, _run_epoch(train_epoch, sizes, x, y, batch_size, 1, where)[5]):
        _fail(OWN_RNG)
    x, y = _data(32, 5, 3, 1)
    _run_epoch(train_epoch, sizes, x, y, 8, 2, "32 examples, batch_size 8")
    return "one step per shuffled batch, epoch loss and accuracy weighted by batch size"


# --- fit ------------------------------------------------------------------------------------------
KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
FIT_FIX = """\
def fit(layers, x, y, optimizer, *, epochs, batch_size, validation_data, rng, verbose=True):
    history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
    bar = tqdm(range(1, epochs + 1), desc="training", unit="epoch", disable=not verbose)
    for epoch in bar:
        loss, acc = train_epoch(layers, x, y, optimizer, batch_size, rng=rng)
        val_loss, val_acc = evaluate(layers, *validation_data)
        history["loss"].append(loss)
        history["accuracy"].append(acc)
        history["val_loss"].append(val_loss)
        history["val_accuracy"].append(val_acc)
        bar.set_postfix(loss=f"{loss:.4f}", val_accuracy=f"{val_acc:.4f}")
    return history"""
FIT_HINT = ("One generator for all the epochs; per epoch one train_epoch, then one evaluation "
            "on the validation data, and four numbers appended to the history; a progress bar "
            "over the epochs that verbose switches off.")
HISTORY_HINT = ("The history holds four lists, one value per epoch each: the epoch's training "
                "averages, then the validation loss and accuracy measured after the epoch.")
HISTORY_FIX = ("loss, acc = train_epoch(layers, x, y, optimizer, batch_size, rng=rng)\n"
               "val_loss, val_acc = evaluate(layers, *validation_data)\n"
               "history[\"loss\"].append(loss)   # and likewise for the other three")
VALIDATE_FIX = ("loss, acc = train_epoch(layers, x, y, optimizer, batch_size, rng=rng)\n"
                "val_loss, val_acc = evaluate(layers, *validation_data)   # after the epoch")
BAR_HINT = ("tqdm wraps the loop over the epochs and draws the bar; its disable argument turns "
            "it off completely, and nothing else should print.")
BAR_FIX = ("bar = tqdm(range(1, epochs + 1), desc=\"training\", unit=\"epoch\", "
           "disable=not verbose)\nfor epoch in bar:\n    ...")

FIT_NOT_DICT = Mistake(None, "it must return the history as a dict of four lists, got {kind}",
                       HISTORY_HINT, FIT_FIX)
FIT_MISSING_KEY = Mistake(None, "the history has no key {key!r}: it needs the keys 'loss', "
                          "'accuracy', 'val_loss' and 'val_accuracy'", HISTORY_HINT,
                          "history = {\"loss\": [], \"accuracy\": [], \"val_loss\": [], "
                          "\"val_accuracy\": []}")
FIT_NOT_LIST = Mistake(None, "the history's {key!r} entry should be a list with one value per "
                       "epoch, got {kind}", HISTORY_HINT, HISTORY_FIX)
FIT_PER_BATCH = Mistake(None, "the history's {key!r} list has {count} values for {epochs} epochs: "
                        "that is one value per BATCH, not one per epoch", HISTORY_HINT,
                        HISTORY_FIX)
FIT_TOO_FEW = Mistake(None, "the history's {key!r} list has {count} {values} for {epochs} "
                      "epochs: a value must be added at the end of every epoch, inside the "
                      "epoch loop", HISTORY_HINT, HISTORY_FIX)
FIT_TOTAL = Mistake(None, "the network trained on {total} examples, expected {epochs} epochs × "
                    "{n} = {want}: one train_epoch per epoch", FIT_HINT, HISTORY_FIX)
FIT_SAME_ORDER = Mistake(None, "every epoch used the same order of examples: each epoch got a "
                         "freshly seeded generator instead of the one generator passed in",
                         "A generator's state moves on as it is used; a new generator from the "
                         "same seed starts over.", HISTORY_FIX)
FIT_PARAMS = Mistake(None, "after fit the parameters differ from training epoch after epoch on "
                     "the batches seen", "Run the check of train_epoch, and call it once per "
                     "epoch.", HISTORY_FIX)
FIT_TRAIN_FROM_VAL = Mistake(None, "the history's {key!r} list holds the VALIDATION values: "
                             "'loss' and 'accuracy' are the training epoch's averages",
                             HISTORY_HINT, HISTORY_FIX)
FIT_TRAIN = Mistake(None, "the history's {key!r} list is {got}, expected {want}: the averages of "
                    "each training epoch, one per epoch", HISTORY_HINT, HISTORY_FIX)
FIT_VAL_SWAPPED = Mistake(None, "val_loss and val_accuracy are swapped: the evaluation gives the "
                          "loss first, then the accuracy", HISTORY_HINT, HISTORY_FIX)
FIT_VAL_BEFORE = Mistake(None, "the history's {key!r} list was measured BEFORE each epoch's "
                         "training, so it lags one epoch behind", "Validation tells how good "
                         "the network is after the epoch it has just trained.", VALIDATE_FIX)
FIT_VAL_ON_TRAIN = Mistake(None, "the history's {key!r} list was measured on the TRAINING data, "
                           "so it cannot show overfitting", "Validation uses images the network "
                           "never trains on: the pair passed as validation_data.", VALIDATE_FIX)
FIT_VAL_REPEATS = Mistake(None, "the history's {key!r} list repeats the training values: the "
                          "network was never evaluated on the validation data", HISTORY_HINT,
                          VALIDATE_FIX)
FIT_VAL = Mistake(None, "the history's {key!r} list is {got}, expected {want}: the validation "
                  "values after each epoch", HISTORY_HINT, VALIDATE_FIX)
FIT_NOISY = Mistake(None, "with verbose set to False it still {shown}: a quiet run must show "
                    "nothing", BAR_HINT, BAR_FIX)
FIT_SILENT = Mistake(None, "with verbose set to True it showed nothing: a long training needs a "
                     "progress bar over the epochs", BAR_HINT, BAR_FIX)


@contextlib.contextmanager
def _capture():
    """Collect what the code inside prints (stdout, stderr) and displays (a tqdm widget in Jupyter)
    instead of showing it; yields a list that afterwards holds one description per kind shown."""
    shown = []
    with warnings.catch_warnings(record=True) as caught:   # a warning is not the student's output
        warnings.simplefilter("always")
        try:
            from IPython.utils.capture import capture_output
        except ImportError:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                yield shown
            texts, displayed = (out.getvalue(), err.getvalue()), []
        else:
            with capture_output(stdout=True, stderr=True, display=True) as captured:
                yield shown
            texts, displayed = (captured.stdout, captured.stderr), captured.outputs
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if displayed:
        shown.append("displayed something (in Jupyter, tqdm draws its bar as a widget)")
    for where, text in zip(("printed", "wrote to stderr (where tqdm draws its bar)"), texts):
        lines = [line.strip() for line in text.replace("\r", "\n").splitlines() if line.strip()]
        if lines:
            first = lines[0] if len(lines[0]) <= 50 else lines[0][:47] + "..."
            shown.append(f"{where} {first!r}")


def _history_values(history, epochs):
    """The four lists of the history as floats, after checking its shape."""
    if not isinstance(history, dict):
        _fail(FIT_NOT_DICT, kind="None" if history is None else _a(history))
    for key in KEYS:
        if key not in history:
            _fail(FIT_MISSING_KEY, key=key)
    for key in KEYS:
        if isinstance(history[key], (str, bytes, dict)) or not hasattr(history[key], "__len__"):
            _fail(FIT_NOT_LIST, key=key, kind=_a(history[key]))
        count = len(history[key])
        if count > epochs:
            _fail(FIT_PER_BATCH, key=key, count=count, epochs=epochs)
        if count < epochs:
            _fail(FIT_TOO_FEW, key=key, count=count, epochs=epochs,
                  values="value" if count == 1 else "values")
    return {k: [_number(v, f"a value in the history's {k!r} list", HISTORY_FIX)
                for v in history[k]] for k in KEYS}


def _split_epochs(batches, n, epochs):
    """The recorded training batches, cut into epochs of n examples each."""
    per_epoch, start = [], 0
    for _ in range(epochs):
        end, seen = start, 0
        while seen < n and end < len(batches):
            seen += len(batches[end][0])
            end += 1
        per_epoch.append(batches[start:end])
        start = end
    return per_epoch


def _replay_fit(params0, sizes, x, y, x_val, y_val, per_epoch):
    """nnlib's fit on the recorded batches: the history it gives, the validation values measured
    before each epoch, those measured on the training data, and the final layers."""
    reference = _network(sizes, 0, recording=False)
    _set_params(reference, params0)
    optimizer, loss_fn = SGD(0.1), SoftmaxCrossEntropy()
    expected, before, on_train = {k: [] for k in KEYS}, [], []
    for epoch_batches in per_epoch:
        z = _logits(reference, x_val)
        before.append((loss_fn.forward(z, y_val), accuracy(z, y_val)))
        per_batch = [(*_reference_step(reference, x[ids], y[ids], optimizer), len(ids))
                     for ids, _ in epoch_batches]
        expected["loss"].append(sum(b[0] * b[2] for b in per_batch) / len(x))
        expected["accuracy"].append(sum(b[1] * b[2] for b in per_batch) / len(x))
        z = _logits(reference, x_val)
        expected["val_loss"].append(loss_fn.forward(z, y_val))
        expected["val_accuracy"].append(accuracy(z, y_val))
        z = _logits(reference, x)
        on_train.append((loss_fn.forward(z, y), accuracy(z, y)))
    return expected, before, on_train, reference


def _same(a, b):
    return np.allclose(a, b, rtol=1e-6, atol=1e-9)


def _rounded(values):
    return np.round(values, 6).tolist()


@check("fit", hint=FIT_HINT, fix=FIT_FIX)
def check_fit(fit):
    sizes, epochs, batch_size = [5, 8, 3], 3, 16
    x, y = _data(40, 5, 3, 0)
    x_val, y_val = _data(13, 5, 3, 1)
    where = f"{epochs} epochs of 40 examples, batch_size {batch_size}, 13 validation examples"
    layers = _network(sizes, 0)
    params0 = _params(layers)
    given = [a.copy() for a in (x, y, x_val, y_val)]
    with _capture() as shown:
        history = _run(fit, where, layers, given[0], given[1], _CountingSGD(0.1), epochs=epochs,
                       batch_size=batch_size, validation_data=(given[2], given[3]),
                       rng=np.random.default_rng(0), verbose=False)
    if not all(np.array_equal(a, b) for a, b in zip(given, (x, y, x_val, y_val))):
        raise Problem.of(IN_PLACE)
    values = _history_values(history, epochs)

    # a pass over the whole training set at once is an evaluation, not a training batch
    batches = [b for b in _train_batches(layers[0].records, _index_of_rows(x))
               if len(b[0]) != len(x)]
    total = sum(len(ids) for ids, _ in batches)
    if total != epochs * len(x):
        _fail(FIT_TOTAL, total=total, epochs=epochs, n=len(x), want=epochs * len(x))
    per_epoch = _split_epochs(batches, len(x), epochs)
    orders = [_epoch_batches(b, len(x), batch_size, where) for b in per_epoch]
    if all(np.array_equal(orders[0], o) for o in orders[1:]):
        _fail(FIT_SAME_ORDER)
    expected, before, on_train, reference = _replay_fit(params0, sizes, x, y, x_val, y_val,
                                                        per_epoch)
    if not _same_params(_params(layers), _params(reference)):
        _fail(FIT_PARAMS)

    for key in ("loss", "accuracy"):
        if not _same(values[key], expected[key]):
            if _same(values[key], expected["val_" + key]):
                _fail(FIT_TRAIN_FROM_VAL, key=key)
            _fail(FIT_TRAIN, key=key, got=_rounded(values[key]), want=_rounded(expected[key]))
    if _same(values["val_loss"], expected["val_accuracy"]) and _same(values["val_accuracy"],
                                                                     expected["val_loss"]):
        _fail(FIT_VAL_SWAPPED)
    for k, key in enumerate(("val_loss", "val_accuracy")):
        if _same(values[key], expected[key]):
            continue
        for wrong, row in [([v[k] for v in before], FIT_VAL_BEFORE),
                           ([v[k] for v in on_train], FIT_VAL_ON_TRAIN),
                           (expected[key[4:]], FIT_VAL_REPEATS)]:
            if _same(values[key], wrong):
                _fail(row, key=key)
        _fail(FIT_VAL, key=key, got=_rounded(values[key]), want=_rounded(expected[key]))

    if shown:
        _fail(FIT_NOISY, shown=" and ".join(shown))
    with _capture() as shown:
        _run(fit, where, _network(sizes, 0, recording=False), x.copy(), y.copy(), SGD(0.1),
             epochs=epochs, batch_size=batch_size, validation_data=(x_val.copy(), y_val.copy()),
             rng=np.random.default_rng(0), verbose=True)
    if not shown:
        _fail(FIT_SILENT)
    return ("epochs on one rng, validation after each, a history of four lists, a progress bar "
            "only when verbose")
