"""Checks for chapter 04: the CategoricalCrossEntropy loss and accuracy."""

import numpy as np

from ..activations import softmax
from ..data import one_hot
from ..losses import CategoricalCrossEntropy as ReferenceCrossEntropy
from ..losses import accuracy as reference_accuracy
from ._core import Mistake, Problem, call, check, expect_scalar, rng_for_checks

LOSS_FIX = ("class CategoricalCrossEntropy:\n    def __init__(self, eps=1e-7):\n"
            "        self.eps = eps\n\n    def forward(self, y_pred, y_true):\n"
            "        if y_true.ndim == 2:\n            y_true = y_true.argmax(axis=1)\n"
            "        p_true = y_pred[np.arange(len(y_pred)), y_true]\n"
            "        p_true = np.clip(p_true, self.eps, 1 - self.eps)\n"
            "        return -np.mean(np.log(p_true))")
LOSS_LINE = "return -np.mean(np.log(p_true))"
PICK_TRUE = "p_true = y_pred[np.arange(len(y_pred)), y_true]   # one entry per row"
FROM_ONE_HOT = "if y_true.ndim == 2:\n    y_true = y_true.argmax(axis=1)   # one-hot rows -> ids"
CLIP = "p_true = np.clip(p_true, self.eps, 1 - self.eps)   # before the log"
ONLY_TRUE_CLASS = ("L = −(1/N) Σₙ ln pₙ,yₙ: of each row only one probability counts, the one "
                   "the network gave the right answer.")
ONE_PER_ROW = ("Pick one entry per row: pair the row numbers 0..N−1 with the labels, two index "
               "arrays of the same length.")
ONE_HOT_IDS = ("Tell the two label formats apart by the number of dimensions of y_true: 1 for "
               "class ids, 2 for one-hot rows. The position of the 1 in a one-hot row is its "
               "class id.")
NATURAL_LOG = "Cross-entropy uses the natural logarithm, ln, whose base is e."


def _probabilities(rng, n, c, scale=2.0):
    return softmax(rng.standard_normal((n, c)) * scale)


def _loss_mistakes(p, y):
    """The wrong losses the usual mistakes give, each with its three tiers."""
    n, c = p.shape
    picked = p[np.arange(n), y]
    loss = -np.log(picked).mean()
    return [
        Mistake(loss * n, "the loss is N times too large: you summed over the batch; the loss "
                "is the MEAN over the examples", "A mean keeps the loss comparable between "
                "batches of different sizes.", LOSS_LINE + "   # a mean, not a sum"),
        Mistake(-loss, "the loss is negative, and so is ln p for every probability below 1: you "
                "are missing the minus sign",
                "−ln p is 0 for a certain right answer and grows as p shrinks.", LOSS_LINE),
        Mistake(loss / c, f"the loss is {c} (the number of classes) times too small: you "
                "averaged over all N·C entries, so the zeros of each one-hot row were counted "
                "like examples", "The textbook formula sums over the classes and averages over "
                "the examples only.", LOSS_LINE),
        Mistake(-np.log(p).mean(), "you averaged −log over ALL entries of y_pred; only the "
                "probability of the TRUE class of each row counts", ONLY_TRUE_CLASS, PICK_TRUE),
        Mistake(-np.log(p).sum(axis=1).mean(), "you summed −log over all classes of each row; "
                "only the probability of the TRUE class counts", ONLY_TRUE_CLASS, PICK_TRUE),
        Mistake(-np.log10(picked).mean(), "you used log10; cross-entropy uses the natural log",
                NATURAL_LOG, LOSS_LINE),
        Mistake(-np.log2(picked).mean(), "you used log2; cross-entropy uses the natural log",
                NATURAL_LOG, LOSS_LINE),
        Mistake(-np.log(p[np.arange(n), p.argmax(axis=1)]).mean(),
                "you took the probability of the PREDICTED class (the largest of each row); the "
                "loss needs the probability of the TRUE class", ONLY_TRUE_CLASS, PICK_TRUE),
        *([Mistake(-np.log(p[y, np.arange(n)]).mean(),
                   "you indexed with the labels as ROWS and the example numbers as columns; rows "
                   "are examples and columns are classes", ONE_PER_ROW, PICK_TRUE)]
          if n == c else []),
        Mistake(-picked.mean(), "you forgot the log: you averaged the probabilities themselves",
                ONLY_TRUE_CLASS, LOSS_LINE),
        Mistake(np.log(picked).mean() * -1 / n, "the loss is divided by N twice",
                "A mean already divides by N.", LOSS_LINE),
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
    why = ("one-hot labels are rows of C numbers, not class ids" if kind == "one-hot" else
           "each integer label is the class id of one row and picks one probability of it")
    return Problem(f"forward fails on {kind} labels of shape {labels.shape} "
                   f"({type(err).__name__}: {str(err).splitlines()[0]}): {why}",
                   ONE_HOT_IDS if kind == "one-hot" else ONE_PER_ROW,
                   FROM_ONE_HOT if kind == "one-hot" else PICK_TRUE)


@check("CategoricalCrossEntropy", hint="L = −(1/N) Σₙ ln pₙ,yₙ: for each row take the "
       "probability of its TRUE class, clip it to [ε, 1 − ε], take −ln, and average over the N "
       "examples; one-hot labels first become class ids.", fix=LOSS_FIX)
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
                raise Problem("the loss is right for one-hot labels but not for integer class "
                              f"ids of shape {y.shape}", ONE_PER_ROW, PICK_TRUE)
            if err is not None:
                raise _failed("integer", y, err)
            per_example = -np.log(np.clip(p[np.arange(n), y], 1e-7, 1 - 1e-7))
            if n > 1 and np.shape(out) == (n,) and np.allclose(out, per_example):
                raise Problem(f"you returned one loss per example, shape ({n},); the loss of a "
                              "batch is a single number, the mean of those", "Training follows "
                              "one number downhill.", LOSS_LINE)
            expect_scalar(out, expected, f"loss for {n} examples, integer labels", mistakes)
        if hot_err is not None:
            raise _failed("one-hot", hot, hot_err)
        if not _matches(hot_out, expected):
            for m in mistakes:
                if _matches(hot_out, m.wrong):
                    raise Problem(f"{m.says} (with one-hot labels)", m.hint, m.fix)
            if hot_out is None or np.size(hot_out) != 1:
                expect_scalar(hot_out, expected, f"loss for {n} examples, one-hot labels")
            raise Problem("the loss is right for integer labels, but for one-hot labels it is "
                          f"{float(np.asarray(hot_out).reshape(())):.6g}, expected "
                          f"{expected:.6g}", ONE_HOT_IDS, FROM_ONE_HOT)

    # probabilities of exactly 0 and 1: log(0) = -inf unless clipped
    p = np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    y = np.array([0, 2, 0])
    expected = reference.forward(p, y)
    wrong_eps = [Mistake(float(-np.log(np.clip(p[np.arange(3), y], eps, 1)).mean()),
                         f"you clipped at {eps:g}, not at the ε the loss stores (1e-7), so a "
                         "probability of 0 gives another loss", "The loss's own ε is set in "
                         "its constructor; use that one, not a constant of your own.", CLIP)
                 for eps in (1e-15, 1e-12, 1e-10, 1e-8, 1e-6, 1e-5)]
    for labels, kind in ((y, "integer"), (one_hot(y, 3, dtype=np.float64), "one-hot")):
        with np.errstate(divide="ignore", invalid="ignore"):
            out, err = _attempt(loss_fn, p, labels)
        if err is not None:
            raise _failed(kind, labels, err)
        expect_scalar(out, expected, f"loss when the true class has probability 0 ({kind} "
                      "labels)", atol=1e-6, mistakes=[
                          Mistake(None, "the loss is inf (or nan) when a probability is 0, "
                                  "because log(0) = −inf (and 0 · log 0 = nan): the "
                                  "probabilities were not clipped", "Clip every probability "
                                  "into [ε, 1 − ε] before the log; the worst loss of one "
                                  "example is then −ln ε, large but finite.", CLIP),
                          *wrong_eps])
    return "mean −log p(true class), clipped, for integer and one-hot labels"


ACCURACY_FIX = ('def accuracy(y_pred, y_true):\n    if y_true.ndim == 2:\n'
                '        y_true = y_true.argmax(axis=1)\n'
                '    return np.mean(y_pred.argmax(axis=1) == y_true)')
ACCURACY_LINE = "return np.mean(y_pred.argmax(axis=1) == y_true)"
PREDICTED_CLASS = ("The predicted class of a row is the POSITION of its largest entry along the "
                   "classes, not the largest value itself.")


@check("accuracy", hint="The fraction of the N rows whose largest entry sits in the column of "
       "the true class; one-hot labels first become class ids.", fix=ACCURACY_FIX)
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
                raise Problem(f"accuracy fails on {kind} labels of shape {labels.shape} "
                              f"({type(err).__name__}: {str(err).splitlines()[0]})",
                              ONE_HOT_IDS if kind == "one-hot" else PREDICTED_CLASS,
                              FROM_ONE_HOT if kind == "one-hot" else ACCURACY_LINE) from None
            predicted = p.argmax(axis=1)
            mistakes = [
                Mistake(float((predicted == y).sum()), "you counted the correct predictions; "
                        "accuracy is their FRACTION of the N examples", "Counting the True "
                        "values and dividing by N is the same as their mean.", ACCURACY_LINE),
                Mistake(100 * expected, "you returned a percentage; accuracy is a fraction "
                        "between 0 and 1", "Format it as a percentage only when you print it.",
                        ACCURACY_LINE),
                Mistake(1 - expected, "you returned the error rate, the fraction WRONG; "
                        "accuracy is the fraction CORRECT", "Compare for equality.",
                        ACCURACY_LINE),
                Mistake(float((p.max(axis=1) == y).mean()), "you compared the largest "
                        "PROBABILITY with the label; the prediction is the POSITION of the "
                        "largest entry, its class", PREDICTED_CLASS, ACCURACY_LINE),
            ]
            if n == c:
                mistakes.append(Mistake(float((p.argmax(axis=0) == y).mean()),
                                        "you took the largest entry of each column, one per "
                                        "class; each example is a ROW, so its prediction is the "
                                        "largest entry of its row", PREDICTED_CLASS,
                                        ACCURACY_LINE + "   # axis 1: along each row"))
            if kind == "one-hot" and n == c:
                mistakes.append(Mistake(float((predicted == labels).mean()),
                                        "with one-hot labels you compared the predicted class "
                                        "ids with the one-hot rows themselves; each row must "
                                        "first become its class id", ONE_HOT_IDS, FROM_ONE_HOT))
            expect_scalar(out, expected, f"accuracy on {n} examples with {kind} labels",
                          mistakes=mistakes)
    return "fraction of rows whose argmax is the true class, integer or one-hot labels"
