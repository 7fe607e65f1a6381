"""Checks for chapter 08 (the training loop): minibatches, train_step, train_epoch and fit.

The student's loop is run on a small float64 network whose first layer records every batch it
sees. From those records the check learns which examples were used in which order, replays the
same batches with nnlib's reference (forward, SoftmaxCrossEntropy, backward, SGD), and compares
parameters, losses and accuracies — so any valid shuffle is accepted, and the typical mistakes
(a dropped last batch, an unweighted average, an update before backward, …) can be named.
``fit`` is also run with verbose=False and verbose=True while everything it prints or displays is
captured: the first must show nothing, the second something (a progress bar).
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
from ._core import Problem, check

RTOL, ATOL = 1e-7, 1e-9


def _close(a, b):
    return np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=RTOL, atol=ATOL)


def _number(value, what):
    """``value`` as a float, or a Problem that says what was returned instead."""
    if value is None:
        raise Problem(f"{what} is None: did you forget `return`?")
    if np.ndim(value) != 0 and np.size(value) != 1:
        raise Problem(f"{what} should be one number, got an array of shape {np.shape(value)}")
    try:
        return float(np.asarray(value).reshape(()))
    except (TypeError, ValueError):
        raise Problem(f"{what} should be a number, got {type(value).__name__}") from None


# --- minibatches ----------------------------------------------------------------------------------
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
        raise Problem("it returned None: `yield` each (x_batch, y_batch) pair, "
                      "which makes the function a generator")
    if not inspect.isgenerator(out):
        raise Problem(f"it returned a {type(out).__name__}, not a generator: use `yield x[idx], "
                      "y[idx]` inside the loop instead of collecting the batches and returning "
                      "them, so that each batch is made only when the loop asks for it")
    batches = []
    for item in out:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            shape = f" of shape {item.shape}" if hasattr(item, "shape") else ""
            raise Problem("each item must be a pair (x_batch, y_batch); "
                          f"got {type(item).__name__}{shape}")
        batches.append((np.asarray(item[0]), np.asarray(item[1])))
    if not (np.array_equal(x_given, x) and np.array_equal(y_given, y)):
        raise Problem("it shuffled the caller's x or y in place (rng.shuffle does that): "
                      "leave them alone and index with a permutation instead, "
                      "idx = rng.permutation(len(x)); x[idx], y[idx]")
    return batches


def _expected_sizes(n, batch_size):
    return [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])


_NEIGHBOURS = ("each batch holds the same neighbouring examples as without shuffling, only the "
               "order changed: shuffle all examples first (one permutation of all indices), then "
               "cut them into batches")


def _is_block(ids, batch_size):
    """True if ``ids`` are exactly the examples of one unshuffled batch."""
    ids = np.sort(np.asarray(ids).astype(np.int64))
    return len(ids) > 0 and ids[0] % batch_size == 0 and np.array_equal(
        ids, np.arange(ids[0], ids[0] + len(ids)))


def _check_batches(batches, x, y, batch_size, where):
    """The ids of the examples in the order they were yielded, after checking sizes and pairing."""
    n = len(x)
    sizes = [len(xb) for xb, _ in batches]
    expected = _expected_sizes(n, batch_size)
    if not batches:
        raise Problem(f"it yielded nothing ({where}): it must yield batches covering all "
                      f"{n} examples")
    for xb, yb in batches:
        if xb.ndim != 2 or xb.shape[1] != x.shape[1]:
            raise Problem(f"x_batch has shape {xb.shape} ({where}); expected rows of x, "
                          f"shape (batch, {x.shape[1]})")
        if len(yb) != len(xb):
            raise Problem(f"x_batch has {len(xb)} rows but y_batch {len(yb)} ({where}): take the "
                          "same indices from both")
        if yb.shape[1:] != y.shape[1:]:
            raise Problem(f"y_batch has shape {yb.shape} ({where}); expected rows of y, "
                          f"shape (batch{', ' + str(y.shape[1]) if y.ndim == 2 else ''},)")
    if 0 in sizes:
        raise Problem(f"it yielded an empty batch ({where}, sizes {sizes}): loop with "
                      "range(0, len(x), batch_size) so no batch starts at or after the end")
    if sizes != expected:
        if sorted(sizes) == sorted(expected) and all(
                _is_block(xb[:, 0], batch_size) for xb, _ in batches):
            raise Problem(_NEIGHBOURS)
        if sizes == expected[:-1] and n % batch_size:
            raise Problem(f"the last, smaller batch ({n % batch_size} examples) is missing "
                          f"({where}): every example must be used in every epoch, so yield it "
                          "too — the last batch may be smaller than batch_size")
        if sizes == [n] and len(expected) > 1:
            raise Problem(f"it yielded one batch with all {n} examples ({where}): cut "
                          f"the data into batches of batch_size = {batch_size}")
        raise Problem(f"the batch sizes are {sizes} ({where}), expected {expected}: batches of "
                      "batch_size, and the remainder (if any) in a last, smaller batch")
    ids = np.concatenate([xb[:, 0] for xb, _ in batches]).astype(np.int64)
    rows = np.concatenate([xb for xb, _ in batches])
    if not np.array_equal(rows, x[np.clip(ids, 0, n - 1)]) or np.any(ids < 0) or np.any(ids >= n):
        raise Problem(f"the rows of x_batch are not rows of x ({where}): index x by rows, "
                      "x[idx], with idx an array of example indices")
    if len(np.unique(ids)) != n:
        raise Problem(f"some examples appear more than once and others never ({where}): draw "
                      "the order as a permutation, rng.permutation(len(x)), not as random "
                      "indices with replacement (rng.integers, rng.choice)")
    y_ids = np.concatenate([yb.argmax(axis=1) if y.ndim == 2 else yb for _, yb in batches])
    if not np.array_equal(y_ids, (ids % 10) if y.ndim == 2 else ids):
        raise Problem(f"x and y were shuffled differently ({where}): a label no longer belongs to "
                      "its image. Draw ONE permutation idx and use it for both: x[idx], y[idx]")
    return ids


@check("minibatches")
def check_minibatches(minibatches):
    x, y = _toy_data(103)
    where = "103 examples, batch_size 16"
    ids = _check_batches(_collect(minibatches, x, y, 16, np.random.default_rng(0)), x, y, 16,
                         where)
    if np.array_equal(ids, np.arange(103)):
        raise Problem("the batches come in the original order: shuffle first — "
                      "idx = rng.permutation(len(x)), then cut idx into batches")
    starts = np.cumsum([0] + _expected_sizes(103, 16))
    if all(_is_block(ids[a:b], 16) for a, b in zip(starts[:-1], starts[1:])):
        raise Problem(_NEIGHBOURS)

    again = _check_batches(_collect(minibatches, x, y, 16, np.random.default_rng(0)), x, y, 16,
                           where)
    if not np.array_equal(ids, again):
        raise Problem("two runs with generators made from the same seed gave different batches, "
                      "so training cannot be reproduced: draw the order from the `rng` argument "
                      "(rng.permutation), not from np.random")
    other = _check_batches(_collect(minibatches, x, y, 16, np.random.default_rng(1)), x, y, 16,
                           where)
    if np.array_equal(ids, other):
        raise Problem("different rngs give the same batches: the order must come from the `rng` "
                      "argument, not from a generator with a fixed seed of your own")
    rng = np.random.default_rng(2)
    first = _check_batches(_collect(minibatches, x, y, 16, rng), x, y, 16, where)
    second = _check_batches(_collect(minibatches, x, y, 16, rng), x, y, 16, where)
    if np.array_equal(first, second):
        raise Problem("two epochs with the same generator gave the same order: use the generator "
                      "you are given (its state advances), do not re-seed it")

    for n, batch_size, one_hot, case in [
            (96, 16, False, "96 examples, batch_size 16 (no remainder)"),
            (5, 1, False, "5 examples, batch_size 1"),
            (10, 64, False, "10 examples, batch_size 64 (larger than the data)"),
            (20, 8, True, "20 examples with one-hot labels (20, 10), batch_size 8")]:
        x, y = _toy_data(n, one_hot=one_hot)
        _check_batches(_collect(minibatches, x, y, batch_size, np.random.default_rng(3)), x, y,
                       batch_size, case)
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


def _run(fn, *args, **kwargs):
    """Call the student's loop; turn the usual crashes of a wrong backward order into advice."""
    try:
        return fn(*args, **kwargs)
    except (ValueError, TypeError) as err:
        text = str(err).splitlines()[0] if str(err) else type(err).__name__
        if any(word in text for word in ("shape", "broadcast", "matmul", "aligned")):
            raise Problem(f"it raised {type(err).__name__} ({text}): backward must run through "
                          "the layers in REVERSE order, each layer getting the gradient returned "
                          "by the layer after it: for layer in reversed(layers): "
                          "grad = layer.backward(grad)") from None
        raise


# --- train_step -----------------------------------------------------------------------------------
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
    out = _run(train_step, layers, x_given, y_given, optimizer)
    if not (np.array_equal(x_given, x) and np.array_equal(y_given, y)):
        raise Problem("it changed the batch x or y in place; leave its inputs unchanged")

    if not optimizer.calls:
        raise Problem("it never called optimizer.step(layers): the gradients were computed "
                      "but no parameter moved — call it once, after the backward pass")
    if len(optimizer.calls) > 1:
        raise Problem(f"it called optimizer.step {len(optimizer.calls)} times for one batch "
                      "(inside the backward loop?): finish backward through ALL layers, then call "
                      "optimizer.step(layers) once")
    given = {(i, name): g for i, name, g in optimizer.calls[0]}
    expected_keys = [(id(layer), name) for layer in layers[::2] for name in layer.param_names]
    if set(given) != set(expected_keys):
        raise Problem("optimizer.step did not receive every layer: pass it the whole list, "
                      "optimizer.step(layers)")
    at_step = [given[key] for key in expected_keys]
    if _same_params(at_step, stale):
        raise Problem("optimizer.step ran BEFORE backward, with the gradients left over from the "
                      "previous batch: the order is forward, loss, backward, then step")
    if _same_params(at_step, [p * 0 for p in stale]):
        raise Problem("the gradients were zero when optimizer.step ran: call backward (through "
                      "every layer, starting from the loss gradient) before the step")
    for k, (got, want) in enumerate(zip(at_step, grads)):
        if not _close(got, want):
            layer_no, name = divmod(k, 2)
            name = ("dweights", "dbiases")[name]
            if layer_no == 0 and all(_close(g, w) for g, w in zip(at_step[2:], grads[2:])):
                raise Problem(f"the first Dense layer's {name} is wrong at the time of the step "
                              "while the last layer's is right: backward must pass through EVERY "
                              "layer, the ReLU included, in reverse order")
            raise Problem(f"the gradients at the time of optimizer.step are wrong ({where}): "
                          "logits = forward through the layers; "
                          "grad = loss_fn.backward(logits, y); "
                          "then backward through the layers in reverse order")
    if not _same_params(_params(layers), after):
        raise Problem(f"the parameters after train_step are wrong ({where}), although the "
                      "gradients were right: update them only through optimizer.step(layers)")
    if _same_params(_params(layers), params0):
        raise Problem("the parameters did not change")

    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Problem("it must return two numbers, (loss, accuracy), of the batch")
    loss, acc = _number(out[0], "the returned loss"), _number(out[1], "the returned accuracy")
    later_loss = SoftmaxCrossEntropy().forward(_logits(reference, x), y)
    later_acc = accuracy(_logits(reference, x), y)
    if np.isclose(loss, ref_acc) and np.isclose(acc, ref_loss) and not np.isclose(loss, ref_loss):
        raise Problem("you returned (accuracy, loss): return (loss, accuracy)")
    if not np.isclose(loss, ref_loss, rtol=RTOL, atol=ATOL):
        if np.isclose(loss, later_loss, rtol=RTOL, atol=ATOL):
            raise Problem("the returned loss was measured AFTER the update, with a second forward "
                          "pass: return the loss of the forward pass that produced the gradients")
        if np.isclose(loss, ref_loss * n, rtol=RTOL, atol=ATOL) and n > 1:
            raise Problem("the returned loss is the SUM over the batch: return the mean, "
                          "which SoftmaxCrossEntropy().forward already gives")
        raise Problem(f"the returned loss is {loss:.6g}, expected {ref_loss:.6g} ({where}): the "
                      "loss of the batch, SoftmaxCrossEntropy().forward(logits, y), before the "
                      "update")
    if not np.isclose(acc, ref_acc, rtol=RTOL, atol=ATOL):
        if np.isclose(acc, later_acc, rtol=RTOL, atol=ATOL):
            raise Problem("the returned accuracy was measured AFTER the update: use the logits of "
                          "the forward pass, accuracy(logits, y)")
        raise Problem(f"the returned accuracy is {acc:.6g}, expected {ref_acc:.6g} ({where}): "
                      "accuracy(logits, y), a fraction between 0 and 1")


@check("train_step")
def check_train_step(train_step):
    _check_one_step(train_step, 7, 0)
    _check_one_step(train_step, 12, 1)
    _check_one_step(train_step, 1, 2)
    return "forward, loss, backward in reverse, one optimizer step; loss and accuracy before it"


# --- train_epoch ----------------------------------------------------------------------------------
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


def _epoch_batches(batches, n, batch_size, where, whole_set_ok=False):
    """Check the training batches of one epoch; the ids in order."""
    sizes = [len(ids) for ids, _ in batches]
    expected = _expected_sizes(n, batch_size)
    if not batches:
        raise Problem(f"the network never saw a training example ({where}): call train_step on "
                      "each mini-batch")
    if sizes == [n] and len(expected) > 1:
        raise Problem(f"the whole training set went through the network in ONE batch ({where}): "
                      "that is one update per epoch. Loop over "
                      "minibatches(x, y, batch_size, rng) and call train_step on each batch")
    if sizes[-1] == n and sizes[:-1] == expected:
        raise Problem("after the epoch you ran the whole training set through the network once "
                      "more: the epoch's loss and accuracy are the averages of the batch values "
                      "you already have, weighted by batch size — no extra pass needed")
    if sizes != expected:
        if sizes == expected[:-1] and n % batch_size:
            raise Problem(f"the last, smaller batch ({n % batch_size} examples) was never "
                          f"trained on ({where}): check minibatches (its check must pass)")
        raise Problem(f"the batch sizes were {sizes} ({where}), expected {expected}: one "
                      "train_step per batch from minibatches(x, y, batch_size, rng)")
    ids = np.concatenate([ids for ids, _ in batches])
    if len(np.unique(ids)) != n:
        raise Problem(f"some examples were used twice and others never ({where}): "
                      "check minibatches (its check must pass)")
    if np.array_equal(ids, np.arange(n)):
        raise Problem(f"the examples were used in their original order ({where}): pass the rng to "
                      "minibatches so every epoch is shuffled")
    return ids


def _replay(layers0_params, sizes, x, y, batch_ids, learning_rate):
    """Replay training on these batches with nnlib: per-batch (loss, acc, size) and the params."""
    layers = _network(sizes, 0, recording=False)
    _set_params(layers, layers0_params)
    optimizer = SGD(learning_rate)
    per_batch = []
    for ids in batch_ids:
        loss, acc = _reference_step(layers, x[ids], y[ids], optimizer)
        per_batch.append((loss, acc, len(ids)))
    return per_batch, layers


def _averaging_mistakes(per_batch, n, which):
    values = np.array([b[which] for b in per_batch])
    counts = np.array([b[2] for b in per_batch])
    name = ("loss", "accuracy")[which]
    return [
        (values.mean(), f"the epoch's {name} is the plain mean of the batch values, but the last "
                        "batch is smaller and must count less: add value * len(x_batch) for each "
                        "batch and divide by len(x)"),
        (values[-1], f"you returned the {name} of the last batch only: average over all batches "
                     "of the epoch, weighted by batch size"),
        (values.sum(), f"you returned the SUM of the batch {name} values: weight each by its batch "
                       "size, add them up, and divide by len(x)"),
        ((values * counts).sum(), f"you forgot to divide by the number of examples: the epoch's "
                                  f"{name} is Σ value · batch size / len(x)"),
        ((values * counts).sum() / len(values),
         "you divided by the number of batches; divide the size-weighted sum by the number of "
         "examples, len(x)"),
    ]


def _expect_average(got, per_batch, n, which, where):
    name = ("loss", "accuracy")[which]
    expected = sum(b[which] * b[2] for b in per_batch) / n
    if np.isclose(got, expected, rtol=1e-6, atol=1e-9):
        return
    for wrong, why in _averaging_mistakes(per_batch, n, which):
        if np.isclose(got, wrong, rtol=1e-6, atol=1e-9):
            raise Problem(why)
    raise Problem(f"the epoch's {name} is {got:.6g}, expected {expected:.6g} ({where}): the "
                  f"average of the batch {name} values (measured before each update), weighted by "
                  "batch size")


def _run_epoch(train_epoch, sizes, x, y, batch_size, seed, where):
    layers = _network(sizes, 0)
    params0 = _params(layers)
    optimizer = _CountingSGD(0.1)
    x_given, y_given = x.copy(), y.copy()
    out = _run(train_epoch, layers, x_given, y_given, optimizer, batch_size,
               np.random.default_rng(seed))
    if not (np.array_equal(x_given, x) and np.array_equal(y_given, y)):
        raise Problem("it changed x or y in place; shuffle with an index array instead")
    batches = _train_batches(layers[0].records, _index_of_rows(x))
    ids = _epoch_batches(batches, len(x), batch_size, where)
    return out, layers, params0, optimizer, batches, ids


@check("train_epoch")
def check_train_epoch(train_epoch):
    sizes = [5, 8, 3]
    x, y = _data(50, 5, 3, 0)
    where = "50 examples, batch_size 16: batches of 16, 16, 16 and 2"
    out, layers, params0, optimizer, batches, ids = _run_epoch(train_epoch, sizes, x, y, 16, 0,
                                                               where)
    if not optimizer.calls:
        raise Problem("optimizer.step was never called during the epoch: train_step must update "
                      "the parameters (its check must pass)")
    if len(optimizer.calls) != len(batches):
        raise Problem(f"the epoch had {len(batches)} batches but {len(optimizer.calls)} calls of "
                      "optimizer.step: exactly one update per batch")
    per_batch, reference = _replay(params0, sizes, x, y, [b for b, _ in batches], 0.1)
    if not _same_params(_params(layers), _params(reference)):
        raise Problem("after the epoch the parameters differ from one train_step per batch in the "
                      "order the batches were seen: check train_step (its check must pass)")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Problem("it must return two numbers: (loss, accuracy) of the epoch")
    loss = _number(out[0], "the epoch's loss")
    acc = _number(out[1], "the epoch's accuracy")
    expected_loss = sum(b[0] * b[2] for b in per_batch) / len(x)
    expected_acc = sum(b[1] * b[2] for b in per_batch) / len(x)
    if np.isclose(loss, expected_acc) and np.isclose(acc, expected_loss):
        raise Problem("you returned (accuracy, loss): return (loss, accuracy)")
    _expect_average(loss, per_batch, len(x), 0, where)
    _expect_average(acc, per_batch, len(x), 1, where)

    again = _run_epoch(train_epoch, sizes, x, y, 16, 0, where)[5]
    if not np.array_equal(ids, again):
        raise Problem("the same seed gave a different order of examples: pass the rng you are "
                      "given on to minibatches, so a run can be reproduced")
    other = _run_epoch(train_epoch, sizes, x, y, 16, 1, where)[5]
    if np.array_equal(ids, other):
        raise Problem("different rngs gave the same order of examples: shuffle with the rng you "
                      "are given, not with a generator of your own")

    x, y = _data(32, 5, 3, 1)
    _run_epoch(train_epoch, sizes, x, y, 8, 2, "32 examples, batch_size 8")
    return "one step per shuffled batch, epoch loss and accuracy weighted by batch size"


# --- fit ------------------------------------------------------------------------------------------
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


@check("fit")
def check_fit(fit):
    sizes = [5, 8, 3]
    epochs, batch_size = 3, 16
    x, y = _data(40, 5, 3, 0)
    x_val, y_val = _data(13, 5, 3, 1)
    where = f"{epochs} epochs of 40 examples, batch_size {batch_size}, 13 validation examples"
    layers = _network(sizes, 0)
    params0 = _params(layers)
    given = [a.copy() for a in (x, y, x_val, y_val)]
    with _capture() as shown:
        history = _run(fit, layers, given[0], given[1], _CountingSGD(0.1), epochs=epochs,
                       batch_size=batch_size, validation_data=(given[2], given[3]),
                       rng=np.random.default_rng(0), verbose=False)
    if not all(np.array_equal(a, b) for a, b in zip(given, (x, y, x_val, y_val))):
        raise Problem("it changed the training or validation data in place")

    if not isinstance(history, dict):
        raise Problem(f"it must return the history as a dict, got {type(history).__name__}")
    keys = ("loss", "accuracy", "val_loss", "val_accuracy")
    missing = [k for k in keys if k not in history]
    if missing:
        raise Problem(f"the history has no key {missing[0]!r}: it needs the keys "
                      "'loss', 'accuracy', 'val_loss' and 'val_accuracy'")
    for key in keys:
        if not hasattr(history[key], "__len__"):
            raise Problem(f"history[{key!r}] should be a list with one value per epoch")
        if len(history[key]) != epochs:
            extra = (" — one value per BATCH; append once per epoch, after the epoch"
                     if len(history[key]) > epochs else
                     " — append a value at the end of every epoch, inside the epoch loop")
            count = len(history[key])
            raise Problem(f"history[{key!r}] has {count} value{'s' if count != 1 else ''} for "
                          f"{epochs} epochs{extra}")
    values = {k: [_number(v, f"history[{k!r}]") for v in history[k]] for k in keys}

    # a pass over the whole training set at once is an evaluation, not a training batch
    batches = [b for b in _train_batches(layers[0].records, _index_of_rows(x))
               if len(b[0]) != len(x)]
    total = sum(len(ids) for ids, _ in batches)
    if total != epochs * len(x):
        raise Problem(f"the network trained on {total} examples, expected {epochs} epochs × "
                      f"{len(x)} = {epochs * len(x)}: call train_epoch once per epoch")
    per_epoch, start = [], 0
    for _ in range(epochs):
        end, seen = start, 0
        while seen < len(x) and end < len(batches):
            seen += len(batches[end][0])
            end += 1
        per_epoch.append(batches[start:end])
        start = end
    orders = [_epoch_batches(b, len(x), batch_size, where) for b in per_epoch]
    if all(np.array_equal(orders[0], o) for o in orders[1:]):
        raise Problem("every epoch used the same order of examples: make the generator ONCE, "
                      "before the epoch loop, and pass that same rng to every epoch (a fresh "
                      "np.random.default_rng(seed) each epoch repeats the same shuffle)")

    # replay epoch by epoch
    reference = _network(sizes, 0, recording=False)
    _set_params(reference, params0)
    optimizer, loss_fn = SGD(0.1), SoftmaxCrossEntropy()
    expected = {k: [] for k in keys}
    before_epoch, on_train = [], []
    for epoch_batches in per_epoch:
        z = _logits(reference, x_val)
        before_epoch.append((loss_fn.forward(z, y_val), accuracy(z, y_val)))
        per_batch = [(*_reference_step(reference, x[ids], y[ids], optimizer), len(ids))
                     for ids, _ in epoch_batches]
        expected["loss"].append(sum(b[0] * b[2] for b in per_batch) / len(x))
        expected["accuracy"].append(sum(b[1] * b[2] for b in per_batch) / len(x))
        z = _logits(reference, x_val)
        expected["val_loss"].append(loss_fn.forward(z, y_val))
        expected["val_accuracy"].append(accuracy(z, y_val))
        z = _logits(reference, x)
        on_train.append((loss_fn.forward(z, y), accuracy(z, y)))
    if not _same_params(_params(layers), _params(reference)):
        raise Problem("after fit the parameters differ from training epoch after epoch on the "
                      "batches seen: check train_epoch (its check must pass)")

    def same(a, b):
        return np.allclose(a, b, rtol=1e-6, atol=1e-9)

    for key in ("loss", "accuracy"):
        if not same(values[key], expected[key]):
            if same(values[key], expected["val_" + key]):
                raise Problem(f"history[{key!r}] holds the VALIDATION values: 'loss' and "
                              "'accuracy' are the training epoch's averages from train_epoch")
            raise Problem(f"history[{key!r}] is {np.round(values[key], 6).tolist()}, expected "
                          f"{np.round(expected[key], 6).tolist()}: append what train_epoch "
                          "returns, once per epoch")
    if same(values["val_loss"], expected["val_accuracy"]) and same(values["val_accuracy"],
                                                                   expected["val_loss"]):
        raise Problem("val_loss and val_accuracy are swapped: evaluate returns (loss, accuracy)")
    for k, key in enumerate(("val_loss", "val_accuracy")):
        if same(values[key], expected[key]):
            continue
        if same(values[key], [v[k] for v in before_epoch]):
            raise Problem(f"history[{key!r}] was measured BEFORE each epoch's training: evaluate "
                          "on validation_data after train_epoch")
        if same(values[key], [v[k] for v in on_train]):
            raise Problem(f"history[{key!r}] was measured on the TRAINING data: evaluate on "
                          "validation_data = (x_val, y_val)")
        if same(values[key], expected[key[4:]]):
            raise Problem(f"history[{key!r}] repeats the training values: evaluate the network on "
                          "validation_data after each epoch")
        raise Problem(f"history[{key!r}] is {np.round(values[key], 6).tolist()}, expected "
                      f"{np.round(expected[key], 6).tolist()}: after each epoch, "
                      "evaluate(layers, x_val, y_val)")

    if shown:
        raise Problem(f"with verbose=False it still {' and '.join(shown)}: verbose=False must "
                      "show nothing, so pass disable=not verbose to tqdm (and print only if "
                      "verbose)")
    with _capture() as shown:
        _run(fit, _network(sizes, 0, recording=False), x.copy(), y.copy(), SGD(0.1),
             epochs=epochs, batch_size=batch_size, validation_data=(x_val.copy(), y_val.copy()),
             rng=np.random.default_rng(0), verbose=True)
    if not shown:
        raise Problem("with verbose=True it showed nothing: wrap the epochs in a progress bar, "
                      "tqdm(range(1, epochs + 1), desc=\"training\", unit=\"epoch\", "
                      "disable=not verbose)")
    return ("epochs on one rng, validation after each, a history of four lists, output only "
            "with verbose=True")
