"""Checks for chapter 15 (cnn): conv_output_size, build_cnn and receptive_field.

conv_output_size and receptive_field are run on a table of cases and their answers compared with
the answers each typical wrong formula gives on the same cases. build_cnn is judged by what it
builds: the layers, their order and sizes, the shapes through the stack, the parameter count, the
input shape and the use of the generator it is given. When nnlib's Model refuses the layers (a
Dense layer after images, channels that do not fit), the check reads the layers the student gave
it and names the mistake instead of showing the error.
"""

import inspect
import math
import numbers
import traceback

import numpy as np

from ..activations import ReLU, Softmax
from ..layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D, _out_size
from ..model import Model, _shape_after
from ..train import build_cnn as reference_build_cnn
from ._core import Problem, check, rng_for_checks


def _whole(value):
    """True for a whole number given as an int or a NumPy integer (not a bool, not a float)."""
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(
        value, (bool, np.bool_))


def _returned(value):
    """How a returned value reads in a sentence: 12, 12.5, None, a tuple."""
    if value is None or isinstance(value, (numbers.Number, np.number)):
        return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)
    return f"a {type(value).__name__}"


# --- conv_output_size -----------------------------------------------------------------------------
SIZE_FIX = '''\
def conv_output_size(size, kernel, stride=1, padding=0):
    return (size + 2 * padding - kernel) // stride + 1'''
SIZE_HINT = ("Add the padding first: it puts zeros on both sides, so the image becomes wider by "
             "twice the padding. The window's first position starts at pixel 0; count how many "
             "steps of stride pixels it can take before its far edge would leave the padded "
             "image, and add the first position.")


def reference_conv_output_size(size, kernel, stride=1, padding=0):
    """Positions of a kernel-pixel window along size pixels with zero padding on both sides."""
    return _out_size(size, kernel, stride, padding)


# (size, kernel, stride, padding): the chapter's stack, pooling, padding, strides that do not
# divide evenly (the floor matters), and a window as large as the image
SIZE_CASES = [(28, 5, 1, 0), (24, 2, 2, 0), (12, 5, 1, 0), (8, 2, 2, 0), (28, 3, 1, 1),
              (28, 5, 2, 2), (13, 2, 2, 0), (11, 3, 3, 1), (32, 5, 1, 2), (7, 7, 1, 0),
              (9, 3, 2, 0), (10, 4, 3, 1)]


def _ceil_div(a, b):
    return -(-a // b)


# each row: a wrong formula, tier 1, tier 2, tier 3
SIZE_MISTAKES = [
    (lambda n, k, s, p: (n + 2 * p - k) // s,
     "one short: you counted the steps the window takes, not the places it stands at; a window "
     "as large as the image still stands at one place",
     "A 7-pixel window on a 7-pixel image: how many steps does it take, and how many outputs "
     "does it make?",
     "return (size + 2 * padding - kernel) // stride + 1   # the first position too"),
    (lambda n, k, s, p: (n + p - k) // s + 1,
     "the padding counts once, but it adds zeros on both sides of the image, so it widens the "
     "image by twice its value",
     "Padding 1 on a 28-pixel row: how wide is the padded row?",
     "return (size + 2 * padding - kernel) // stride + 1   # zeros on both sides"),
    (lambda n, k, s, p: (n - k) // s + 1,
     "the padding is left out: the zeros around the image give the window more places to stand",
     "With padding 1 and a 3×3 kernel, a 28×28 image gives a 28×28 output: that is what padding "
     "is for.", "return (size + 2 * padding - kernel) // stride + 1"),
    (lambda n, k, s, p: (n - 2 * p - k) // s + 1,
     "the padding is subtracted, but it adds pixels to the image",
     "Padding puts zeros around the image: is the padded image larger or smaller?",
     "return (size + 2 * padding - kernel) // stride + 1"),
    (lambda n, k, s, p: n + 2 * p - k + 1,
     "the stride is left out: the window moves stride pixels at a time, so with stride 2 there "
     "are only about half as many places",
     "Count the places of a 2×2 pooling window with stride 2 along 24 pixels.",
     "return (size + 2 * padding - kernel) // stride + 1"),
    (lambda n, k, s, p: _ceil_div(n + 2 * p - k, s) + 1,
     "you rounded up: a last step that would take the window past the edge of the padded image "
     "does not count, so the number of steps is rounded down",
     "13 pixels, a 2-pixel window and stride 2: can the window stand at pixels 12 and 13?",
     "return (size + 2 * padding - kernel) // stride + 1   # // rounds down"),
    (lambda n, k, s, p: (n + 2 * p - k + 1) // s,
     "you divided the number of places by the stride, the first place included: only the steps "
     "after the first place are stride pixels long",
     "The first place is free; every further place costs one step of stride pixels.",
     "return (size + 2 * padding - kernel) // stride + 1"),
    (lambda n, k, s, p: (n + 2 * p) // s - k + 1,
     "you divided the image's width by the stride before taking the window off: the window is "
     "kernel pixels wide whatever the stride",
     "Take the window's width off the padded width first, then count steps of stride pixels.",
     "return (size + 2 * padding - kernel) // stride + 1"),
    (lambda n, k, s, p: (n + 2 * p + k - 2) // s + 1,
     "you added the kernel where it must be taken off: that counts windows hanging over the "
     "edge of the image",
     "A window must lie entirely inside the (padded) image.",
     "return (size + 2 * padding - kernel) // stride + 1"),
]


def _where(case):
    return f"for size {case[0]}, kernel {case[1]}, stride {case[2]} and padding {case[3]}"


def _size_numbers(outputs, expected):
    """The outputs as ints, or a Problem naming what kind of answer they are: None, a fraction,
    a float, something else."""
    for case, value in zip(SIZE_CASES, outputs):
        if value is None:
            raise Problem(f"conv_output_size returned None {_where(case)}: the function ends "
                          "without returning the number", "A function that only computes a "
                          "value gives None to its caller.", SIZE_FIX)
    floats = [(case, value, want) for case, value, want in zip(SIZE_CASES, outputs, expected)
              if isinstance(value, (float, np.floating))]
    fractions = [row for row in floats if not float(row[1]).is_integer()]
    if fractions:
        case, value, want = fractions[0]
        raise Problem(f"{_where(case)} you return {float(value)!r}, a fraction: a window stands "
                      f"at whole positions, and a last step that does not fit is dropped, so "
                      f"the count is rounded down ({want} here)",
                      "True division gives a float; floor division rounds down and keeps "
                      "integers integers.",
                      "return (size + 2 * padding - kernel) // stride + 1   # // not /")
    if floats:
        case, value, _ = floats[0]
        raise Problem(f"{_where(case)} you return {float(value)!r}, a float: a size is a whole "
                      "number, and a float size cannot shape an array",
                      "True division always gives a float, even when it divides evenly; floor "
                      "division of integers gives an integer.",
                      "return (size + 2 * padding - kernel) // stride + 1   # // not /")
    for case, value in zip(SIZE_CASES, outputs):
        if not _whole(value):
            raise Problem(f"{_where(case)} you return {_returned(value)}; the answer is one "
                          "whole number, the number of positions", SIZE_HINT, SIZE_FIX)
    return [int(value) for value in outputs]


def _takes(fn, *args):
    """True unless the signature of ``fn`` refuses these arguments."""
    try:
        inspect.signature(fn).bind(*args)
    except TypeError:
        return False
    except ValueError:  # no signature to inspect: let the call decide
        pass
    return True


@check("conv_output_size", hint=SIZE_HINT, fix=SIZE_FIX)
def check_conv_output_size(conv_output_size):
    if not _takes(conv_output_size, 28, 5, 1, 0):
        raise Problem("your function cannot be called with four numbers, the size, the kernel, "
                      "the stride and the padding, in that order",
                      "Keep the function's first line as the exercise gives it.", SIZE_FIX)
    if not _takes(conv_output_size, 28, 5):
        raise Problem("your function cannot be called with the size and the kernel only: the "
                      "stride and the padding need default values, 1 and 0, as in a layer "
                      "that is given neither", "Keep the function's first line as the exercise "
                      "gives it.", SIZE_FIX)
    expected = [reference_conv_output_size(*case) for case in SIZE_CASES]
    got = _size_numbers([conv_output_size(*case) for case in SIZE_CASES], expected)
    defaults = conv_output_size(28, 5)
    if got == expected and defaults != 24:
        raise Problem(f"called with size 28 and kernel 5 only, your function returns "
                      f"{_returned(defaults)}, expected 24: without a stride and a padding it "
                      "must act as stride 1 and padding 0",
                      "The defaults of the parameters are part of the function's first line.",
                      SIZE_FIX)
    if got == expected:
        return ("the same count serves a convolution and a pooling window: 28 → 24 → 12 → 8 "
                "→ 4 in this chapter's network")
    for formula, says, hint, fix in SIZE_MISTAKES:
        if got == [formula(*case) for case in SIZE_CASES]:
            raise Problem(says, hint, fix)
    i = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
    raise Problem(f"{_where(SIZE_CASES[i])} you return {got[i]}, expected {expected[i]}")


# --- receptive_field ------------------------------------------------------------------------------
FIELD_FIX = '''\
def receptive_field(layers):
    size, jump = 1, 1
    for kernel, stride in layers:
        size += (kernel - 1) * jump
        jump *= stride
    return size'''
FIELD_HINT = ("Keep two numbers while you walk through the layers from the image up: the size of "
              "the patch one unit sees, and how many image pixels apart two neighbouring units "
              "of the current layer are (their jump). A layer's window adds kernel − 1 of its "
              "input's units, each a jump apart; its stride then multiplies the jump for the "
              "layers after it.")


def reference_receptive_field(layers):
    """The side in pixels of the image patch that one unit after ``layers`` sees.

    ``layers`` lists (kernel, stride) pairs, the layer nearest the image first. Padding does not
    change the size of the patch (only where it lies).
    """
    size, jump = 1, 1
    for kernel, stride in layers:
        size += (kernel - 1) * jump
        jump *= stride
    return size


FIELD_CASES = [[(5, 1), (2, 2), (5, 1), (2, 2)], [(3, 1), (3, 1), (3, 1)], [(2, 2), (2, 2), (2, 2)],
               [(7, 2), (3, 2), (3, 1)], [(3, 2), (3, 1)], [(5, 1)], []]


def _field_with(layers, start=1, use_jump=True, jump_first=False):
    size, jump = start, 1
    for kernel, stride in layers:
        if jump_first:
            jump *= stride
        size += (kernel - 1) * (jump if use_jump else 1)
        if not jump_first:
            jump *= stride
    return size


FIELD_MISTAKES = [
    (lambda layers: _field_with(layers, use_jump=False),
     "the strides are left out: after a layer with stride 2, neighbouring units stand 2 pixels "
     "apart in the image, so every later window reaches twice as far",
     "Two units next to each other after a 2×2 pooling: how many image pixels apart are their "
     "windows?", "size += (kernel - 1) * jump   # a unit of this layer's input is jump pixels"),
    (lambda layers: sum(k for k, _ in layers),
     "adding up the kernel sizes counts the pixel where two stacked windows meet twice, and "
     "leaves out the strides",
     "Two 3×3 convolutions in a row see 5×5 pixels, not 6×6: draw it on a row of pixels.",
     FIELD_FIX),
    (lambda layers: math.prod(k for k, _ in layers),
     "multiplying the kernel sizes makes the field grow far too fast: each layer adds to the "
     "field, it does not multiply it",
     "A layer's window widens the patch by its kernel minus one input units.", FIELD_FIX),
    (lambda layers: _field_with(layers, jump_first=True),
     "a layer's own stride does not spread its own window: it spaces out the units of its "
     "output, so it widens the windows of the layers after it",
     "The stride is how far a window moves between two outputs; the pixels inside one window "
     "still sit next to each other.",
     "size += (kernel - 1) * jump\njump *= stride   # after: it affects the next layers"),
    (lambda layers: _field_with(layers, start=0),
     "one pixel short: before any layer, a unit is one pixel and sees exactly that pixel",
     "What should the answer be for an empty list of layers?",
     "size, jump = 1, 1   # a pixel sees itself"),
    (lambda layers: _field_with(layers[::-1]),
     "you walked through the layers from the last to the first: the first pair is the layer "
     "that sees the image, and the strides of the early layers spread the later ones",
     "The list starts at the image. Which layer's stride affects which layer's window?",
     "for kernel, stride in layers:   # from the image up"),
]


def _field_number(value, layers):
    if value is None:
        raise Problem(f"receptive_field returned None for the layers {layers}: the function ends "
                      "without returning the size", "A function that only computes a value "
                      "gives None to its caller.", "return size")
    if isinstance(value, (tuple, list)):
        raise Problem(f"receptive_field returned {len(value)} values for the layers {layers}; "
                      "the exercise asks for one number, the side of the patch in pixels",
                      "The jump is a helper for the computation; only the size is the answer.",
                      "return size")
    if _whole(value) or (isinstance(value, (float, np.floating)) and float(value).is_integer()):
        return int(value)
    raise Problem(f"receptive_field returned {_returned(value)} for the layers {layers}; the "
                  "answer is a whole number of pixels", FIELD_HINT, FIELD_FIX)


@check("receptive_field", hint=FIELD_HINT, fix=FIELD_FIX)
def check_receptive_field(receptive_field):
    got = []
    for layers in FIELD_CASES:
        given = list(layers)
        value = receptive_field(given)
        if given != layers:
            raise Problem("receptive_field changed the list of layers it was given, so the "
                          "caller's list is no longer what it was",
                          "Read the list with a loop; do not remove or change its items.",
                          FIELD_FIX)
        got.append(_field_number(value, layers))
    expected = [reference_receptive_field(layers) for layers in FIELD_CASES]
    if got == expected:
        return ("each window adds kernel − 1 units of its input, each unit a jump apart; in "
                "this chapter's network one unit after the second pooling sees 16 × 16 pixels")
    for formula, says, hint, fix in FIELD_MISTAKES:
        if got == [formula(layers) for layers in FIELD_CASES]:
            raise Problem(says, hint, fix)
    i = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
    raise Problem(f"for the layers {FIELD_CASES[i]} (kernel, stride) you return {got[i]}, "
                  f"expected {expected[i]}")


# --- build_cnn ------------------------------------------------------------------------------------
BUILD_FIX = '''\
def build_cnn(rng):
    return Model([Conv2D(1, 16, 5, rng=rng), ReLU(), MaxPool2D(2),      # (16, 12, 12)
                  Conv2D(16, 32, 5, rng=rng), ReLU(), MaxPool2D(2),     # (32, 4, 4)
                  Flatten(),                                            # 512
                  Dense(512, 128, rng=rng), ReLU(), Dropout(0.25, rng=rng),
                  Dense(128, 10, rng=rng), Softmax()],
                 input_shape=(1, 28, 28))'''
BUILD_HINT = ("Follow one image's shape through the stack and write it beside every layer: "
              "(1, 28, 28), then each 5×5 convolution takes 4 pixels off the height and the "
              "width and sets the number of channels, each 2×2 pooling halves the height and the "
              "width, and Flatten lays the maps out as one vector for the Dense layers.")
INPUT_SHAPE = "input_shape=(1, 28, 28)   # one image: channels, height, width"

DESIGN = ["Conv2D", "ReLU", "MaxPool2D", "Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dense", "ReLU",
          "Dropout", "Dense", "Softmax"]
DESIGN_SHAPES = [(16, 24, 24), (16, 24, 24), (16, 12, 12), (32, 8, 8), (32, 8, 8), (32, 4, 4),
                 (512,), (128,), (128,), (128,), (10,), (10,)]
IMAGE = (1, 28, 28)
KINDS = {"Conv2D": Conv2D, "MaxPool2D": MaxPool2D, "Flatten": Flatten, "Dense": Dense,
         "ReLU": ReLU, "Dropout": Dropout, "Softmax": Softmax}
ORDINAL = {1: "first", 2: "second", 3: "third"}


def _kind(layer):
    """The layer's kind ("Conv2D", …): its nnlib class, or a class of that name; else None."""
    for name, cls in KINDS.items():
        if isinstance(layer, cls):
            return name
    name = type(layer).__name__
    return name if name in KINDS else None


def _count(layers):
    """The number of parameters of these layers."""
    return sum(int(np.size(getattr(layer, name))) for layer in layers
               for name in getattr(layer, "param_names", ()))


def _design_parameters():
    return _count(reference_build_cnn().layers)


def _trace(layers, shape=IMAGE):
    """One image's shape after each layer, as far as the layers fit: (shapes, index of the layer
    that does not fit or None)."""
    shapes = []
    for i, layer in enumerate(layers):
        try:
            shape = _shape_after(layer, shape)
        except (ValueError, TypeError, AttributeError):
            return shapes, i
        shapes.append(shape)
    return shapes, None


def _text(shape):
    return f"({', '.join(map(str, shape))}{',' if len(shape) == 1 else ''})"


def _grouped(n):
    return f"{n:,}".replace(",", " ")


def _model_frame(err):
    """The Model.__init__ frame an error was raised under (the whole list of layers is there),
    else the Model.add frame (a student who adds the layers one by one), else None."""
    frames = [frame for frame, _ in traceback.walk_tb(err.__traceback__)]
    for code in (Model.__init__.__code__, Model.add.__code__):
        for frame in frames:
            if frame.f_code is code:
                return frame
    return None


def _refused(err):
    """(layers, input_shape, complete) that a student's call of Model was refused with."""
    frame = _model_frame(err)
    if frame is None:
        return None
    local = frame.f_locals
    if frame.f_code is Model.__init__.__code__:
        layers = local.get("layers")
        try:
            layers = list(layers or [])
        except TypeError:
            return None
        return layers, local.get("input_shape"), True
    model = local.get("self")
    return list(getattr(model, "layers", [])) + [local.get("layer")], \
        getattr(model, "input_shape", None), False


# words shared by several mistakes
FLATTEN_FIX = "Flatten(),                       # (32, 4, 4) -> 512\nDense(512, 128, rng=rng),"
FLAT_HINT = ("Flatten lays C maps of H × W out as one vector of C · H · W numbers: take the "
             "shape after the last pooling layer.")


def _flatten_missing(shape):
    where = f"the {_text(shape)} output of the layer before it" if shape else "images"
    return Problem(f"a Dense layer follows {where}: a Dense layer takes one flat vector per "
                   "example, so the maps must first be laid out in a row by a Flatten layer",
                   "A Dense layer multiplies a vector by a matrix; a stack of maps is not a "
                   "vector until it is flattened.", FLATTEN_FIX)


def _dense_inputs(n_inputs, flat, layers):
    """The Problem for a first Dense layer of n_inputs inputs where Flatten gives ``flat``;
    ``layers`` are the layers before it, which all fit one image (1, 28, 28)."""
    shapes, _ = _trace(layers)
    earlier = [j for j, shape in enumerate([IMAGE] + shapes[:-1]) if math.prod(shape) == n_inputs]
    if earlier and earlier[0] == 0:
        why = (": 784 is the number of pixels of the image, but the convolutions and the "
               "pooling layers have changed the shape since")
    elif earlier:
        j = earlier[0]
        why = (f": {n_inputs} is the size of the {_text(shapes[j - 1])} output of layer {j}, "
               f"{layers[j - 1]!r}, before the layers after it shrink the maps further")
    elif n_inputs == 16 * 4 * 4 and flat == 512:
        why = ": 256 would be 16 maps of 4 × 4, but the second convolution has 32 filters"
    elif n_inputs == 32 * 5 * 5 and flat == 512:
        why = ": 800 would be 32 maps of 5 × 5, but a 5×5 kernel takes 4 pixels off, not 2"
    else:
        why = ""
    return Problem(f"the first Dense layer takes {n_inputs} inputs, but Flatten gives {flat} "
                   f"values per image{why}", FLAT_HINT,
                   f"Dense({flat}, 128, rng=rng),   # Flatten gives {flat}")


def _channels_misfit(conv, channels, position):
    if position == 2 and conv.in_channels == 32 and getattr(conv, "out_channels", None) == 16 \
            and channels == 16:
        return Problem("the second convolution takes 32 channels and gives 16: its first two "
                       "numbers are swapped; a convolution's input channels are the filters of "
                       "the layer before it, 16 here", "In nnlib's Conv2D the order is input "
                       "channels, then filters (output channels), then the kernel size.",
                       "Conv2D(16, 32, 5, rng=rng),   # 16 channels in, 32 filters")
    return Problem(f"the {ORDINAL.get(position, 'next')} convolution takes {conv.in_channels} "
                   f"input channels, but what comes before it has {channels}: a convolution "
                   "takes as many channels as the layer before it has filters (an image "
                   "has 1)", "Each filter of the previous convolution makes one map: one input "
                   "channel for the next convolution.", BUILD_FIX)


def _misfit(layers):
    """The Problem for the first layer that does not fit the shape before it, traced from one
    image (1, 28, 28); None when every layer fits or the misfit has no name here."""
    shapes, bad = _trace(layers)
    if bad is None:
        return None
    layer, before = layers[bad], (shapes[-1] if shapes else IMAGE)
    kind = _kind(layer)
    if kind == "Dense" and len(before) != 1:
        return _flatten_missing(before)
    if kind == "Dense" and isinstance(getattr(layer, "n_inputs", None), numbers.Integral):
        if layer.n_inputs != before[0] and sum(_kind(l) == "Dense" for l in layers[:bad]) == 0:
            return _dense_inputs(layer.n_inputs, before[0], layers[:bad])
        return Problem(f"the Dense layer at position {bad + 1} takes {layer.n_inputs} inputs, "
                       f"but the layer before it gives {before[0]}: each Dense layer takes as "
                       "many inputs as the one before it has outputs", FLAT_HINT, BUILD_FIX)
    if kind == "Conv2D" and len(before) == 3 and isinstance(
            getattr(layer, "in_channels", None), numbers.Integral):
        position = sum(_kind(l) == "Conv2D" for l in layers[:bad + 1])
        return _channels_misfit(layer, before[0], position)
    if kind in ("Conv2D", "MaxPool2D") and len(before) == 1:
        return _after_flatten(kind)
    return None


def _after_flatten(kind):
    return Problem(f"a {kind} layer comes after the maps were flattened: convolution and "
                   "pooling work on images, so they come before Flatten",
                   "Flatten marks the end of the image part of the network.", BUILD_FIX)


def _classes_and_strangers(layers):
    for i, layer in enumerate(layers, 1):
        if isinstance(layer, type):
            return Problem(f"layer {i} is the class {layer.__name__} itself, not a layer made "
                           "from it: a class is the recipe, and the layer is what calling it "
                           "makes (even a layer without arguments)",
                           "Every item of the list is a layer object; empty parentheses create "
                           "one from a class that takes no arguments.",
                           f"{layer.__name__}(),   # a layer, made from the class")
        if _kind(layer) is None:
            return Problem(f"layer {i} is a {type(layer).__name__}: this network is built only "
                           "from nnlib's Conv2D, ReLU, MaxPool2D, Flatten, Dense, Dropout and "
                           "Softmax", "The setup cell imports every layer the design needs.",
                           BUILD_FIX)
    return None


def _normalised(layers):
    """The layers with two harmless swaps undone (they compute the same function): max pooling
    before ReLU, and dropout before ReLU. Returns (layers, the swaps found)."""
    layers, swaps = list(layers), []
    for i in range(len(layers) - 1):
        first, second = _kind(layers[i]), _kind(layers[i + 1])
        if second == "ReLU" and first in ("MaxPool2D", "Dropout"):
            layers[i], layers[i + 1] = layers[i + 1], layers[i]
            swaps.append(first)
    return layers, swaps


def _relu_problem(kinds):
    """The Problem for a missing or extra ReLU, found by where the ReLUs stand."""
    after = {}
    for i, kind in enumerate(kinds):
        if kind in ("Conv2D", "Dense"):
            after[i] = i + 1 < len(kinds) and kinds[i + 1] == "ReLU"
    convs = [i for i, k in enumerate(kinds) if k == "Conv2D"]
    denses = [i for i, k in enumerate(kinds) if k == "Dense"]
    for number, i in enumerate(convs, 1):
        if not after[i]:
            return Problem(f"there is no ReLU after the {ORDINAL.get(number, 'next')} "
                           "convolution: every convolution and hidden Dense layer of the design "
                           "is followed by one, and without it the layer's negative responses "
                           "pass on as they are", "A stack of linear maps is one linear map; the "
                           "ReLUs between them make the depth count.",
                           "Conv2D(16, 32, 5, rng=rng), ReLU(), MaxPool2D(2),")
    if len(denses) == 2 and not after[denses[0]]:
        return Problem("there is no ReLU after the hidden Dense layer: two Dense layers with "
                       "nothing nonlinear between them compute what a single Dense layer could",
                       "Multiply two matrices: the product is again one matrix.",
                       "Dense(512, 128, rng=rng), ReLU(), Dropout(0.25, rng=rng),")
    if denses and after[denses[-1]]:
        return Problem("a ReLU follows the last Dense layer: it sets every negative score to "
                       "0, so the network cannot make one class much less likely than another",
                       "Softmax takes scores of any sign; only the hidden layers need a ReLU.",
                       "Dense(128, 10, rng=rng), Softmax()],")
    return None


def _structure(layers, shapes):
    """The Problem for layers of the wrong kinds, numbers or order (None if they match)."""
    kinds = [_kind(layer) for layer in layers]
    if kinds == DESIGN:
        return None
    n = {kind: kinds.count(kind) for kind in KINDS}
    if n["Flatten"] == 0:
        first_dense = kinds.index("Dense") if "Dense" in kinds else None
        shape = shapes[first_dense - 1] if first_dense and first_dense - 1 < len(shapes) else None
        return _flatten_missing(shape)
    if n["MaxPool2D"] < 2:
        grown = ""
        if _trace(layers)[1] is None:
            grown = (f": the network has {_grouped(_count(layers))} parameters instead of "
                     f"{_grouped(_design_parameters())}, most of them in the first Dense layer, "
                     "which gets far larger maps to read")
        return Problem(f"the network has {n['MaxPool2D']} max pooling layer"
                       f"{'' if n['MaxPool2D'] == 1 else 's'}, the design two, one after each "
                       f"convolution{grown}",
                       "Each 2×2 pooling halves the height and the width of the maps: without "
                       "it, everything after it sees (and pays for) four times as many values.",
                       "Conv2D(1, 16, 5, rng=rng), ReLU(), MaxPool2D(2),")
    if n["Conv2D"] != 2:
        return Problem(f"the network has {n['Conv2D']} convolution"
                       f"{'' if n['Conv2D'] == 1 else 's'}; the design has two, of 16 and 32 "
                       "filters", BUILD_HINT, BUILD_FIX)
    if n["Softmax"] == 0:
        return Problem("the network does not end with Softmax: its outputs would be scores of "
                       "any size and sign, not probabilities that add up to 1",
                       "Predicting only needs the largest score, but the design's forward pass "
                       "returns probabilities.", "Dense(128, 10, rng=rng), Softmax()],")
    if n["Softmax"] > 1 or kinds[-1] != "Softmax":
        return Problem("Softmax must be the last layer, and only one: it turns the 10 scores of "
                       "the last Dense layer into probabilities", BUILD_HINT,
                       "Dense(128, 10, rng=rng), Softmax()],")
    if n["Dense"] == 1:
        return Problem("there is only one Dense layer: the design has a hidden Dense layer of "
                       "128 units between Flatten and the 10 outputs",
                       "Flatten gives 512 values; the design takes them to 128 hidden units, "
                       "then to 10 scores.", BUILD_FIX)
    if n["Dense"] != 2:
        return Problem(f"the network has {n['Dense']} Dense layers; the design has two, "
                       "512 → 128 and 128 → 10", BUILD_HINT, BUILD_FIX)
    relu = _relu_problem(kinds)
    if relu is not None:
        return relu
    if n["Dropout"] == 0:
        return Problem("there is no Dropout layer: the design drops a quarter of the hidden "
                       "Dense layer's outputs while training, after its ReLU",
                       "Chapter 13's dropout: it keeps the units of the largest layer from "
                       "relying on each other.",
                       "Dense(512, 128, rng=rng), ReLU(), Dropout(0.25, rng=rng),")
    if n["Dropout"] > 1:
        return Problem(f"the network has {n['Dropout']} Dropout layers; the design has one, "
                       "after the ReLU of the hidden Dense layer", BUILD_HINT,
                       "Dense(512, 128, rng=rng), ReLU(), Dropout(0.25, rng=rng),")
    if n["Flatten"] > 1:
        return Problem(f"the network has {n['Flatten']} Flatten layers; one, between the last "
                       "pooling layer and the first Dense layer, is all it takes", FLAT_HINT,
                       FLATTEN_FIX)
    if n["ReLU"] != 3:
        return Problem(f"the network has {n['ReLU']} ReLU layers; the design has three, one "
                       "after each convolution and one after the hidden Dense layer",
                       BUILD_HINT, BUILD_FIX)
    i = kinds.index("Dropout")
    if kinds[i - 1:i + 2] != ["ReLU", "Dropout", "Dense"] or i != DESIGN.index("Dropout"):
        before = kinds[i - 1] if i else "nothing"
        return Problem(f"Dropout comes after {before} (position {i + 1}); the design puts it "
                       "after the ReLU of the hidden Dense layer, just before the last Dense "
                       "layer, where it silences some of the 128 hidden units while training",
                       "Dropout on the scores of the last layer would silence whole classes; "
                       "on the images, pixels.", "Dense(512, 128, rng=rng), ReLU(), "
                       "Dropout(0.25, rng=rng),")
    late = [kind for kind in kinds[kinds.index("Flatten"):] if kind in ("Conv2D", "MaxPool2D")]
    if late:
        return _after_flatten(late[0])
    return Problem(f"your layers, in order: {', '.join(kinds)}; the design's: "
                   f"{', '.join(DESIGN)}", BUILD_HINT, BUILD_FIX)


def _attribute(layer, name, i):
    value = getattr(layer, name, None)
    if value is None:
        raise Problem(f"layer {i + 1}, a {type(layer).__name__}, has no {name}: build the "
                      "network from nnlib's layers, which the setup cell imports",
                      "The check reads each layer's sizes from the attributes of nnlib's layers.",
                      BUILD_FIX)
    return value


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _configuration(layers):
    """The Problem for a layer of the right kind with the wrong sizes (None if all fit)."""
    convs = [(i, l) for i, l in enumerate(layers) if _kind(l) == "Conv2D"]
    pools = [(i, l) for i, l in enumerate(layers) if _kind(l) == "MaxPool2D"]
    denses = [(i, l) for i, l in enumerate(layers) if _kind(l) == "Dense"]
    c2 = convs[1][1]
    ins = [_attribute(c, "in_channels", i) for i, c in convs]
    outs = [_attribute(c, "out_channels", i) for i, c in convs]
    kernels = [_pair(_attribute(c, "kernel_size", i)) for i, c in convs]
    if ins[0] != 1:
        return Problem(f"the first convolution takes {ins[0]} input channels; an MNIST image has "
                       "one channel (grey levels), so the input is (1, 28, 28)",
                       "A colour image would have 3 channels; a grey one has 1.",
                       "Conv2D(1, 16, 5, rng=rng),   # 1 channel in, 16 filters")
    if outs == [32, 16]:
        return Problem("the convolutions have 32 and then 16 filters; the design has 16 and then "
                       "32: the first layer finds a few kinds of strokes, the second combines "
                       "them into more kinds of parts, on maps a quarter of the size",
                       "The number of channels usually grows as the maps shrink.",
                       "Conv2D(1, 16, 5, rng=rng), ...\nConv2D(16, 32, 5, rng=rng), ...")
    if ins[1] != outs[0]:
        return _channels_misfit(c2, outs[0], 2)
    if outs != [16, 32]:
        return Problem(f"the convolutions have {outs[0]} and {outs[1]} filters; the design has "
                       "16 and 32", "A convolution's second number is its number of filters "
                       "(output channels).", "Conv2D(1, 16, 5, rng=rng), ...\n"
                       "Conv2D(16, 32, 5, rng=rng), ...")
    for number, ((i, conv), kernel) in enumerate(zip(convs, kernels), 1):
        if kernel != (5, 5):
            shapes, bad = _trace(layers[:next(j for j, l in enumerate(layers)
                                              if _kind(l) == "Flatten") + 1])
            flat = (f", and Flatten gives {shapes[-1][0]} values instead of 512"
                    if bad is None and shapes and shapes[-1][0] != 512 else "")
            return Problem(f"the {ORDINAL[number]} convolution has a {kernel[0]}×{kernel[1]} "
                           f"kernel; the design uses 5×5, which takes the maps from 28 to 24 and "
                           f"from 12 to 8 pixels{flat}", "A k×k kernel takes k − 1 pixels off "
                           "the height and the width.",
                           f"Conv2D({ins[number - 1]}, {outs[number - 1]}, 5, rng=rng),")
        stride, padding = getattr(conv, "stride", 1), getattr(conv, "padding", 0)
        if stride != 1 or padding != 0:
            return Problem(f"the {ORDINAL[number]} convolution has stride {stride} and padding "
                           f"{padding}; the design's convolutions use stride 1 and no padding, "
                           "so each takes 4 pixels off the height and the width", BUILD_HINT,
                           f"Conv2D({ins[number - 1]}, {outs[number - 1]}, 5, rng=rng),")
    for number, (i, pool) in enumerate(pools, 1):
        size, stride = _attribute(pool, "pool_size", i), getattr(pool, "stride", None)
        if size != 2 or stride not in (None, 2):
            return Problem(f"the {ORDINAL[number]} pooling layer takes windows of {size} × {size} "
                           f"with stride {stride}; the design pools 2 × 2 windows side by side, "
                           "which halves the height and the width",
                           "MaxPool2D's stride defaults to its window size.", "MaxPool2D(2),")
    (j1, d1), (j2, d2) = denses
    shapes, _ = _trace(layers[:j1])
    n_in, hidden = _attribute(d1, "n_inputs", j1), _attribute(d1, "n_outputs", j1)
    if shapes and len(shapes[-1]) == 1 and n_in != shapes[-1][0]:
        return _dense_inputs(n_in, shapes[-1][0], layers[:j1])
    if hidden != 128:
        return Problem(f"the hidden Dense layer has {hidden} units; the design has 128",
                       "The second number of a Dense layer is its number of outputs.",
                       "Dense(512, 128, rng=rng), ReLU(), Dropout(0.25, rng=rng),")
    if _attribute(d2, "n_inputs", j2) != hidden:
        return Problem(f"the last Dense layer takes {d2.n_inputs} inputs, but the hidden layer "
                       f"before it gives {hidden}", "Each Dense layer takes as many inputs as "
                       "the layer before it gives.", "Dense(128, 10, rng=rng), Softmax()],")
    if _attribute(d2, "n_outputs", j2) != 10:
        return Problem(f"the last Dense layer gives {d2.n_outputs} outputs; there is one score "
                       "per digit, 10 in all", "The classes are the digits 0 to 9.",
                       "Dense(128, 10, rng=rng), Softmax()],")
    dropout = next(l for l in layers if _kind(l) == "Dropout")
    rate = getattr(dropout, "rate", None)
    if rate is None or not np.isclose(rate, 0.25):
        return Problem(f"the Dropout layer drops a fraction {rate} of the hidden units; the "
                       "design drops 0.25, a quarter", "Dropout's first argument is the "
                       "fraction it drops while training.", "Dropout(0.25, rng=rng),")
    return None


def _input_shape_problem(input_shape):
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else input_shape
    if shape == IMAGE:
        return None
    if shape is None:
        return Problem("the model has no input shape: without it, it cannot check that the "
                       "layers fit one another before images arrive, nor tell the shape after "
                       "each layer", "Model takes the shape of ONE example as a keyword "
                       "argument; for these images, channels, height and width.", INPUT_SHAPE)
    if shape in (784, (784,)):
        return Problem("the input shape is 784, a flattened image; a convolution needs the "
                       "image as it is: 1 channel of 28 × 28 pixels",
                       "784 was the input of the fully connected networks; here Flatten comes "
                       "later, after the convolutions.", INPUT_SHAPE)
    if shape == (28, 28, 1):
        return Problem("the input shape is (28, 28, 1), with the channel last (as in Keras); "
                       "nnlib's images are channels first: (1, 28, 28)",
                       "nnlib, like PyTorch, stores images as (N, C, H, W).", INPUT_SHAPE)
    if shape == (28, 28):
        return Problem("the input shape (28, 28) has no channel axis; a convolution's input is "
                       "(channels, height, width), here (1, 28, 28)",
                       "preprocess with keep_shape gives (N, 1, 28, 28): one grey channel.",
                       INPUT_SHAPE)
    if isinstance(shape, tuple) and len(shape) == 4:
        return Problem(f"the input shape {shape} has four numbers: it is the shape of ONE image, "
                       "without the batch axis, (1, 28, 28)",
                       "The batch size can change from call to call; the model only needs to "
                       "know one example's shape.", INPUT_SHAPE)
    return Problem(f"the input shape is {shape!r}; one MNIST image is 1 channel of 28 × 28 pixels",
                   "Model's input_shape is one example's (channels, height, width).", INPUT_SHAPE)


def _analyse(layers, input_shape):
    """The first Problem of a network built from ``layers`` (structure, sizes, input shape)."""
    if not layers:
        return Problem("the model has no layers: the list given to the Model is empty",
                       BUILD_HINT, BUILD_FIX), []
    problem = _classes_and_strangers(layers)
    if problem is not None:
        return problem, []
    normal, swaps = _normalised(layers)
    shapes, _ = _trace(normal)
    for find in (lambda: _structure(normal, shapes), lambda: _configuration(normal),
                 lambda: _misfit(normal), lambda: _input_shape_problem(input_shape)):
        problem = find()
        if problem is not None:
            return problem, swaps
    return None, swaps


def _build(build_cnn, rng):
    """The student's model, or a Problem named after the layers Model refused."""
    try:
        model = build_cnn(rng)
    except (ValueError, TypeError) as err:
        refused = _refused(err)
        if refused is None:
            raise
        layers, input_shape, complete = refused
        if complete:
            problem, _ = _analyse(layers, input_shape)
        else:
            problem = _classes_and_strangers(layers) or _misfit(layers)
        if problem is None:
            raise
        raise problem from None
    if model is None:
        raise Problem("build_cnn returned None: the function builds the model but does not "
                      "return it", "A function that only computes a value gives None to its "
                      "caller.", BUILD_FIX)
    if isinstance(model, (list, tuple)):
        raise Problem(f"build_cnn returned a {type(model).__name__} of {len(model)} items, not a "
                      "Model: the layers become a network when a Model is made from them, with "
                      "the input shape", "Model takes the list of layers and the input shape "
                      "of one example.", BUILD_FIX)
    if not isinstance(model, Model):
        raise Problem(f"build_cnn returned a {type(model).__name__}; the exercise asks for an "
                      "nnlib Model", "Model takes the list of layers and the input shape of one "
                      "example.", BUILD_FIX)
    return model


def _parameters(model):
    return [(i, name, getattr(layer, name)) for i, layer in enumerate(model.layers)
            for name in getattr(layer, "param_names", ())]


def _rng_problem(build_cnn, first, first_rng):
    """The Problem when the weights do not come from the generator build_cnn is given."""
    again = _build(build_cnn, np.random.default_rng(0))
    other = _build(build_cnn, np.random.default_rng(1))
    for (i, name, a), (_, _, b), (_, _, c) in zip(_parameters(first), _parameters(again),
                                                  _parameters(other)):
        if name != "weights":
            continue
        layer = first.layers[i]
        if not np.array_equal(a, b):
            return Problem(f"layer {i + 1}, {layer!r}, gets different weights from two "
                           "generators made from the same seed: it was not given the generator "
                           "build_cnn receives, so it drew from a fresh one and the network "
                           "cannot be built again", "Every layer with weights takes the "
                           "generator as its rng keyword argument.", BUILD_FIX)
        if np.array_equal(a, c):
            return Problem(f"layer {i + 1}, {layer!r}, gets the same weights from generators "
                           "made from two different seeds: it was given a seed of its own "
                           "instead of the generator build_cnn receives", "Every layer with "
                           "weights takes the generator as its rng keyword argument.", BUILD_FIX)
    dropout = next(l for l in first.layers if _kind(l) == "Dropout")
    if getattr(dropout, "rng", first_rng) is not first_rng:
        return Problem("the Dropout layer was not given the generator: it draws its masks from "
                       "one of its own, so two trainings from the same seed would differ",
                       "Dropout takes an rng keyword argument too: its masks are random.",
                       "Dropout(0.25, rng=rng),")
    return None


@check("build_cnn", hint=BUILD_HINT, fix=BUILD_FIX)
def check_build_cnn(build_cnn):
    rng = np.random.default_rng(0)
    model = _build(build_cnn, rng)
    problem, swaps = _analyse(list(model.layers), model.input_shape)
    if problem is not None:
        raise problem
    if model.output_shape() != (10,):
        raise Problem(f"the model's output shape is {model.output_shape()}, expected (10,)",
                      BUILD_HINT, BUILD_FIX)
    count, expected_count = _count(model.layers), _design_parameters()
    if count != expected_count:
        raise Problem(f"the model has {_grouped(count)} parameters; the design has "
                      f"{_grouped(expected_count)}", BUILD_HINT, BUILD_FIX)
    images = rng_for_checks().random((3, *IMAGE), dtype=np.float32)
    probs = np.asarray(model.forward(images))
    if probs.shape != (3, 10) or not np.allclose(probs.sum(axis=1), 1, atol=1e-4):
        raise Problem("for 3 images the model's forward pass does not give 3 rows of 10 "
                      "probabilities", BUILD_HINT, BUILD_FIX)
    problem = _rng_problem(build_cnn, model, rng)
    if problem is not None:
        raise problem
    same = all(np.array_equal(a, b) for (_, _, a), (_, _, b) in
               zip(_parameters(model), _parameters(reference_build_cnn(seed=0))))
    note = (" → ".join(_text(s) if len(s) > 1 else str(s[0])
                       for s in [IMAGE] + [DESIGN_SHAPES[i] for i in (0, 2, 3, 5, 6, 7, 10)])
            + f", {_grouped(count)} parameters")
    if swaps:
        note += ("; you put " + " and ".join(sorted(set(swaps))) + " before a ReLU, which gives "
                 "the same numbers (the ReLU of the largest value is the largest ReLU)")
    if same:
        note += "; the same weights as nnlib's build_cnn from the same seed"
    return note
