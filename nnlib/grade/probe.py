"""Runs inside the grading kernel: judge one exercise with the instructor's check.

The grader imports this module before any student code runs, so it holds the genuine checks even
if a student later defines (or overwrites) a ``check_…`` of their own. ``judge`` evaluates the
instructor's check cell with those genuine checks, watches whether the student's answer runs
nnlib's own reference for the exercise, and publishes the result as one display message marked
with the grader's secret, which the student's code cannot know in advance.
"""

import ast
import importlib
import sys

import nnlib.checks as _checks
from nnlib.checks._core import is_student_file

GENUINE = {name: getattr(_checks, name) for name in dir(_checks) if name.startswith("check_")}
MIME = "application/vnd.nnlib.grade+json"


def _resolve(spec):
    """'nnlib.activations:softmax' -> the object."""
    module, _, name = spec.partition(":")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _codes(obj):
    """The code objects of a function, or of every function defined in a class."""
    if isinstance(obj, type):
        return {f.__code__ for f in vars(obj).values() if hasattr(f, "__code__")}
    return {obj.__code__} if hasattr(obj, "__code__") else set()


def _uses(student, references):
    """True when the student's answer IS a reference (or a subclass of one)."""
    for ref in references:
        if student is ref or (isinstance(student, type) and isinstance(ref, type)
                              and issubclass(student, ref)):
            return True
    return False


def judge(secret, source, reference_specs):
    """Evaluate the check call in ``source`` with the genuine checks and publish its result."""
    from IPython import get_ipython
    from IPython.display import display
    namespace = dict(get_ipython().user_ns)
    namespace.update(GENUINE)
    references = [_resolve(s) for s in reference_specs]
    codes = set().union(*map(_codes, references)) if references else set()
    hits = []

    def watch(frame, event, arg):
        if event != "call" or frame.f_code not in codes:
            return
        caller = frame.f_back
        owner = frame.f_locals.get("self")
        if (caller is not None and is_student_file(caller.f_code.co_filename)) or (
                owner is not None and type(owner).__module__ == "__main__"):
            hits.append(frame.f_code.co_name)

    report = {"secret": secret, "status": "error", "message": "", "hint": "", "exercise": ""}
    try:
        tree = ast.parse(source.strip(), mode="eval")
        student = eval(compile(ast.Expression(tree.body.args[0]), __file__, "eval"), namespace)
        reference_used = _uses(student, references)
        sys.setprofile(watch)
        try:
            result = eval(compile(tree, __file__, "eval"), namespace)
        finally:
            sys.setprofile(None)
        report.update(status=result.status, message=result.message, hint=result.hint,
                      exercise=result.exercise)
        if result.status == "pass" and (reference_used or hits):
            report["status"] = "uses-reference"
    except NameError as err:
        report["message"] = f"the answer is not defined ({err}): was its cell run without errors?"
    except BaseException as err:   # noqa: BLE001 - SystemExit or anything else from student code
        report["message"] = f"grading stopped: {type(err).__name__}: {err}"
    display({MIME: report, "text/plain": report["message"]}, raw=True)
