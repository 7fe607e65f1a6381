"""Checks for chapter 09: the confusion matrix, per-class accuracy and the most confident mistakes.

Convention, as in the chapter: ``cm[i, j]`` counts the examples whose TRUE class is i and whose
PREDICTED class is j, so rows are true labels and columns are predictions.
"""

import numpy as np

from ..activations import softmax
from ._core import Problem, call, check, expect_array, rng_for_checks


def reference_confusion_matrix(y_true, y_pred, n_classes=10):
    """cm[i, j] = number of examples with true class i predicted as j; (n_classes, n_classes) ints."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def reference_per_class_accuracy(cm):
    """cm[i, i] / Σ_j cm[i, j] for every class i (nan for a class without examples); (n_classes,)."""
    cm = np.asarray(cm)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diagonal(cm) / cm.sum(axis=1)


def reference_most_confident_mistakes(probs, y_true, k):
    """Indices of the (at most) k wrong predictions with the highest predicted probability."""
    predicted, confidence = probs.argmax(axis=1), probs.max(axis=1)
    wrong = np.flatnonzero(predicted != y_true)
    return wrong[np.argsort(-confidence[wrong], kind="stable")[:k]]


# --- confusion_matrix -----------------------------------------------------------------------------

def _pad(cm, size):
    out = np.zeros((size, size), dtype=cm.dtype)
    out[:len(cm), :len(cm)] = cm
    return out


def _cm_mistakes(y_true, y_pred, n_classes):
    ref = reference_confusion_matrix(y_true, y_pred, n_classes)
    present = int(max(y_true.max(), y_pred.max())) + 1
    return [
        (ref.T, "rows and columns are swapped: row i must hold the examples whose TRUE class is "
                "i, column j those PREDICTED as j, so count into cm[true, pred] (you have "
                "cm[pred, true], the transpose)"),
        ((ref > 0).astype(np.int64),
         "every nonzero entry is 1: `cm[y_true, y_pred] += 1` counts a repeated (true, pred) pair "
         "only ONCE, because fancy-index assignment writes each position once; use "
         "np.add.at(cm, (y_true, y_pred), 1) or a loop over the examples"),
        (reference_confusion_matrix(y_true[:-1], y_pred[:-1], n_classes),
         f"the counts add up to {len(y_true) - 1}, not {len(y_true)}: the last example is "
         "missing (off by one: loop over range(len(y_true)), not range(len(y_true) - 1))"),
        (reference_confusion_matrix(y_true[1:], y_pred[1:], n_classes),
         f"the counts add up to {len(y_true) - 1}, not {len(y_true)}: the first example is "
         "missing (off by one: loop from index 0)"),
        (np.roll(ref, -1, axis=(0, 1)),
         "every count sits one row up and one column left: class ids start at 0, so class k "
         "goes to row/column k, not k − 1"),
        (_pad(ref, n_classes + 1), f"the matrix is {n_classes + 1}×{n_classes + 1}: classes "
                                   f"are 0..{n_classes - 1}, so it is n_classes × n_classes"),
        (ref[:n_classes - 1, :n_classes - 1],
         f"the matrix is {n_classes - 1}×{n_classes - 1}: classes are 0..{n_classes - 1}, so "
         "it is n_classes × n_classes"),
        (ref[:present, :present],
         f"the matrix is {present}×{present}, but n_classes is {n_classes}: classes that "
         "happen to be absent from these labels still get a row and a column; take the size "
         "from n_classes, not from the labels (labels.max() + 1 or len(np.unique(labels)))"),
    ]


def _check_cm(confusion_matrix, y_true, y_pred, n_classes, what):
    try:
        out = call(confusion_matrix, y_true, y_pred, n_classes)
    except IndexError as err:
        raise Problem(f"{what} raised IndexError ({str(err).splitlines()[0]}): class ids run "
                      "from 0 to n_classes − 1 and index the matrix directly, cm[true, pred], "
                      "in a matrix of shape (n_classes, n_classes)") from None
    expected = reference_confusion_matrix(y_true, y_pred, n_classes)
    expect_array(out, expected, what, mistakes=_cm_mistakes(y_true, y_pred, n_classes))
    if not np.issubdtype(np.asarray(out).dtype, np.integer):
        raise Problem(f"the matrix has dtype {np.asarray(out).dtype}: it holds counts, so make it "
                      "an integer array, e.g. np.zeros((n_classes, n_classes), dtype=int)")


@check("confusion_matrix")
def check_confusion_matrix(confusion_matrix):
    rng = rng_for_checks()
    # uint8 labels, like MNIST's; predictions as argmax gives them (int64); an uneven mix so that
    # the matrix is far from symmetric and many (true, pred) pairs repeat
    y_true = rng.integers(0, 10, size=300).astype(np.uint8)
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, 10, size=300))
    y_pred = np.where(y_pred == 3, 5, y_pred)
    _check_cm(confusion_matrix, y_true, y_pred, 10, "confusion_matrix for 300 examples")

    # classes 7, 8 and 9 never occur: the matrix must still be 10 × 10
    y_true = rng.integers(0, 7, size=50)
    y_pred = rng.integers(0, 7, size=50)
    _check_cm(confusion_matrix, y_true, y_pred, 10,
              "confusion_matrix when classes 7–9 do not occur")

    # another number of classes, and a batch of one
    y_true, y_pred = rng.integers(0, 3, size=40), rng.integers(0, 3, size=40)
    _check_cm(confusion_matrix, y_true, y_pred, 3, "confusion_matrix with n_classes=3")
    _check_cm(confusion_matrix, np.array([4]), np.array([2]), 5,
              "confusion_matrix of a single example (true 4, predicted 2)")
    return "rows are true classes, columns predictions, integer counts, n × n for n_classes"


# --- per_class_accuracy ---------------------------------------------------------------------------

def _accuracy_mistakes(cm):
    cm = cm.astype(np.float64)
    diag = np.diagonal(cm)
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = diag / cm.sum(axis=1)
        return [
            (diag / cm.sum(axis=0),
             "you divided by the column sums, i.e. by how often each class was PREDICTED (that "
             "is precision); per-class accuracy divides by how often each class truly occurs, "
             "the ROW sums: cm.sum(axis=1)"),
            (diag / cm.sum(), "you divided by the total number of examples; divide each class's "
                              "correct count by that class's own number of examples, "
                              "cm.sum(axis=1)"),
            (np.floor(ref), "every value is 0 or 1: `//` is integer division; use `/`"),
            (ref * 100, "these are percentages; return fractions between 0 and 1"),
            (np.full(len(cm), diag.sum() / cm.sum()),
             "every class gets the same number, the overall accuracy; compute one accuracy per "
             "class, diagonal / row sums"),
            (np.array(diag.sum() / cm.sum()),
             "you returned one number, the overall accuracy; return one accuracy per class, an "
             "array of shape (n_classes,)"),
            (diag[:, None] / cm.sum(axis=1, keepdims=True),
             "the result has shape (n, n): with keepdims=True the row sums are a column that "
             "broadcasts against the diagonal; use cm.sum(axis=1) without keepdims"),
            (diag / cm.sum(axis=1, keepdims=True),
             "the result has shape (n, n): with keepdims=True the row sums are a column that "
             "broadcasts against the diagonal; use cm.sum(axis=1) without keepdims"),
            (1 - ref, "you computed the error rate per class (1 − accuracy): the correct count "
                      "is on the diagonal, cm[i, i]"),
        ]


@check("per_class_accuracy")
def check_per_class_accuracy(per_class_accuracy):
    rng = rng_for_checks()
    for n in (10, 4):
        # a strong diagonal and uneven rows and columns, so rows ≠ columns ≠ total
        cm = rng.integers(0, 6, size=(n, n)) + np.diag(rng.integers(20, 60, size=n))
        cm[0, 1:] += 9
        with np.errstate(invalid="ignore", divide="ignore"):
            out = call(per_class_accuracy, cm)
        expect_array(out, reference_per_class_accuracy(cm), f"per_class_accuracy of a {n}×{n} "
                     "matrix", mistakes=_accuracy_mistakes(cm))

    # class 2 has no examples at all: its accuracy is undefined (nan), the others are unaffected
    cm = np.array([[8, 1, 0, 1], [2, 5, 0, 3], [0, 0, 0, 0], [1, 0, 0, 9]])
    with np.errstate(invalid="ignore", divide="ignore"):
        out = call(per_class_accuracy, cm)
    expected = reference_per_class_accuracy(cm)
    if out is None:
        raise Problem("per_class_accuracy returned None: did you forget `return`?")
    out = np.asarray(out, dtype=np.float64)
    if out.shape != expected.shape:
        expect_array(out, expected, "per_class_accuracy with an empty class",
                     mistakes=_accuracy_mistakes(cm))
    if not np.isnan(out[2]):
        raise Problem(f"class 2 has no examples (its row is all zeros), so its accuracy is "
                      f"undefined, but you return {out[2]:.6g}: return nan for it, which is what "
                      "0 / 0 gives in NumPy")
    keep = [0, 1, 3]
    expect_array(out[keep], expected[keep], "per_class_accuracy of the classes that do occur, "
                 "when another class has no examples", mistakes=[
                     (wrong[keep], why) for wrong, why in _accuracy_mistakes(cm)
                     if np.shape(wrong) == expected.shape])
    return "diagonal ÷ row sums (how often each TRUE class was recognised); nan for a class " \
           "without examples"


# --- most_confident_mistakes ----------------------------------------------------------------------

def _mistake_mistakes(probs, y_true, k):
    predicted, confidence = probs.argmax(axis=1), probs.max(axis=1)
    wrong = np.flatnonzero(predicted != y_true)
    order = np.argsort(-confidence[wrong], kind="stable")
    ref = wrong[order[:k]]
    true_p = probs[np.arange(len(probs)), y_true]
    return [
        (np.argsort(-confidence, kind="stable")[:k],
         "some of these predictions are correct: keep only the examples where "
         "probs.argmax(axis=1) != y_true, then rank those"),
        (wrong[np.argsort(confidence[wrong], kind="stable")[:k]],
         "these are the LEAST confident mistakes: sort by confidence in descending order "
         "(np.argsort(-confidence) or [::-1])"),
        (ref[::-1], "the right mistakes, but in ascending order: the most confident one must "
                    "come first"),
        (wrong[np.argsort(true_p[wrong], kind="stable")[:k]],
         "you ranked by the probability of the TRUE class; rank by the confidence of the "
         "prediction, the largest probability of each row, probs.max(axis=1)"),
        (order[:k], "these are positions in your list of mistakes, not indices into the data: "
                    "map them back, wrong[order[:k]]"),
        (wrong[order], f"you returned all {len(wrong)} mistakes: keep only the first k"),
        (wrong[:k], "these are the first k mistakes in data order; sort them by confidence, "
                    "highest first"),
        (confidence[ref], "these are the confidences; return the indices of the examples"),
    ]


@check("most_confident_mistakes")
def check_most_confident_mistakes(most_confident_mistakes):
    rng = rng_for_checks()
    for n, c, k in ((60, 5, 6), (200, 10, 16)):
        probs = softmax(rng.standard_normal((n, c)) * 3)
        y_true = rng.integers(0, c, size=n)
        out = call(most_confident_mistakes, probs, y_true, k)
        expect_array(out, reference_most_confident_mistakes(probs, y_true, k),
                     f"most_confident_mistakes(probs, y_true, k={k}) for {n} examples",
                     mistakes=_mistake_mistakes(probs, y_true, k), rtol=0, atol=0)
        if not np.issubdtype(np.asarray(out).dtype, np.integer):
            raise Problem(f"the result has dtype {np.asarray(out).dtype}: return integer indices "
                          "(they index the images, images[indices])")

    # only two mistakes but k = 5: return just those two
    probs = softmax(rng.standard_normal((8, 3)) * 3)
    y_true = probs.argmax(axis=1)
    y_true[[2, 6]] = (y_true[[2, 6]] + 1) % 3
    out = call(most_confident_mistakes, probs, y_true, 5)
    expect_array(out, reference_most_confident_mistakes(probs, y_true, 5),
                 "most_confident_mistakes when there are only 2 mistakes and k=5",
                 mistakes=_mistake_mistakes(probs, y_true, 5), rtol=0, atol=0)

    # no mistakes at all: an empty array
    out = call(most_confident_mistakes, probs, probs.argmax(axis=1), 5)
    if out is None or np.shape(out) != (0,):
        raise Problem("when every prediction is right there are no mistakes to show: return an "
                      f"empty array of shape (0,), not {out if out is None else np.shape(out)}")
    return "wrong predictions only, highest confidence first, at most k"
