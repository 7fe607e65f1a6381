"""The chapter 15 checks pass the chapter's answers and name each typical mistake in
conv_output_size, build_cnn and receptive_field, with the chapter's own solution as the fix."""

import math

import numpy as np
import pytest

from nnlib import Conv2D, Dense, Dropout, Flatten, MaxPool2D, Model, ReLU, Softmax
from nnlib.checks import ch15_cnn
from nnlib.checks.ch15_cnn import (FIELD_CASES, FIELD_MISTAKES, SIZE_CASES, SIZE_MISTAKES,
                                   check_build_cnn, check_conv_output_size,
                                   check_receptive_field, reference_conv_output_size,
                                   reference_receptive_field)
from nnlib.train import build_cnn as nnlib_build_cnn

from checkhelpers import assert_fix_holds_solution, assert_named, assert_passes, not_yet


# --- conv_output_size -----------------------------------------------------------------------------
def conv_output_size(size, kernel, stride=1, padding=0):
    return (size + 2 * padding - kernel) // stride + 1


def test_conv_output_size_reference_passes():
    assert_passes(check_conv_output_size(conv_output_size))
    assert_passes(check_conv_output_size(reference_conv_output_size))


def test_conv_output_size_accepts_numpy_integers_and_truncating_division():
    assert_passes(check_conv_output_size(
        lambda size, kernel, stride=1, padding=0: np.int64(conv_output_size(size, kernel, stride,
                                                                            padding))))
    assert_passes(check_conv_output_size(
        lambda size, kernel, stride=1, padding=0: int((size + 2 * padding - kernel) / stride) + 1))
    assert_passes(check_conv_output_size(
        lambda size, kernel, stride=1, padding=0:
        math.floor((size + 2 * padding - kernel) / stride) + 1))


def test_conv_output_size_not_implemented_is_pending():
    result = check_conv_output_size(not_yet)
    assert result.status == "todo" and result.message.startswith("⏳")


def test_conv_output_size_mistakes_are_told_apart_by_the_cases():
    right = [reference_conv_output_size(*case) for case in SIZE_CASES]
    answers = [[formula(*case) for case in SIZE_CASES] for formula, *_ in SIZE_MISTAKES]
    assert all(answer != right for answer in answers)
    assert len({tuple(a) for a in answers}) == len(answers)


@pytest.mark.parametrize("wrong, words", [
    (lambda n, k, s=1, p=0: (n + 2 * p - k) // s, "one short"),
    (lambda n, k, s=1, p=0: (n + p - k) // s + 1, "on both sides of the image"),
    (lambda n, k, s=1, p=0: (n - k) // s + 1, "the padding is left out"),
    (lambda n, k, s=1, p=0: (n - 2 * p - k) // s + 1, "the padding is subtracted"),
    (lambda n, k, s=1, p=0: n + 2 * p - k + 1, "the stride is left out"),
    (lambda n, k, s=1, p=0: math.ceil((n + 2 * p - k) / s) + 1, "you rounded up"),
    (lambda n, k, s=1, p=0: (n + 2 * p - k + 1) // s, "the first place included"),
    (lambda n, k, s=1, p=0: (n + 2 * p) // s - k + 1, "before taking the window off"),
    (lambda n, k, s=1, p=0: (n + 2 * p + k - 2) // s + 1, "hanging over the edge"),
], ids=["no-plus-one", "padding-once", "no-padding", "padding-subtracted", "no-stride", "ceil",
        "divides-first-place", "divides-before-kernel", "full-convolution"])
def test_conv_output_size_names_the_mistake(wrong, words):
    result = check_conv_output_size(wrong)
    assert_named(result, words)
    assert result.hint and result.fix


def test_conv_output_size_true_division_is_a_fraction_or_a_float():
    result = check_conv_output_size(lambda n, k, s=1, p=0: (n + 2 * p - k) / s + 1)
    assert_named(result, "for size 28, kernel 5, stride 2 and padding 2 you return 14.5, "
                         "a fraction")
    assert "rounded down (14 here)" in result.message
    assert "// not /" in result.fix and "floor division" in result.hint
    result = check_conv_output_size(lambda n, k, s=1, p=0: float((n + 2 * p - k) // s + 1))
    assert_named(result, "you return 24.0, a float")


@pytest.mark.parametrize("wrong, words", [
    (lambda n, k, s=1, p=0: None, "returned None for size 28, kernel 5"),
    (lambda n, k, s=1, p=0: (conv_output_size(n, k, s, p),) * 2, "you return a tuple"),
    (lambda n, k, s=1, p=0: str(conv_output_size(n, k, s, p)), "you return a str"),
    (lambda n, k, s=1, p=0: True, "you return True"),
], ids=["none", "tuple", "text", "bool"])
def test_conv_output_size_odd_return_values_are_named_not_crashed(wrong, words):
    assert_named(check_conv_output_size(wrong), words)


def test_conv_output_size_needs_its_defaults():
    def no_defaults(size, kernel, stride, padding):
        return conv_output_size(size, kernel, stride, padding)

    assert_named(check_conv_output_size(no_defaults), "need default values, 1 and 0")
    assert_named(check_conv_output_size(lambda size, kernel: size - kernel + 1),
                 "cannot be called with four numbers")

    def other_defaults(size, kernel, stride=2, padding=1):
        return conv_output_size(size, kernel, stride, padding)

    assert_named(check_conv_output_size(other_defaults), "must act as stride 1 and padding 0")


def test_conv_output_size_unnamed_mistake_shows_the_first_wrong_case():
    result = check_conv_output_size(
        lambda n, k, s=1, p=0: conv_output_size(n, k, s, p) + (n == 13))
    assert_named(result, "for size 13, kernel 2, stride 2 and padding 0 you return 7, expected 6")
    assert result.hint == ch15_cnn.SIZE_HINT and result.fix == ch15_cnn.SIZE_FIX


# --- receptive_field ------------------------------------------------------------------------------
def receptive_field(layers):
    size, jump = 1, 1
    for kernel, stride in layers:
        size += (kernel - 1) * jump
        jump *= stride
    return size


def test_receptive_field_reference_passes():
    assert reference_receptive_field([(5, 1), (2, 2), (5, 1), (2, 2)]) == 16
    assert_passes(check_receptive_field(receptive_field))
    assert_passes(check_receptive_field(lambda layers: float(receptive_field(layers))))


def test_receptive_field_not_implemented_is_pending():
    assert check_receptive_field(not_yet).status == "todo"


def test_receptive_field_mistakes_are_told_apart_by_the_cases():
    right = [reference_receptive_field(layers) for layers in FIELD_CASES]
    answers = [[formula(layers) for layers in FIELD_CASES] for formula, *_ in FIELD_MISTAKES]
    assert all(answer != right for answer in answers)
    assert len({tuple(a) for a in answers}) == len(answers)


def _field(start=1, use_jump=True, jump_first=False, reverse=False):
    def receptive_field(layers):
        size, jump = start, 1
        for kernel, stride in (layers[::-1] if reverse else layers):
            if jump_first:
                jump *= stride
            size += (kernel - 1) * (jump if use_jump else 1)
            if not jump_first:
                jump *= stride
        return size
    return receptive_field


@pytest.mark.parametrize("wrong, words", [
    (_field(use_jump=False), "the strides are left out"),
    (lambda layers: sum(k for k, _ in layers), "adding up the kernel sizes"),
    (lambda layers: math.prod(k for k, _ in layers), "multiplying the kernel sizes"),
    (_field(jump_first=True), "a layer's own stride does not spread its own window"),
    (_field(start=0), "one pixel short"),
    (_field(reverse=True), "from the last to the first"),
], ids=["no-jump", "sum-of-kernels", "product-of-kernels", "jump-too-early", "starts-at-0",
        "reversed"])
def test_receptive_field_names_the_mistake(wrong, words):
    result = check_receptive_field(wrong)
    assert_named(result, words)
    assert result.hint and result.fix


@pytest.mark.parametrize("wrong, words", [
    (lambda layers: None, "returned None for the layers"),
    (lambda layers: (receptive_field(layers), 4), "returned 2 values"),
    (lambda layers: receptive_field(layers) + 0.5, "returned 16.5"),
    (lambda layers: "16", "returned a str"),
], ids=["none", "pair", "fraction", "text"])
def test_receptive_field_odd_return_values_are_named_not_crashed(wrong, words):
    assert_named(check_receptive_field(wrong), words)


def test_receptive_field_must_leave_the_list_alone():
    def popping(layers):
        size, jump = 1, 1
        while layers:
            kernel, stride = layers.pop(0)
            size += (kernel - 1) * jump
            jump *= stride
        return size

    assert_named(check_receptive_field(popping), "changed the list of layers")


def test_receptive_field_unnamed_mistake_shows_the_first_wrong_case():
    result = check_receptive_field(lambda layers: receptive_field(layers) + (len(layers) == 3))
    assert_named(result, "for the layers [(3, 1), (3, 1), (3, 1)] (kernel, stride) you return 8, "
                         "expected 7")
    assert result.hint == ch15_cnn.FIELD_HINT and result.fix == ch15_cnn.FIELD_FIX


# --- build_cnn ------------------------------------------------------------------------------------
def design(rng, c1=16, c2=32, k1=5, k2=5, hidden=128, flat=512, rate=0.25, outputs=10,
           dropout_rng=True):
    """The design's layers as a list, with sizes that a test can change."""
    return [Conv2D(1, c1, k1, rng=rng), ReLU(), MaxPool2D(2),
            Conv2D(c1, c2, k2, rng=rng), ReLU(), MaxPool2D(2),
            Flatten(),
            Dense(flat, hidden, rng=rng), ReLU(), Dropout(rate, rng=rng if dropout_rng else None),
            Dense(hidden, outputs, rng=rng), Softmax()]


def student(edit=lambda layers, rng: layers, input_shape=(1, 28, 28), **sizes):
    """A student's build_cnn: the design's layers, changed by ``edit``, in a Model."""
    def build_cnn(rng):
        layers = edit(design(rng, **sizes), rng)
        if input_shape == "none":
            return Model(layers)
        return Model(layers, input_shape=input_shape)
    return build_cnn


def without(*positions):
    return lambda layers, rng: [l for i, l in enumerate(layers) if i not in positions]


def moved(source, target):
    def edit(layers, rng):
        layer = layers.pop(source)
        layers.insert(target, layer)
        return layers
    return edit


def test_build_cnn_reference_passes_with_the_shapes_and_the_parameter_count():
    result = check_build_cnn(student())
    assert_passes(result)
    assert ("(1, 28, 28) → (16, 24, 24) → (16, 12, 12) → (32, 8, 8) → (32, 4, 4) → 512 → 128 "
            "→ 10" in result.message)
    assert "80 202 parameters" in result.message and "the same weights as nnlib's" in result.message
    assert_passes(check_build_cnn(lambda rng: Model(design(rng), input_shape=[1, 28, 28])))


def test_build_cnn_accepts_layers_that_commute_with_relu():
    order = (0, 2, 1, 3, 5, 4, 6, 7, 9, 8, 10, 11)   # pooling and dropout before their ReLU
    swapped = check_build_cnn(student(lambda layers, rng: [layers[i] for i in order]))
    assert_passes(swapped)
    assert "Dropout and MaxPool2D before a ReLU, which gives the same numbers" in swapped.message


def test_build_cnn_seeded_in_another_order_passes_without_the_same_weights_note():
    def build_cnn(rng):
        dense = Dense(512, 128, rng=rng), Dense(128, 10, rng=rng)
        return Model([Conv2D(1, 16, 5, rng=rng), ReLU(), MaxPool2D(2),
                      Conv2D(16, 32, 5, rng=rng), ReLU(), MaxPool2D(2), Flatten(),
                      dense[0], ReLU(), Dropout(0.25, rng=rng), dense[1], Softmax()],
                     input_shape=(1, 28, 28))
    result = check_build_cnn(build_cnn)
    assert_passes(result)
    assert "the same weights" not in result.message


def test_build_cnn_not_implemented_is_pending():
    assert check_build_cnn(not_yet).status == "todo"


FLATTEN = "must first be laid out in a row by a Flatten layer"


@pytest.mark.parametrize("wrong, words", [
    (student(without(6)), "a Dense layer follows the (32, 4, 4) output of the layer before it: "
                          "a Dense layer takes one flat vector per example, so the maps " + FLATTEN),
    (student(without(6), input_shape="none"), FLATTEN),
    (student(flat=2048), "the first Dense layer takes 2048 inputs, but Flatten gives 512 values "
                         "per image: 2048 is the size of the (32, 8, 8) output of layer 4, "
                         "Conv2D(16 → 32, 5×5)"),
    (student(flat=2048, input_shape="none"), "2048 is the size of the (32, 8, 8) output"),
    (student(flat=256), "256 would be 16 maps of 4 × 4, but the second convolution has 32"),
    (student(flat=784), "784 is the number of pixels of the image"),
    (student(flat=500), "the first Dense layer takes 500 inputs, but Flatten gives 512 values"),
    (student(without(2), flat=3200), "the network has 1 max pooling layer, the design two, one "
                                     "after each convolution: the network has 424 266 parameters "
                                     "instead of 80 202"),
    (student(without(2)), "the network has 1 max pooling layer, the design two"),
    (student(without(2, 5), flat=12800), "the network has 0 max pooling layers"),
    (student(without(1)), "there is no ReLU after the first convolution"),
    (student(without(4)), "there is no ReLU after the second convolution"),
    (student(without(8)), "there is no ReLU after the hidden Dense layer"),
    (student(lambda layers, rng: layers[:11] + [ReLU(), Softmax()]),
     "a ReLU follows the last Dense layer"),
    (student(lambda layers, rng: layers + [ReLU()]), "Softmax must be the last layer"),
    (student(without(11)), "the network does not end with Softmax"),
    (student(without(9)), "there is no Dropout layer"),
    (student(lambda layers, rng: layers[:9] + [Dropout(0.25, rng=rng)] + layers[9:]),
     "the network has 2 Dropout layers"),
    (student(moved(9, 6)), "Dropout comes after MaxPool2D (position 7)"),
    (student(moved(9, 10)), "Dropout comes after Dense (position 11)"),
    (student(rate=0.5), "the Dropout layer drops a fraction 0.5 of the hidden units"),
    (student(k1=3, k2=3, flat=800), "the first convolution has a 3×3 kernel; the design uses "
                                    "5×5, which takes the maps from 28 to 24 and from 12 to 8 "
                                    "pixels, and Flatten gives 800 values instead of 512"),
    (student(k1=3), "the first convolution has a 3×3 kernel; the design uses 5×5, which takes "
                    "the maps from 28 to 24 and from 12 to 8 pixels"),
    (student(k2=3, flat=800), "the second convolution has a 3×3 kernel"),
    (student(c1=32, c2=16, flat=256), "the convolutions have 32 and then 16 filters"),
    (student(lambda layers, rng: layers[:3] + [Conv2D(32, 16, 5, rng=rng)] + layers[4:]),
     "the second convolution takes 32 channels and gives 16: its first two numbers are swapped"),
    (student(lambda layers, rng: [Conv2D(3, 16, 5, rng=rng)] + layers[1:]),
     "the first convolution takes 3 input channels; an MNIST image has one channel"),
    (student(lambda layers, rng: [Conv2D(1, 8, 5, rng=rng)] + layers[1:]),
     "the second convolution takes 16 input channels, but what comes before it has 8"),
    (student(c1=8, c2=16, flat=256), "the convolutions have 8 and 16 filters"),
    (student(hidden=64), "the hidden Dense layer has 64 units; the design has 128"),
    (student(lambda layers, rng: layers[:10] + [Dense(64, 10, rng=rng), Softmax()]),
     "the last Dense layer takes 64 inputs, but the hidden layer before it gives 128"),
    (student(outputs=9), "the last Dense layer gives 9 outputs"),
    (student(lambda layers, rng: layers[:2] + [MaxPool2D(3)] + layers[3:], flat=128),
     "the first pooling layer takes windows of 3 × 3 with stride 3"),
    (student(lambda layers, rng: [Conv2D(1, 16, 5, stride=2, rng=rng)] + layers[1:], flat=32),
     "the first convolution has stride 2 and padding 0"),
    (student(lambda layers, rng: layers[:3] + [Conv2D(16, 16, 5, rng=rng), ReLU()] + layers[3:]),
     "the network has 3 convolutions"),
    (student(lambda layers, rng: layers[:7] + [Dense(512, 10, rng=rng), Softmax()]),
     "there is only one Dense layer"),
    (student(lambda layers, rng: [layers[6]] + layers[:6] + layers[7:]),
     "a Conv2D layer comes after the maps were flattened"),
    (student(lambda layers, rng: layers[:2] + [layers[3], layers[2]] + layers[4:]),
     "your layers, in order: Conv2D, ReLU, Conv2D, ReLU, MaxPool2D, MaxPool2D"),
    (student(input_shape="none"), "the model has no input shape"),
    (student(input_shape=784), "the input shape is 784, a flattened image"),
    (student(input_shape=(28, 28, 1)), "the input shape is (28, 28, 1), with the channel last"),
    (student(input_shape=(28, 28)), "the input shape (28, 28) has no channel axis"),
    (student(input_shape=(64, 1, 28, 28)), "the input shape (64, 1, 28, 28) has four numbers"),
    (student(input_shape=(1, 32, 32)), "the input shape is (1, 32, 32); one MNIST image"),
], ids=["no-flatten", "no-flatten-no-input-shape", "dense-2048", "dense-2048-no-input-shape",
        "dense-256", "dense-784", "dense-500", "one-pool-adjusted", "one-pool", "no-pool",
        "no-relu-conv1", "no-relu-conv2", "no-relu-dense", "relu-before-softmax",
        "relu-after-softmax", "no-softmax", "no-dropout", "two-dropouts", "dropout-on-maps",
        "dropout-on-scores", "dropout-rate", "kernel-3", "kernel-3-first-only",
        "kernel-3-second-only", "channels-swapped", "in-out-swapped", "three-channels",
        "channels-misfit", "8-16-filters", "hidden-64", "dense-misfit", "nine-classes", "pool-3",
        "stride-2", "three-convs", "linear-head", "conv-after-flatten", "order", "no-input-shape",
        "input-784", "channels-last", "no-channel-axis", "batch-axis", "input-32"])
def test_build_cnn_names_the_mistake(wrong, words):
    result = check_build_cnn(wrong)
    assert_named(result, words)
    assert result.hint and result.fix


def test_build_cnn_names_a_flatten_forgotten_while_adding_layers_one_by_one():
    def build_cnn(rng):
        model = Model(input_shape=(1, 28, 28))
        for layer in without(6)(design(rng), rng):
            model.add(layer)
        return model

    result = check_build_cnn(build_cnn)
    assert_named(result, FLATTEN)
    assert "Flatten()" in result.fix


def test_build_cnn_names_classes_given_in_place_of_layers():
    for position, cls in [(1, ReLU), (6, Flatten), (2, MaxPool2D)]:
        def edit(layers, rng, position=position, cls=cls):
            return layers[:position] + [cls] + layers[position + 1:]
        result = check_build_cnn(student(edit))
        assert_named(result, f"layer {position + 1} is the class {cls.__name__} itself")
        assert f"{cls.__name__}()" in result.fix


def test_build_cnn_names_a_layer_of_another_kind():
    class Identity:
        param_names = ()

        def forward(self, x):
            return x

        def backward(self, dout):
            return dout

    result = check_build_cnn(student(lambda layers, rng: layers[:9] + [Identity()] + layers[10:]))
    assert_named(result, "layer 10 is a Identity")


@pytest.mark.parametrize("position", [0, 3, 7, 10])
def test_build_cnn_names_a_layer_that_ignores_the_generator(position):
    def build_cnn(rng):
        layers = design(rng)
        fresh = design(np.random.default_rng())
        layers[position] = fresh[position]
        return Model(layers, input_shape=(1, 28, 28))

    result = check_build_cnn(build_cnn)
    assert_named(result, f"layer {position + 1}, ")
    assert "gets different weights from two generators made from the same seed" in result.message


def test_build_cnn_names_a_layer_with_a_seed_of_its_own():
    def build_cnn(rng):
        layers = design(rng)
        layers[7] = Dense(512, 128, rng=np.random.default_rng(42))
        return Model(layers, input_shape=(1, 28, 28))

    assert_named(check_build_cnn(build_cnn), "layer 8, Dense(512 → 128), gets the same weights "
                                             "from generators made from two different seeds")


def test_build_cnn_names_a_dropout_without_the_generator():
    result = check_build_cnn(student(dropout_rng=False))
    assert_named(result, "the Dropout layer was not given the generator")
    assert "Dropout(0.25, rng=rng)" in result.fix


@pytest.mark.parametrize("wrong, words", [
    (lambda rng: None, "build_cnn returned None"),
    (lambda rng: design(rng), "build_cnn returned a list of 12 items, not a Model"),
    (lambda rng: "cnn", "build_cnn returned a str"),
    (lambda rng: Model(input_shape=(1, 28, 28)), "the model has no layers"),
], ids=["none", "list", "text", "empty-model"])
def test_build_cnn_odd_return_values_are_named_not_crashed(wrong, words):
    assert_named(check_build_cnn(wrong), words)


def test_build_cnn_errors_of_the_students_own_code_are_theirs():
    def build_cnn(rng):
        return Model([Conv2D(1, 16, 0, rng=rng)], input_shape=(1, 28, 28))

    result = check_build_cnn(build_cnn)
    assert result.status == "error" and "your code raised ValueError" in result.message


def test_build_cnn_failures_without_a_named_mistake_get_the_exercises_hint_and_fix():
    result = check_build_cnn(student(lambda layers, rng: layers[:2] + [layers[3], layers[2]]
                                     + layers[4:]))
    assert_named(result, "your layers, in order")
    assert result.hint == ch15_cnn.BUILD_HINT and result.fix == ch15_cnn.BUILD_FIX


def test_the_design_is_nnlibs_build_cnn():
    reference = nnlib_build_cnn(seed=0)
    assert [type(l).__name__ for l in reference.layers] == ch15_cnn.DESIGN
    assert reference.output_shape() == (10,)
    assert ch15_cnn._design_parameters() == 80_202


# --- the fixes are the chapter's solutions --------------------------------------------------------
@pytest.mark.parametrize("fix, cell_start", [
    (ch15_cnn.SIZE_FIX, "def conv_output_size("), (ch15_cnn.BUILD_FIX, "def build_cnn("),
    (ch15_cnn.FIELD_FIX, "def receptive_field("),
])
def test_each_exercises_fix_holds_every_line_of_the_chapters_solution(fix, cell_start):
    assert_fix_holds_solution(fix, "15_cnn.ipynb", cell_start)
