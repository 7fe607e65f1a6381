"""The chapter 08 checks pass a correct training loop (and nnlib's minibatches) and name each
typical mistake in the batches, the training step, the epoch averages and the fit loop."""

import copy
import types
from pathlib import Path

import nbformat
import numpy as np
import pytest
from tqdm.auto import tqdm

from checkhelpers import assert_named, not_yet
from nnlib import SoftmaxCrossEntropy, accuracy
from nnlib import minibatches as nnlib_minibatches
from nnlib.checks import ch08_training_loop as ch08
from nnlib.checks.ch08_training_loop import (check_fit, check_minibatches, check_train_epoch,
                                             check_train_step)

loss_fn = SoftmaxCrossEntropy()
not_implemented = not_yet


# --- a correct loop, in the chapter's words -------------------------------------------------------
def minibatches(x, y, batch_size, rng):
    order = rng.permutation(len(x))
    for start in range(0, len(x), batch_size):
        idx = order[start:start + batch_size]
        yield x[idx], y[idx]


def forward(layers, x):
    for layer in layers:
        x = layer.forward(x)
    return x


def train_step(layers, x, y, optimizer):
    logits = forward(layers, x)
    loss = loss_fn.forward(logits, y)
    grad = loss_fn.backward(logits, y)
    for layer in reversed(layers):
        grad = layer.backward(grad)
    optimizer.step(layers)
    return loss, accuracy(logits, y)


def train_epoch(layers, x, y, optimizer, batch_size, rng):
    total_loss = total_correct = 0.0
    for xb, yb in minibatches(x, y, batch_size, rng):
        loss, acc = train_step(layers, xb, yb, optimizer)
        total_loss += loss * len(xb)
        total_correct += acc * len(xb)
    return total_loss / len(x), total_correct / len(x)


def evaluate(layers, x, y):
    logits = forward(layers, x)
    return loss_fn.forward(logits, y), accuracy(logits, y)


def fit(layers, x, y, optimizer, *, epochs, batch_size, validation_data, rng, verbose=True):
    history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
    bar = tqdm(range(1, epochs + 1), desc="training", unit="epoch", disable=not verbose)
    for _ in bar:
        loss, acc = train_epoch(layers, x, y, optimizer, batch_size, rng)
        val_loss, val_acc = evaluate(layers, *validation_data)
        for key, value in zip(history, (loss, acc, val_loss, val_acc)):
            history[key].append(value)
        bar.set_postfix(loss=f"{loss:.4f}", val_accuracy=f"{val_acc:.4f}")
    return history


# --- minibatches ----------------------------------------------------------------------------------
def test_minibatches_reference_passes():
    result = check_minibatches(minibatches)
    assert result.ok and result.message.startswith("✅"), result.message


def test_minibatches_nnlib_passes():
    assert check_minibatches(nnlib_minibatches).ok


def as_list(x, y, batch_size, rng):
    return list(minibatches(x, y, batch_size, rng))


def as_tuple(x, y, batch_size, rng):
    return tuple(minibatches(x, y, batch_size, rng))


def as_iterator(x, y, batch_size, rng):
    return iter(as_list(x, y, batch_size, rng))


@pytest.mark.parametrize("wrong, kind", [(as_list, "list"), (as_tuple, "tuple"),
                                         (as_iterator, "list_iterator")],
                         ids=["list", "tuple", "iterator"])
def test_minibatches_that_is_not_a_generator_fails(wrong, kind):
    result = check_minibatches(wrong)
    assert_named(result, f"it returned a {kind}, not a generator")
    assert "yield" in result.hint and "yield x[idx], y[idx]" in result.fix


def test_minibatches_as_a_generator_expression_passes():
    def expression(x, y, batch_size, rng):
        order = rng.permutation(len(x))
        return ((x[order[s:s + batch_size]], y[order[s:s + batch_size]])
                for s in range(0, len(x), batch_size))

    assert check_minibatches(expression).ok


def test_minibatches_not_implemented_is_pending():
    result = check_minibatches(not_implemented)
    assert not result.ok and result.message.startswith("⏳")


def unshuffled(x, y, batch_size, rng):
    for start in range(0, len(x), batch_size):
        yield x[start:start + batch_size], y[start:start + batch_size]


def drops_last(x, y, batch_size, rng):
    order = rng.permutation(len(x))
    for start in range(0, len(x) - batch_size + 1, batch_size):
        idx = order[start:start + batch_size]
        yield x[idx], y[idx]


def empty_last(x, y, batch_size, rng):
    order = rng.permutation(len(x))
    for start in range(0, len(x) + batch_size, batch_size):
        idx = order[start:start + batch_size]
        yield x[idx], y[idx]


def separate_shuffles(x, y, batch_size, rng):
    x, y = rng.permutation(x), rng.permutation(y)
    for start in range(0, len(x), batch_size):
        yield x[start:start + batch_size], y[start:start + batch_size]


def with_replacement(x, y, batch_size, rng):
    order = rng.integers(0, len(x), len(x))
    for start in range(0, len(x), batch_size):
        idx = order[start:start + batch_size]
        yield x[idx], y[idx]


def global_random(x, y, batch_size, rng):
    order = np.random.permutation(len(x))
    for start in range(0, len(x), batch_size):
        idx = order[start:start + batch_size]
        yield x[idx], y[idx]


def own_seed(x, y, batch_size, rng):
    yield from minibatches(x, y, batch_size, np.random.default_rng(42))


def copied_rng(x, y, batch_size, rng):
    yield from minibatches(x, y, batch_size, copy.deepcopy(rng))


def shuffles_in_place(x, y, batch_size, rng):
    idx = rng.permutation(len(x))
    x[:], y[:] = x[idx], y[idx]
    for start in range(0, len(x), batch_size):
        yield x[start:start + batch_size], y[start:start + batch_size]


def shuffles_batch_order(x, y, batch_size, rng):
    starts = list(range(0, len(x), batch_size))
    for k in rng.permutation(len(starts)):
        yield x[starts[k]:starts[k] + batch_size], y[starts[k]:starts[k] + batch_size]


def one_batch(x, y, batch_size, rng):
    idx = rng.permutation(len(x))
    yield x[idx], y[idx]


@pytest.mark.parametrize("wrong, words", [
    (unshuffled, "original order"),
    (drops_last, "last, smaller batch"),
    (empty_last, "empty batch"),
    (separate_shuffles, "shuffled differently"),
    (with_replacement, "more than once"),
    (global_random, "same seed gave a different order"),
    (own_seed, "different rngs gave the same order"),
    (copied_rng, "two epochs with the same generator"),
    (shuffles_in_place, "in place"),
    (shuffles_batch_order, "neighbouring examples"),
    (one_batch, "one batch with all"),
], ids=["unshuffled", "drops-last", "empty-last", "separate-shuffles", "with-replacement",
        "global-random", "own-seed", "copied-rng", "in-place", "batch-order-only", "one-batch"])
def test_minibatches_names_the_mistake(wrong, words):
    assert_named(check_minibatches(wrong), words)


# --- train_step -----------------------------------------------------------------------------------
def test_train_step_reference_passes():
    result = check_train_step(train_step)
    assert result.ok and result.message.startswith("✅"), result.message


def test_train_step_not_implemented_is_pending():
    result = check_train_step(not_implemented)
    assert not result.ok and result.message.startswith("⏳")


def no_step(layers, x, y, optimizer):
    logits = forward(layers, x)
    grad = loss_fn.backward(logits, y)
    for layer in reversed(layers):
        grad = layer.backward(grad)
    return loss_fn.forward(logits, y), accuracy(logits, y)


def step_before_backward(layers, x, y, optimizer):
    logits = forward(layers, x)
    optimizer.step(layers)
    grad = loss_fn.backward(logits, y)
    for layer in reversed(layers):
        grad = layer.backward(grad)
    return loss_fn.forward(logits, y), accuracy(logits, y)


def step_inside_backward_loop(layers, x, y, optimizer):
    logits = forward(layers, x)
    grad = loss_fn.backward(logits, y)
    for layer in reversed(layers):
        grad = layer.backward(grad)
        optimizer.step(layers)
    return loss_fn.forward(logits, y), accuracy(logits, y)


def backward_in_forward_order(layers, x, y, optimizer):
    logits = forward(layers, x)
    grad = loss_fn.backward(logits, y)
    for layer in layers:
        grad = layer.backward(grad)
    optimizer.step(layers)
    return loss_fn.forward(logits, y), accuracy(logits, y)


def gradient_not_chained(layers, x, y, optimizer):
    logits = forward(layers, x)
    grad = loss_fn.backward(logits, y)
    for layer in reversed(layers):
        layer.backward(grad)
    optimizer.step(layers)
    return loss_fn.forward(logits, y), accuracy(logits, y)


def skips_relu(layers, x, y, optimizer):
    logits = forward(layers, x)
    grad = loss_fn.backward(logits, y)
    for layer in reversed(layers):
        if layer.param_names:
            grad = layer.backward(grad)
    optimizer.step(layers)
    return loss_fn.forward(logits, y), accuracy(logits, y)


def loss_after_update(layers, x, y, optimizer):
    train_step(layers, x, y, optimizer)
    return evaluate(layers, x, y)


def swapped(layers, x, y, optimizer):
    loss, acc = train_step(layers, x, y, optimizer)
    return acc, loss


def summed_loss(layers, x, y, optimizer):
    loss, acc = train_step(layers, x, y, optimizer)
    return loss * len(x), acc


def last_layer_only(layers, x, y, optimizer):
    logits = forward(layers, x)
    grad = loss_fn.backward(logits, y)
    for layer in reversed(layers):
        grad = layer.backward(grad)
    optimizer.step(layers[-1:])
    return loss_fn.forward(logits, y), accuracy(logits, y)


def returns_nothing(layers, x, y, optimizer):
    train_step(layers, x, y, optimizer)


def centres_x_in_place(layers, x, y, optimizer):
    x -= x.mean(axis=0)
    return train_step(layers, x, y, optimizer)


@pytest.mark.parametrize("wrong, words", [
    (no_step, "the optimizer never stepped"),
    (step_before_backward, "BEFORE backward"),
    (step_inside_backward_loop, "stepped 3 times for one batch"),
    (backward_in_forward_order, "REVERSE order"),
    (gradient_not_chained, "REVERSE order"),
    (skips_relu, "the ReLU included"),
    (loss_after_update, "AFTER the update"),
    (swapped, "(accuracy, loss)"),
    (summed_loss, "SUM"),
    (last_layer_only, "not given every layer"),
    (returns_nothing, "two numbers"),
    (centres_x_in_place, "in place"),
], ids=["no-step", "step-before-backward", "step-inside-backward", "forward-order",
        "not-chained", "skips-relu", "loss-after-update", "swapped", "summed-loss",
        "last-layer-only", "returns-nothing", "mutates-x"])
def test_train_step_names_the_mistake(wrong, words):
    assert_named(check_train_step(wrong), words)


# --- train_epoch ----------------------------------------------------------------------------------
def test_train_epoch_reference_passes():
    result = check_train_epoch(train_epoch)
    assert result.ok and result.message.startswith("✅"), result.message


def test_train_epoch_not_implemented_is_pending():
    result = check_train_epoch(not_implemented)
    assert not result.ok and result.message.startswith("⏳")


def epoch_with(average=None, batches=minibatches, step=train_step, after=None):
    """A train_epoch that collects per-batch (loss, acc, size) and combines them with average."""
    def wrong_epoch(layers, x, y, optimizer, batch_size, rng):
        seen = [(*step(layers, xb, yb, optimizer), len(xb))
                for xb, yb in batches(x, y, batch_size, rng)]
        if after is not None:
            return after(layers, x, y)
        return average(seen, len(x))
    return wrong_epoch


def weighted(seen, n):
    return (sum(l * k for l, _, k in seen) / n, sum(a * k for _, a, k in seen) / n)


def full_batch(layers, x, y, optimizer, batch_size, rng):
    return train_step(layers, x, y, optimizer)


def ignores_rng(layers, x, y, optimizer, batch_size, rng):
    return train_epoch(layers, x, y, optimizer, batch_size, np.random.default_rng(0))


def forward_only(layers, x, y, optimizer):
    return evaluate(layers, x, y)


@pytest.mark.parametrize("wrong, words", [
    (full_batch, "in ONE batch"),
    (epoch_with(lambda s, n: (np.mean([l for l, _, _ in s]), np.mean([a for _, a, _ in s]))),
     "plain mean"),
    (epoch_with(lambda s, n: s[-1][:2]), "last batch only"),
    (epoch_with(lambda s, n: (sum(l for l, _, _ in s), weighted(s, n)[1])), "SUM"),
    (epoch_with(lambda s, n: (sum(l * k for l, _, k in s), weighted(s, n)[1])),
     "forgot to divide"),
    (epoch_with(lambda s, n: (sum(l * k for l, _, k in s) / len(s), weighted(s, n)[1])),
     "number of batches"),
    (epoch_with(lambda s, n: (weighted(s, n)[0], np.mean([a for _, a, _ in s]))),
     "accuracy is the plain mean"),
    (epoch_with(lambda s, n: weighted(s, n)[::-1]), "(accuracy, loss)"),
    (epoch_with(after=evaluate), "once more"),
    (epoch_with(weighted, batches=unshuffled), "original order"),
    (epoch_with(weighted, batches=drops_last), "last, smaller batch"),
    (epoch_with(weighted, batches=global_random), "same seed gave a different order"),
    (ignores_rng, "different rngs gave the same order"),
    (epoch_with(weighted, step=forward_only), "never stepped"),
    (epoch_with(weighted, step=step_before_backward), "differ from one train_step per batch"),
], ids=["full-batch", "unweighted-mean", "last-batch", "sum", "not-divided",
        "divided-by-batches", "unweighted-accuracy", "swapped", "extra-full-pass", "unshuffled",
        "drops-last", "global-random", "ignores-rng", "no-step", "step-before-backward"])
def test_train_epoch_names_the_mistake(wrong, words):
    assert_named(check_train_epoch(wrong), words)


def weighted_by_batch_size(which):
    """train_epoch weighting the loss (which = 0) or the accuracy (1) of every batch by
    batch_size instead of the size of that batch."""
    def wrong_epoch(layers, x, y, optimizer, batch_size, rng):
        totals = [0.0, 0.0]
        for xb, yb in minibatches(x, y, batch_size, rng):
            for k, value in enumerate(train_step(layers, xb, yb, optimizer)):
                totals[k] += value * (batch_size if k == which else len(xb))
        return totals[0] / len(x), totals[1] / len(x)
    return wrong_epoch


@pytest.mark.parametrize("which, name", [(0, "loss"), (1, "accuracy")])
def test_train_epoch_weighted_by_batch_size_names_the_small_last_batch(which, name):
    result = check_train_epoch(weighted_by_batch_size(which))
    assert_named(result, f"the epoch's {name} weights every batch by the full batch size, 16")
    assert_named(result, "the last batch holds only 2 examples")
    assert "len(xb)" in result.fix and "batch_size" in result.hint


def test_train_epoch_failure_has_the_exercises_hint_and_fix():
    result = check_train_epoch(epoch_with(lambda s, n: (0.123, 0.5)))
    assert_named(result, "the epoch's loss")
    assert "total_loss / len(x)" in result.fix


# --- fit ------------------------------------------------------------------------------------------
def test_fit_reference_passes():
    result = check_fit(fit)
    assert result.ok and result.message.startswith("✅"), result.message


def test_fit_check_prints_only_its_own_line(capsys):
    check_fit(fit)
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and out.startswith("✅"), out
    assert err == ""


@pytest.fixture
def jupyter_display(monkeypatch):
    """A stand-in for the Jupyter shell: what display() (and so tqdm's widget) publishes goes
    through shell.display_pub, which the check swaps for a capturing one."""
    import IPython.core.getipython

    shell = types.SimpleNamespace(display_pub=None)
    monkeypatch.setattr(IPython.core.getipython, "get_ipython", lambda: shell)

    def show(text):
        shell.display_pub.publish({"text/plain": text})
    return show


def test_fit_showing_a_widget_with_verbose_false_fails(jupyter_display):
    def widget_always(layers, x, y, optimizer, *, verbose=True, **kwargs):
        jupyter_display("training:   0%|          | 0/3")
        return fit(layers, x, y, optimizer, verbose=False, **kwargs)

    assert_named(check_fit(widget_always), "with verbose set to False it still displayed something")


def test_fit_showing_a_widget_only_if_verbose_passes(jupyter_display):
    def widget_if_verbose(layers, x, y, optimizer, *, verbose=True, **kwargs):
        if verbose:
            jupyter_display("training:   0%|          | 0/3")
        return fit(layers, x, y, optimizer, verbose=False, **kwargs)

    result = check_fit(widget_if_verbose)
    assert result.ok, result.message


def test_fit_printing_only_if_verbose_passes():
    def prints_if_verbose(layers, x, y, optimizer, *, verbose=True, **kwargs):
        history = fit(layers, x, y, optimizer, verbose=False, **kwargs)
        if verbose:
            print(f"validation accuracy {history['val_accuracy'][-1]:.2%}")
        return history

    assert check_fit(prints_if_verbose).ok


def test_fit_not_implemented_is_pending():
    result = check_fit(not_implemented)
    assert not result.ok and result.message.startswith("⏳")


def fit_with(validate=evaluate, new_rng_each_epoch=False, epochs_offset=0, keys=None,
             validate_first=False, train_values_from_val=False):
    def wrong_fit(layers, x, y, optimizer, *, epochs, batch_size, validation_data, rng,
                  verbose=True):
        history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
        for _ in range(epochs + epochs_offset):
            if validate_first:
                val_loss, val_acc = validate(layers, *validation_data)
            epoch_rng = np.random.default_rng(0) if new_rng_each_epoch else rng
            loss, acc = train_epoch(layers, x, y, optimizer, batch_size, epoch_rng)
            if not validate_first:
                val_loss, val_acc = validate(layers, *validation_data)
            if train_values_from_val:
                loss, acc = val_loss, val_acc
            for key, value in zip(history, (loss, acc, val_loss, val_acc)):
                history[key].append(value)
        if keys is not None:
            return {k: v for k, v in history.items() if k in keys}
        return history
    return wrong_fit


def fit_history_after_loop(layers, x, y, optimizer, *, epochs, batch_size, validation_data,
                           rng, verbose=True):
    for _ in range(epochs):
        loss, acc = train_epoch(layers, x, y, optimizer, batch_size, rng)
    val_loss, val_acc = evaluate(layers, *validation_data)
    return {"loss": [loss], "accuracy": [acc], "val_loss": [val_loss], "val_accuracy": [val_acc]}


def fit_on_training_data(layers, x, y, optimizer, *, epochs, batch_size, validation_data, rng,
                         verbose=True):
    return fit_with(validate=lambda layers, *_: evaluate(layers, x, y))(
        layers, x, y, optimizer, epochs=epochs, batch_size=batch_size,
        validation_data=validation_data, rng=rng)


def returns_none(layers, x, y, optimizer, **kwargs):
    fit(layers, x, y, optimizer, **kwargs)


def bar_always(layers, x, y, optimizer, *, verbose=True, **kwargs):
    return fit(layers, x, y, optimizer, verbose=True, **kwargs)


def bar_never(layers, x, y, optimizer, *, verbose=True, **kwargs):
    return fit(layers, x, y, optimizer, verbose=False, **kwargs)


def bar_inverted(layers, x, y, optimizer, *, verbose=True, **kwargs):
    return fit(layers, x, y, optimizer, verbose=not verbose, **kwargs)


def prints_every_epoch(layers, x, y, optimizer, *, epochs, verbose=True, **kwargs):
    history = fit(layers, x, y, optimizer, epochs=epochs, verbose=False, **kwargs)
    for epoch in range(epochs):
        print(f"epoch {epoch + 1}: loss {history['loss'][epoch]:.4f}")
    return history


def displays_always(layers, x, y, optimizer, *, verbose=True, **kwargs):
    from IPython.display import display
    display("training …")
    return fit(layers, x, y, optimizer, verbose=False, **kwargs)


@pytest.mark.parametrize("wrong, words", [
    (fit_with(keys=("loss", "accuracy")), "no key 'val_loss'"),
    (fit_history_after_loop, "1 value for 3 epochs"),
    (fit_with(epochs_offset=-1), "2 values for 3 epochs"),
    (fit_with(validate_first=True), "BEFORE each epoch"),
    (fit_on_training_data, "TRAINING data"),
    (fit_with(validate=lambda layers, x, y: evaluate(layers, x, y)[::-1]), "swapped"),
    (fit_with(new_rng_each_epoch=True), "same order of examples"),
    (fit_with(train_values_from_val=True), "VALIDATION values"),
    (returns_none, "as a dict"),
    (bar_always, "with verbose set to False it still wrote to stderr"),
    (bar_inverted, "with verbose set to False it still wrote to stderr"),
    (prints_every_epoch, "with verbose set to False it still printed 'epoch 1: loss"),
    (displays_always, "with verbose set to False it still printed 'training …'"),
    (bar_never, "with verbose set to True it showed nothing"),
], ids=["missing-keys", "history-after-loop", "one-epoch-short", "validates-first",
        "validates-on-train", "val-swapped", "new-rng-each-epoch", "train-from-val",
        "returns-none", "bar-always", "bar-inverted", "prints-always", "displays-always",
        "bar-never"])
def test_fit_names_the_mistake(wrong, words):
    assert_named(check_fit(wrong), words)


# --- odd return values are named, never a crash of the check --------------------------------------
def yields_triples(x, y, batch_size, rng):
    for xb, yb in minibatches(x, y, batch_size, rng):
        yield xb, yb, len(xb)


def yields_indices(x, y, batch_size, rng):
    order = rng.permutation(len(x))
    for start in range(0, len(x), batch_size):
        yield order[start:start + batch_size]


def yields_label_scalars(x, y, batch_size, rng):
    for xb, yb in minibatches(x, y, batch_size, rng):
        yield xb, 0


@pytest.mark.parametrize("wrong, words", [
    (yields_triples, "must come out as a pair"),
    (yields_indices, "must come out as a pair"),
    (yields_label_scalars, "a y_batch has shape ()"),
], ids=["triples", "indices", "scalar-labels"])
def test_minibatches_with_odd_items_is_named(wrong, words):
    result = check_minibatches(wrong)
    assert result.status == "fail"
    assert_named(result, words)


def step_returning(value):
    def wrong_step(layers, x, y, optimizer):
        train_step(layers, x, y, optimizer)
        return value
    return wrong_step


@pytest.mark.parametrize("value, words", [
    (("low", "high"), "should be a number, got str"),
    ((None, 0.5), "the returned loss is None"),
    ((np.zeros(3), 0.5), "should be one number, got an array of shape (3,)"),
    ((1.0, 0.5, 7), "it returned a tuple of 3 items"),
    ({"loss": 1.0}, "it returned a dict"),
], ids=["strings", "none-inside", "array", "three", "dict"])
def test_train_step_with_an_odd_return_value_is_named(value, words):
    result = check_train_step(step_returning(value))
    assert result.status == "fail"
    assert_named(result, words)


def test_train_epoch_returning_nothing_is_named():
    result = check_train_epoch(epoch_with(lambda s, n: None))
    assert result.status == "fail"
    assert_named(result, "it returned nothing (None)")


def fit_returning(make):
    def wrong_fit(layers, x, y, optimizer, **kwargs):
        return make(fit(layers, x, y, optimizer, **kwargs))
    return wrong_fit


@pytest.mark.parametrize("make, words", [
    (lambda h: {k: "0.5" * len(v) for k, v in h.items()}, "entry should be a list"),
    (lambda h: {k: [str(x) for x in v] for k, v in h.items()}, "should be a number, got str"),
    (lambda h: {k: 0.5 for k in h}, "entry should be a list with one value per epoch"),
    (lambda h: list(h.values()), "as a dict of four lists, got a list"),
], ids=["strings", "string-values", "numbers", "list"])
def test_fit_with_an_odd_history_is_named(make, words):
    result = check_fit(fit_returning(make))
    assert result.status == "fail"
    assert_named(result, words)


def test_every_failure_of_the_chapter_offers_a_hint_and_the_code():
    for check, wrong in [(check_minibatches, unshuffled), (check_train_step, no_step),
                         (check_train_epoch, full_batch), (check_fit, bar_never)]:
        result = check(wrong)
        assert result.hint and result.fix, result.message
        assert "def " not in result.message and "yield" not in result.message.split(":", 1)[1]


def test_each_fix_is_the_solution_notebooks_code():
    path = Path(__file__).resolve().parent.parent / "solutions" / "08_training_loop.ipynb"
    solutions = {}
    for cell in nbformat.read(path, as_version=4).cells:
        lines = cell.source.splitlines()
        if cell.cell_type == "code" and "    ### BEGIN SOLUTION" in lines:
            region = lines[lines.index("    ### BEGIN SOLUTION") + 1:
                           lines.index("    ### END SOLUTION")]
            solutions[lines[0][4:lines[0].index("(")]] = "\n".join([lines[0]] + region)
    assert solutions == {"minibatches": ch08.MINIBATCHES_FIX, "train_step": ch08.TRAIN_STEP_FIX,
                         "train_epoch": ch08.TRAIN_EPOCH_FIX, "fit": ch08.FIT_FIX}
