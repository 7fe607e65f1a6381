"""Exercise checks: one function per exercise, called in the cell right under it.

Each check runs the student's code on several inputs (edge cases included), compares with nnlib's
reference, and prints one line: ✅ correct, ⏳ not implemented yet, or ❌ and what is wrong.
It returns a CheckResult (``.ok``, ``.message``) that displays nothing in a notebook.
"""

from ._core import CheckResult
