"""Checks for chapter 04: the CategoricalCrossEntropy loss and accuracy."""

import numpy as np

from ..activations import softmax
from ..data import one_hot
from ..losses import CategoricalCrossEntropy as ReferenceCrossEntropy
from ..losses import accuracy as reference_accuracy
from ._core import Problem, call, check, expect_scalar, rng_for_checks


def _probabilities(rng, n, c, scale=2.0):
    return softmax(rng.standard_normal((n, c)) * scale)


def _loss_mistakes(p, y):
    """(wrong value, explanation) for the usual ways cross-entropy goes wrong."""
    n, c = p.shape
    picked = p[np.arange(n), y]
    loss = -np.log(picked).mean()
    return [
        (loss * n, "the loss is N times too large: you summed over the batch; take the MEAN "
                   "over examples"),
        (-loss, "the loss is negative: cross-entropy is −log p, and log p < 0, so you are "
                "missing the minus sign"),
        (loss / c, f"the loss is {c} (the number of classes) times too small: you averaged "
                   "y_true·log(y_pred) over all N·C entries; sum over classes, then average over "
                   "the N examples"),
        (-np.log(p).mean(), "you averaged −log over ALL entries of y_pred; take only the "
                            "probability of the TRUE class of each row, y_pred[np.arange(N), y]"),
        (-np.log(p).sum(axis=1).mean(), "you summed −log over all classes of each row; take only "
                                        "the probability of the TRUE class"),
        (-np.log10(picked).mean(), "you used log10; cross-entropy uses the natural log, np.log"),
        (-np.log2(picked).mean(), "you used log2; cross-entropy uses the natural log, np.log"),
        (-np.log(p[np.arange(n), p.argmax(axis=1)]).mean(),
         "you took the probability of the PREDICTED class (argmax); take the TRUE class, "
         "y_pred[np.arange(N), y_true]"),
        *([(-np.log(p[y, np.arange(n)]).mean(),
            "you indexed y_pred[y_true, range(N)]: rows are examples, so it is "
            "y_pred[np.arange(N), y_true]")] if n == c else []),
        (-picked.mean(), "you forgot the log: the loss is −mean(log p_true)"),
        (np.log(picked).mean() * -1 / n, "the loss is divided by N twice: take .mean() once"),
    ]


def _attempt(loss_fn, y_pred, y_true):
    """(loss, None), or (None, error) when forward raises a NumPy indexing or shape error."""
    try:
        return call(loss_fn.forward, y_pred, y_true), None
    except (IndexError, ValueError, TypeError) as err:
        return None, err


def _matches(out, expected):
    return out is not None and np.size(out) == 1 and bool(
        np.isclose(float(np.asarray(out).reshape(())), expected, rtol=1e-5, atol=1e-7))


def _failed(kind, labels, err):
    how = ("when y_true.ndim == 2, turn it into class ids with y_true.argmax(axis=1) first"
           if kind == "one-hot" else
           "pick each row's true-class probability with y_pred[np.arange(N), y_true]")
    return Problem(f"forward fails on {kind} labels of shape {labels.shape} "
                   f"({type(err).__name__}: {str(err).splitlines()[0]}): {how}")


@check("CategoricalCrossEntropy")
def check_categorical_cross_entropy(CategoricalCrossEntropy):
    rng = rng_for_checks()
    loss_fn = CategoricalCrossEntropy()
    reference = ReferenceCrossEntropy()
    # N == C first, so that a swapped index still runs and can be named
    for n, c in ((5, 5), (8, 10), (1, 4)):
        p = _probabilities(rng, n, c)
        y = rng.integers(0, c, size=n)
        hot = one_hot(y, c, dtype=np.float64)
        expected = reference.forward(p, y)
        mistakes = _loss_mistakes(p, y)
        out, err = _attempt(loss_fn, p, y)
        hot_out, hot_err = _attempt(loss_fn, p, hot)
        if not _matches(out, expected):
            if _matches(hot_out, expected):
                raise Problem("the loss is right for one-hot labels but not for integer class ids "
                              f"of shape {y.shape}: when y_true.ndim == 1, pick each row's "
                              "true-class probability with y_pred[np.arange(N), y_true]")
            if err is not None:
                raise _failed("integer", y, err)
            expect_scalar(out, expected, f"loss for {n} examples, integer labels", mistakes)
        if hot_err is not None:
            raise _failed("one-hot", hot, hot_err)
        if not _matches(hot_out, expected):
            for wrong, why in mistakes:
                if _matches(hot_out, wrong):
                    raise Problem(f"{why} (with one-hot labels)")
            if hot_out is None or np.size(hot_out) != 1:
                expect_scalar(hot_out, expected, f"loss for {n} examples, one-hot labels")
            raise Problem("the loss is right for integer labels, but for one-hot labels it is "
                          f"{float(np.asarray(hot_out).reshape(())):.6g}, expected "
                          f"{expected:.6g}: when y_true.ndim == 2, turn it into class ids with "
                          "y_true.argmax(axis=1) first")

    # probabilities of exactly 0 and 1: log(0) = -inf unless clipped
    p = np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    y = np.array([0, 2, 0])
    expected = reference.forward(p, y)
    wrong_eps = [(float(-np.log(np.clip(p[np.arange(3), y], eps, 1)).mean()),
                  f"you clipped at {eps:g}; clip at self.eps (= 1e-7), which the loss stores")
                 for eps in (1e-15, 1e-12, 1e-10, 1e-8, 1e-6, 1e-5)]
    for labels, kind in ((y, "integer"), (one_hot(y, 3, dtype=np.float64), "one-hot")):
        with np.errstate(divide="ignore", invalid="ignore"):
            out, err = _attempt(loss_fn, p, labels)
        if err is not None:
            raise _failed(kind, labels, err)
        expect_scalar(out, expected, f"loss when the true class has probability 0 ({kind} "
                      "labels)", atol=1e-6, mistakes=[
                          (None, "the loss is inf (or nan) when a probability is 0, because "
                                 "log(0) = −inf (and 0 · log 0 = nan): clip the probabilities "
                                 "to [self.eps, 1 − self.eps] before the log"),
                          *wrong_eps])
    return "mean −log p(true class), clipped, for integer and one-hot labels"


@check("accuracy")
def check_accuracy(accuracy):
    rng = rng_for_checks()
    # N == C first, so that argmax over the wrong axis still runs and can be named
    for n, c in ((6, 6), (20, 10), (1, 3)):
        p = _probabilities(rng, n, c)
        guess = p.argmax(axis=1)
        # about half the labels agree with the prediction, the rest are off by one class
        y = np.where(rng.random(n) < 0.5, guess, (guess + 1) % c)
        if n == 1:
            y = guess
        for labels, kind in ((y, "integer"), (one_hot(y, c, dtype=np.float64), "one-hot")):
            expected = reference_accuracy(p, y)
            try:
                out = call(accuracy, p, labels)
            except (IndexError, ValueError) as err:
                hint = ("when y_true.ndim == 2, compare with y_true.argmax(axis=1)"
                        if kind == "one-hot" else "compare y_pred.argmax(axis=1) with y_true")
                raise Problem(f"accuracy fails on {kind} labels of shape {labels.shape} "
                              f"({type(err).__name__}: {str(err).splitlines()[0]}): {hint}") \
                    from None
            predicted = p.argmax(axis=1)
            mistakes = [
                (float((predicted == y).sum()), "you counted the correct predictions; divide by "
                                                "the number of examples (use .mean())"),
                (100 * expected, "you returned a percentage; return the fraction, between 0 and 1"),
                (1 - expected, "you returned the error rate; accuracy is the fraction CORRECT"),
                (float((p.max(axis=1) == y).mean()), "you compared the largest PROBABILITY with "
                                                     "the label; compare its index, "
                                                     "y_pred.argmax(axis=1)"),
            ]
            if n == c:
                mistakes.append((float((p.argmax(axis=0) == y).mean()),
                                 "argmax over axis=0 picks a row for each class; each example is "
                                 "a ROW, so use y_pred.argmax(axis=1)"))
            if kind == "one-hot" and n == c:
                mistakes.append((float((predicted == labels).mean()),
                                 "with one-hot labels, compare with y_true.argmax(axis=1), not "
                                 "with the one-hot rows themselves"))
            expect_scalar(out, expected, f"accuracy on {n} examples with {kind} labels",
                          mistakes=mistakes)
    return "fraction of rows whose argmax is the true class, integer or one-hot labels"
