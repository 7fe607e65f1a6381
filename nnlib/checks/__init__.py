"""Exercise checks: one function per exercise, called in the cell right under it.

Each check runs the student's code on several inputs (edge cases included), compares with nnlib's
reference, and prints one line: ✅ correct, ⏳ not implemented yet, or ❌ and what is wrong and why
(never the code of the fix). It returns a CheckResult: ``.ok``, ``.status`` ("pass", "fail",
"todo", "error"), ``.message`` (the line), and after a failure ``.hint`` and ``.fix``, which a
notebook shows folded under the line until the student clicks them open.
"""

from ._core import CheckResult, Mistake, Problem
from .ch00_welcome import check_mean_square
from .ch01_mnist import check_one_hot, check_preprocess, check_train_val_split
from .ch02_dense_layer import (check_dense, check_dense_forward, check_glorot_vs_he,
                               check_init_std, check_neuron)
from .ch03_activations import check_relu, check_softmax
from .ch04_loss_and_accuracy import check_accuracy, check_categorical_cross_entropy
from .ch12_keras_comparison import check_keras_weights, check_weights_from_torch_layout
from .ch05_backpropagation import (check_dense_backward, check_relu_backward,
                                  check_softmax_backward, check_softmax_cross_entropy_backward)
from .ch09_evaluation import (check_confusion_matrix, check_most_confident_mistakes,
                             check_per_class_accuracy)
from .ch06_gradient_checking import (check_bug_report, check_check_layer,
                                    check_numerical_gradient, check_rel_error)
from .ch07_sgd import check_gradient_descent, check_sgd, check_sgd_momentum
from .ch10_save_and_load import check_load_model, check_save_model
from .ch08_training_loop import check_fit, check_minibatches, check_train_epoch, check_train_step
from .ch13_beyond_sgd import (check_adam, check_dropout, check_early_stopping,
                              check_weight_decay_step)
from .ch14_convolution import (check_conv2d_backward, check_conv2d_forward, check_correlate2d,
                               check_im2col, check_maxpool_backward, check_maxpool_forward)
from .ch15_cnn import check_build_cnn, check_conv_output_size, check_receptive_field
