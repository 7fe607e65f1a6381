"""Checks for chapter 09: the confusion matrix, per-class accuracy and the most confident mistakes.

Convention, as in the chapter: ``cm[i, j]`` counts the examples whose TRUE class is i and whose
PREDICTED class is j, so rows are true labels and columns are predictions.
"""

import numpy as np

from ..activations import softmax
from ._core import Mistake, Problem, call, check, expect_array, rng_for_checks


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

CM_FIX = ('def confusion_matrix(y_true, y_pred, n_classes=10):\n'
          '    cm = np.zeros((n_classes, n_classes), dtype=np.int64)\n'
          '    for true, predicted in zip(y_true, y_pred):\n'
          '        cm[true, predicted] += 1\n'
          '    return cm')
CM_LOOP = ("for true, predicted in zip(y_true, y_pred):\n"
           "    cm[true, predicted] += 1   # every example, one count each")
CM_ZEROS = "cm = np.zeros((n_classes, n_classes), dtype=np.int64)"
ROWS_ARE_TRUE = ("Rows are the true classes, columns the predictions: an example of class 4 "
                 "taken for a 9 counts in row 4, column 9.")
SIZE = ("There is one row and one column for every class 0..n_classes−1, whether or not it "
        "occurs in these labels.")
WIDE_ENOUGH = ("An integer of b bits holds only 2^b values: uint8 stops at 255. A matrix made in "
               "the labels' dtype inherits that limit, and MNIST's labels are uint8.")


def _pad(cm, size):
    out = np.zeros((size, size), dtype=cm.dtype)
    out[:len(cm), :len(cm)] = cm
    return out


def _cm_mistakes(y_true, y_pred, n_classes):
    ref = reference_confusion_matrix(y_true, y_pred, n_classes)
    present = int(max(y_true.max(), y_pred.max())) + 1
    n = len(y_true)
    mistakes = [
        Mistake(ref.T, "rows and columns are swapped: row i must hold the examples whose TRUE "
                "class is i, column j those PREDICTED as j; yours is the transpose",
                ROWS_ARE_TRUE, CM_LOOP),
        Mistake((ref > 0).astype(np.int64), "every nonzero entry is 1: a repeated (true, "
                "predicted) pair was counted only ONCE, because adding through fancy indexing "
                "writes each position once, however often it repeats",
                "Indexing with the two label arrays and adding 1 does not accumulate: a pair "
                "that occurs 12 times is still written once. Count in a loop, or with NumPy's "
                "unbuffered add.", "np.add.at(cm, (y_true, y_pred), 1)   # or:\n" + CM_LOOP),
        Mistake(reference_confusion_matrix(y_true[:-1], y_pred[:-1], n_classes),
                f"the counts add up to {n - 1}, not {n}: the last example is missing (off by "
                "one)", "The examples are numbered 0 to N − 1, and every one of them counts.",
                CM_LOOP),
        Mistake(reference_confusion_matrix(y_true[1:], y_pred[1:], n_classes),
                f"the counts add up to {n - 1}, not {n}: the first example is missing (off by "
                "one)", "The examples are numbered 0 to N − 1, and every one of them counts.",
                CM_LOOP),
        Mistake(np.roll(ref, -1, axis=(0, 1)), "every count sits one row up and one column "
                "left: class ids start at 0, so class k goes to row and column k, not k − 1",
                "Class 0 has row 0 and column 0.", CM_LOOP),
        Mistake(_pad(ref, n_classes + 1), f"the matrix is {n_classes + 1}×{n_classes + 1}: "
                f"classes are 0..{n_classes - 1}, so it is n_classes × n_classes", SIZE,
                CM_ZEROS),
        Mistake(ref[:n_classes - 1, :n_classes - 1],
                f"the matrix is {n_classes - 1}×{n_classes - 1}: classes are "
                f"0..{n_classes - 1}, so it is n_classes × n_classes", SIZE, CM_ZEROS),
        Mistake(ref[:present, :present],
                f"the matrix is {present}×{present}, but n_classes is {n_classes}: classes that "
                "happen to be absent from these labels still get a row and a column; take the "
                "size from n_classes, not from the labels", SIZE, CM_ZEROS),
    ]
    if ref.max() > 255:
        at = np.unravel_index(np.argmax(ref), ref.shape)
        mistakes.append(Mistake(ref % 256, f"{int(ref[at])} examples of true class {at[0]} "
                                f"predicted as {at[1]} came out as {int(ref[at]) % 256}: the "
                                "counts were kept in 8 bits (uint8, like the labels), which wrap "
                                "around to 0 after 255", WIDE_ENOUGH,
                                CM_ZEROS + "   # not the labels' dtype"))
    return mistakes


def _too_narrow(out, y_true):
    """A Problem when ``out`` is an integer matrix whose dtype cannot count every example."""
    dtype = np.asarray(out).dtype
    if not np.issubdtype(dtype, np.integer) or np.iinfo(dtype).max >= len(y_true):
        return None
    largest = int(np.iinfo(dtype).max)
    return Problem(f"the matrix has dtype {dtype}, which counts only up to {largest}: with "
                   f"{len(y_true)} examples a cell may need more, and a count past {largest} "
                   "wraps around to 0 without a warning", WIDE_ENOUGH,
                   CM_ZEROS + "   # not the labels' dtype")


def _check_cm(confusion_matrix, y_true, y_pred, n_classes, what):
    try:
        out = call(confusion_matrix, y_true, y_pred, n_classes)
    except IndexError as err:
        raise Problem(f"{what} raised IndexError ({str(err).splitlines()[0]}): class ids run "
                      "from 0 to n_classes − 1 and each picks a row and a column of a matrix of "
                      "shape (n_classes, n_classes)", SIZE, CM_FIX) from None
    expected = reference_confusion_matrix(y_true, y_pred, n_classes)
    if out is not None and np.shape(out) == expected.shape:
        narrow = _too_narrow(out, y_true)
        if narrow is not None:
            raise narrow
    expect_array(out, expected, what, mistakes=_cm_mistakes(y_true, y_pred, n_classes))
    if not np.issubdtype(np.asarray(out).dtype, np.integer):
        raise Problem(f"the matrix has dtype {np.asarray(out).dtype}: it holds counts, so it "
                      "should be an integer array", "Counts are whole numbers; the dtype is "
                      "chosen when you make the matrix of zeros.", CM_ZEROS)


@check("confusion_matrix", hint="Each example adds 1 to the cell in the row of its TRUE class "
       "and the column of its PREDICTED class, in an n_classes × n_classes matrix of integers "
       "wide enough for every count.", fix=CM_FIX)
def check_confusion_matrix(confusion_matrix):
    rng = rng_for_checks()
    # uint8 labels, like MNIST's; predictions as argmax gives them (int64); an uneven mix so that
    # the matrix is far from symmetric and many (true, pred) pairs repeat
    y_true = rng.integers(0, 10, size=300).astype(np.uint8)
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, 10, size=300))
    y_pred = np.where(y_pred == 3, 5, y_pred)
    _check_cm(confusion_matrix, y_true, y_pred, 10, "confusion_matrix for 300 examples")

    # 300 zeros recognised as zeros among 600 uint8 labels: one count passes 255, as MNIST's do
    order = rng.permutation(600)
    y_true = np.concatenate([np.zeros(300), rng.integers(1, 10, size=300)]).astype(np.uint8)
    y_pred = np.concatenate([np.zeros(300, dtype=np.int64), rng.integers(0, 10, size=300)])
    _check_cm(confusion_matrix, y_true[order], y_pred[order], 10,
              "confusion_matrix for 600 uint8 labels, 300 of them zeros predicted as zeros")

    # classes 7, 8 and 9 never occur: the matrix must still be 10 × 10
    y_true = rng.integers(0, 7, size=50)
    y_pred = rng.integers(0, 7, size=50)
    _check_cm(confusion_matrix, y_true, y_pred, 10,
              "confusion_matrix when classes 7–9 do not occur")

    # another number of classes, and a batch of one
    y_true, y_pred = rng.integers(0, 3, size=40), rng.integers(0, 3, size=40)
    _check_cm(confusion_matrix, y_true, y_pred, 3, "confusion_matrix with n_classes = 3")
    _check_cm(confusion_matrix, np.array([4]), np.array([2]), 5,
              "confusion_matrix of a single example (true 4, predicted 2)")
    return "rows are true classes, columns predictions, integer counts, n × n for n_classes"


# --- per_class_accuracy ---------------------------------------------------------------------------

PCA_FIX = ('def per_class_accuracy(cm):\n'
           '    with np.errstate(invalid="ignore", divide="ignore"):\n'
           '        return np.diagonal(cm) / cm.sum(axis=1)')
PCA_LINE = "return np.diagonal(cm) / cm.sum(axis=1)   # row sums: examples of each TRUE class"
OWN_ROW = ("accuracyᵢ = Cᵢᵢ / Σⱼ Cᵢⱼ: the correct count of class i over the number of examples "
           "whose TRUE class is i, which is its row.")


def _accuracy_mistakes(cm):
    cm = cm.astype(np.float64)
    diag = np.diagonal(cm)
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = diag / cm.sum(axis=1)
        column = ("The row sums were kept as a column of shape (n, 1), and a column divided "
                  "into a row of n values broadcasts to an n × n matrix.")
        return [
            Mistake(diag / cm.sum(axis=0), "you divided by the column sums, how often each "
                    "class was PREDICTED (that is precision); per-class accuracy divides by how "
                    "often each class truly occurs, its row", OWN_ROW, PCA_LINE),
            Mistake(diag / cm.sum(), "you divided by the total number of examples; each class's "
                    "correct count is divided by that class's own number of examples", OWN_ROW,
                    PCA_LINE),
            Mistake(np.floor(ref), "every value is 0 or 1: integer division dropped the "
                    "fractions", "Of Python's two divisions, one rounds down to a whole number.",
                    PCA_LINE),
            Mistake(ref * 100, "these are percentages; per-class accuracy is a fraction between "
                    "0 and 1", "Format it as a percentage only when you print it.", PCA_LINE),
            Mistake(np.full(len(cm), diag.sum() / cm.sum()), "every class gets the same number, "
                    "the overall accuracy; each class needs its own", OWN_ROW, PCA_LINE),
            Mistake(np.array(diag.sum() / cm.sum()), "you returned one number, the overall "
                    "accuracy; one accuracy per class is expected, shape (n_classes,)", OWN_ROW,
                    PCA_LINE),
            Mistake(diag[:, None] / cm.sum(axis=1, keepdims=True), "the result has shape "
                    "(n, n): the row sums were kept as a column, which broadcasts against the "
                    "diagonal into a matrix", column, PCA_LINE),
            Mistake(diag / cm.sum(axis=1, keepdims=True), "the result has shape (n, n): the row "
                    "sums were kept as a column, which broadcasts against the diagonal into a "
                    "matrix", column, PCA_LINE),
            Mistake(1 - ref, "you computed the error rate per class (1 − accuracy): the correct "
                    "counts are on the diagonal", OWN_ROW, PCA_LINE),
        ]


@check("per_class_accuracy", hint=OWN_ROW + " A class without examples gets nan, which is "
       "what 0 / 0 gives.", fix=PCA_FIX)
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
    what = "per_class_accuracy with an empty class"
    if out is None or np.shape(out) != expected.shape:
        expect_array(out, expected, what, mistakes=_accuracy_mistakes(cm))
    out = np.asarray(out, dtype=np.float64)
    if not np.isnan(out[2]):
        raise Problem(f"class 2 has no examples (its row is all zeros), so its accuracy is "
                      f"undefined, but you return {out[2]:.6g}: return nan for it, which is "
                      "what 0 / 0 gives in NumPy", "A 0 would claim the class was never "
                      "recognised, and would pull down any average over the classes.", PCA_FIX)
    keep = [0, 1, 3]
    expect_array(out[keep], expected[keep], "per_class_accuracy of the classes that do occur, "
                 "when another class has no examples", mistakes=[
                     Mistake(m.wrong[keep], m.says, m.hint, m.fix)
                     for m in _accuracy_mistakes(cm) if np.shape(m.wrong) == expected.shape])
    return "diagonal ÷ row sums (how often each TRUE class was recognised); nan for a class " \
           "without examples"


# --- most_confident_mistakes ----------------------------------------------------------------------

MCM_FIX = ('def most_confident_mistakes(probs, y_true, k=16):\n'
           '    predicted, confidence = probs.argmax(axis=1), probs.max(axis=1)\n'
           '    wrong = np.flatnonzero(predicted != y_true)\n'
           '    order = np.argsort(-confidence[wrong], kind="stable")\n'
           '    return wrong[order[:k]]')
ONLY_MISTAKES = "wrong = np.flatnonzero(probs.argmax(axis=1) != y_true)   # indices of mistakes"
RANK = ('order = np.argsort(-confidence[wrong], kind="stable")   # highest first\n'
        'return wrong[order[:k]]')
CONFIDENCE = ("The confidence of a prediction is the largest probability of its row, whatever "
              "the true class.")


def _mistake_mistakes(probs, y_true, k):
    predicted, confidence = probs.argmax(axis=1), probs.max(axis=1)
    wrong = np.flatnonzero(predicted != y_true)
    order = np.argsort(-confidence[wrong], kind="stable")
    ref = wrong[order[:k]]
    true_p = probs[np.arange(len(probs)), y_true]
    return [
        Mistake(np.argsort(-confidence, kind="stable")[:k], "some of these predictions are "
                "correct: only the examples whose predicted class differs from the true class "
                "are mistakes", "First find which predictions are wrong, then rank only those.",
                ONLY_MISTAKES),
        Mistake(wrong[np.argsort(confidence[wrong], kind="stable")[:k]], "these are the LEAST "
                "confident mistakes: your ranking runs from the lowest confidence up",
                "Sorting puts the smallest value first; the most confident mistake must come "
                "first.", RANK),
        Mistake(ref[::-1], "the right mistakes, but in ascending order: the most confident one "
                "must come first", "Sorting puts the smallest value first.", RANK),
        Mistake(wrong[np.argsort(true_p[wrong], kind="stable")[:k]], "you ranked by the "
                "probability of the TRUE class; the ranking is by the confidence of the "
                "prediction, the largest probability of each row", CONFIDENCE,
                "confidence = probs.max(axis=1)\n" + RANK),
        Mistake(order[:k], "these are positions in your list of mistakes, not indices into the "
                "data: map them back to the examples they stand for", "Sorting the mistakes' "
                "confidences gives positions 0, 1, 2, … within the list of mistakes.", RANK),
        Mistake(wrong[order], f"you returned all {len(wrong)} mistakes: keep only the first k",
                "At most k indices are asked for.", RANK),
        Mistake(wrong[:k], "these are the first k mistakes in data order, not sorted by "
                "confidence", CONFIDENCE, RANK),
        Mistake(confidence[ref], "these are the confidences, not the indices of the examples",
                "The result picks images out of the data set.", RANK),
    ]


@check("most_confident_mistakes", hint="Three steps: which predictions are wrong, how "
       "confident each was (the largest probability of its row), then those indices sorted by "
       "confidence, highest first, at most k.", fix=MCM_FIX)
def check_most_confident_mistakes(most_confident_mistakes):
    rng = rng_for_checks()
    for n, c, k in ((60, 5, 6), (200, 10, 16)):
        probs = softmax(rng.standard_normal((n, c)) * 3)
        y_true = rng.integers(0, c, size=n)
        out = call(most_confident_mistakes, probs, y_true, k)
        expect_array(out, reference_most_confident_mistakes(probs, y_true, k),
                     f"the result for {n} examples and k = {k}",
                     mistakes=_mistake_mistakes(probs, y_true, k), rtol=0, atol=0)
        if not np.issubdtype(np.asarray(out).dtype, np.integer):
            raise Problem(f"the result has dtype {np.asarray(out).dtype}: indices are integers "
                          "(they pick images out of the data set)", "Sorting and the positions "
                          "of the mistakes give integers already; a float sneaks in through a "
                          "computation or a conversion.", MCM_FIX)

    # only two mistakes but k = 5: return just those two
    probs = softmax(rng.standard_normal((8, 3)) * 3)
    y_true = probs.argmax(axis=1)
    y_true[[2, 6]] = (y_true[[2, 6]] + 1) % 3
    out = call(most_confident_mistakes, probs, y_true, 5)
    expect_array(out, reference_most_confident_mistakes(probs, y_true, 5),
                 "the result when there are only 2 mistakes and k = 5",
                 mistakes=_mistake_mistakes(probs, y_true, 5), rtol=0, atol=0)

    # no mistakes at all: an empty array
    out = call(most_confident_mistakes, probs, probs.argmax(axis=1), 5)
    if out is None or np.shape(out) != (0,):
        raise Problem("when every prediction is right there are no mistakes to show, so the "
                      "result should be an empty array of shape (0,), not "
                      f"{out if out is None else np.shape(out)}", "The indices of the "
                      "mistakes form an empty array when there are none; slicing and sorting "
                      "keep it empty.", MCM_FIX)
    return "wrong predictions only, highest confidence first, at most k"
