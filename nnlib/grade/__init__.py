"""Grade a class's chapter notebooks with the course's own checks.

    python -m nnlib.grade SUBMISSION.ipynb... --out grades.csv [--feedback DIR] [--timeout SECONDS]

What is graded comes from ``solutions/`` (the single source), never from the submission: the
exercises of the chapter, their check cells and their points. Each submission runs in a fresh
kernel in a scratch folder of its own (see ``sandbox.py`` for the limits). The kernel runs the
chapter's own cells, the student's answer cells in their place, and, after each answer, the
instructor's check, judged from its result object (``probe.py``). An exercise that hangs is a
``timeout`` and the others are still graded.
"""

import functools
import json
import os
import queue
import re
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
STATUSES = ("pass", "fail", "todo", "error", "timeout", "missing", "uses-reference")
BEGIN = "### BEGIN SOLUTION"

# nnlib's own version of each exercise: an answer that is (or calls) one of these is graded
# "uses-reference". Earlier chapters' components are the student's to use and are not listed.
REFERENCES = {
    "preprocess": ["nnlib.data:preprocess"], "one_hot": ["nnlib.data:one_hot"],
    "train_val_split": ["nnlib.data:train_val_split"],
    "dense_forward": ["nnlib.layers:Dense"], "Dense": ["nnlib.layers:Dense"],
    "ReLU": ["nnlib.activations:ReLU"],
    "softmax": ["nnlib.activations:softmax", "nnlib.activations:Softmax"],
    "CategoricalCrossEntropy": ["nnlib.losses:CategoricalCrossEntropy"],
    "accuracy": ["nnlib.losses:accuracy"],
    "dense_backward": ["nnlib.layers:Dense"], "relu_backward": ["nnlib.activations:ReLU"],
    "softmax_backward": ["nnlib.activations:Softmax"],
    "softmax_cross_entropy_backward": ["nnlib.losses:SoftmaxCrossEntropy",
                                       "nnlib.losses:softmax_cross_entropy"],
    "numerical_gradient": ["nnlib.gradcheck:numerical_gradient"],
    "rel_error": ["nnlib.gradcheck:rel_error"], "check_layer": ["nnlib.gradcheck:check_layer"],
    "SGD": ["nnlib.optimizers:SGD"], "SGD with momentum": ["nnlib.optimizers:SGD"],
    "minibatches": ["nnlib.data:minibatches"], "train_step": ["nnlib.model:Model.train_step"],
    "train_epoch": ["nnlib.model:Model.fit"], "fit": ["nnlib.model:Model.fit"],
    "save_model": ["nnlib.model:Model.save", "nnlib.modelfile"],
    "load_model": ["nnlib.model:Model.load", "nnlib.modelfile"],
    "Adam": ["nnlib.optimizers:Adam"], "Dropout": ["nnlib.layers:Dropout"],
    "correlate2d": ["nnlib.layers:Conv2D"], "im2col": ["nnlib.layers:Conv2D"],
    "conv2d_forward": ["nnlib.layers:Conv2D"], "conv2d_backward": ["nnlib.layers:Conv2D"],
    "maxpool_forward": ["nnlib.layers:MaxPool2D"], "maxpool_backward": ["nnlib.layers:MaxPool2D"],
    "conv_output_size": ["nnlib.layers:_out_size"], "build_cnn": ["nnlib.train:build_cnn"],
    "receptive_field": ["nnlib.checks.ch15_cnn:reference_receptive_field"],
}


@dataclass
class Exercise:
    """One exercise of a chapter, as the solution notebook defines it."""
    cell_id: str
    name: str            # the name the answer defines and the check receives, e.g. "softmax"
    check_source: str    # the instructor's check cell, e.g. "check_softmax(softmax)"
    exercise: str        # the check's name for it, e.g. "softmax"
    points: float = 1.0


@dataclass
class Row:
    submission: str
    exercise: str
    status: str
    points: float
    max_points: float
    message: str
    hint: str = ""
    seconds: float = 0.0


@functools.lru_cache(maxsize=None)   # read once per chapter, not once per submission
def chapter_plan(solution):
    """The chapter's steps in order, up to its last check: ("setup", source) for the chapter's
    own cells and ("exercise", Exercise) for each exercise with the check cell right under it."""
    import nbformat
    from nnlib import checks
    cells = [c for c in nbformat.read(solution, as_version=4).cells
             if c.cell_type == "code" and "solution-only" not in c.metadata.get("tags", [])]
    steps, skip = [], set()
    for i, cell in enumerate(cells):
        if i in skip:
            continue
        if BEGIN not in cell.source:
            steps.append(("setup", cell.source))
            continue
        check_cell = cells[i + 1]
        call = re.match(r"\s*(check_\w+)\((\w+)", check_cell.source)
        if not call:
            raise ValueError(f"{solution.name}: the cell after an exercise is not a check")
        points = check_cell.metadata.get("nbgrader", {}).get("points", 1)
        steps.append(("exercise", Exercise(cell.get("id", ""), call.group(2),
                                           check_cell.source.strip(),
                                           getattr(checks, call.group(1)).exercise,
                                           float(points))))
        skip.add(i + 1)
    # what comes after the last check grades nothing (in chapters 08 and 13: the long training)
    while steps and steps[-1][0] == "setup":
        steps.pop()
    return tuple(steps)


def find_solution(notebook_path, notebook):
    """The solution notebook a submission belongs to: by the NN_ of its file name, else by the
    chapter named in its metadata, else by the cell ids it shares with a solution."""
    found = re.search(r"(?<!\d)(\d\d)_", Path(notebook_path).name)
    named = (notebook or {}).get("metadata", {}).get("nnlib", {}).get("chapter", "")
    for prefix in [found.group(1) if found else None, named[:2] or None]:
        matches = sorted(SOLUTIONS.glob(f"{prefix}_*.ipynb")) if prefix else []
        if matches:
            return matches[0]
    ids = {c.get("id") for c in (notebook or {}).get("cells", [])}
    best = max(SOLUTIONS.glob("[0-9][0-9]_*.ipynb"), key=lambda p: len(ids & {
        c.get("id") for c in json.loads(p.read_text())["cells"]}))
    return best if ids else None


def _defines(source, name):
    return re.search(rf"^(def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*=", source,
                     re.M) is not None


def find_answer(cells, exercise):
    """The student's answer cell: the one with the exercise cell's id if it still defines the
    answer, else the last code cell that defines it; None when there is none."""
    code = [c for c in cells if c.get("cell_type") == "code"]
    for cell in code:
        if cell.get("id") == exercise.cell_id and _defines(_text(cell), exercise.name):
            return _text(cell)
    defining = [_text(c) for c in code if _defines(_text(c), exercise.name)]
    return defining[-1] if defining else None


def _text(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


class Kernel:
    """A sandboxed IPython kernel in ``scratch`` that runs one cell at a time with a time limit."""

    def __init__(self, scratch, memory_mb, cpu_seconds):
        from jupyter_client import KernelManager
        from jupyter_client.kernelspec import KernelSpecManager
        self.scratch = Path(scratch)
        # the kernel starts in chapters/ like a student's, so that the chapters' relative paths
        # (../models/ch08_mnist) stay inside the scratch folder
        self.cwd = self.scratch / "chapters"
        for sub in ("tmp", ".ipython", ".mpl", "chapters"):
            (self.scratch / sub).mkdir(parents=True, exist_ok=True)
        spec = self.scratch.parent / "spec" / "nnlib-grade"
        spec.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "nnlib.grade.sandbox", "--scratch", str(self.scratch),
                "--cwd", str(self.cwd), "--memory", str(memory_mb), "--cpu", str(cpu_seconds),
                "--",
                sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                "--HistoryManager.enabled=False"]
        if os.geteuid() == 0 and shutil.which("unshare"):
            argv = ["unshare", "--net"] + argv      # no network at all, not even loopback
        (spec / "kernel.json").write_text(json.dumps(
            {"argv": argv, "language": "python", "display_name": "nnlib grading"}))
        self.manager = KernelManager(
            kernel_name="nnlib-grade", transport="ipc", ip=str(self.scratch / "ipc"),
            connection_file=str(self.scratch / "connection.json"),
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec.parent)]))
        passed = {k: v for k, v in os.environ.items()
                  if k in ("PATH", "LANG", "LC_ALL") or k.startswith("OPENBLAS_CORETYPE")
                  or k.startswith("OPENBLAS_L2")}
        self.env = {**passed, "HOME": str(self.scratch), "TMPDIR": str(self.scratch / "tmp"),
                    "IPYTHONDIR": str(self.scratch / ".ipython"),
                    "MPLCONFIGDIR": str(self.scratch / ".mpl"), "MPLBACKEND": "agg",
                    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                    "TF_CPP_MIN_LOG_LEVEL": "3", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        self.start()

    def start(self):
        log = open(self.scratch.parent / "kernel.log", "ab")    # the kernel's own chatter
        self.manager.start_kernel(env=self.env, cwd=str(self.cwd), stdout=log, stderr=log)
        log.close()
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def restart(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        self.start()

    def close(self):
        try:
            self.client.stop_channels()
            self.manager.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - a kernel that is already gone is closed
            pass

    def run(self, code, timeout):
        """Run one cell: ("ok" | "error" | "timeout" | "dead", display outputs, error line).
        After "timeout" or "dead" the kernel has been interrupted or restarted."""
        msg_id = self.client.execute(code, allow_stdin=False)
        deadline, outputs, error = time.monotonic() + timeout, [], ""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return ("timeout", outputs, error) if self._interrupt(msg_id) else \
                    self._restarted("timeout", outputs)
            try:
                msg = self.client.get_iopub_msg(timeout=min(left, 1.0))
            except queue.Empty:
                if not self.manager.is_alive():
                    return self._restarted("dead", outputs)
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind in ("display_data", "execute_result"):
                outputs.append(content["data"])
            elif kind == "error":
                error = f"{content['ename']}: {content['evalue']}".splitlines()[0]
            elif kind == "status" and content["execution_state"] == "idle":
                return ("error" if error else "ok"), outputs, error

    def _interrupt(self, msg_id, wait=5.0):
        """Interrupt the running cell; True when the kernel came back to idle in time."""
        self.manager.interrupt_kernel()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                msg = self.client.get_iopub_msg(timeout=0.5)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status" \
                    and msg["content"]["execution_state"] == "idle":
                return True
        return False

    def _restarted(self, state, outputs):
        self.restart()
        self.restarted = True
        return state, outputs, ""


@dataclass
class Options:
    timeout: float = 60.0         # seconds per exercise: its answer cell, then its check
    setup_timeout: float = 600.0  # seconds per chapter cell
    memory_mb: int = 4096
    cpu_seconds: int = 3600
    scratch_root: str = ""
    replay: list = field(default_factory=list)


def grade(path, options=None):
    """Grade one submission: a list of Row, one per exercise of its chapter."""
    options = options or Options()
    path = Path(path)
    try:
        import nbformat
        notebook = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except Exception as err:  # noqa: BLE001 - any unreadable file is graded, not crashed on
        solution = find_solution(path, None)
        why = f"not a readable notebook ({type(err).__name__}: {str(err).splitlines()[0][:120]})"
        if solution is None:
            return [Row(str(path), "(chapter)", "error", 0, 0, why)]
        return [Row(str(path), ex.exercise, "error", 0, ex.points, why)
                for kind, ex in chapter_plan(solution) if kind == "exercise"]
    solution = find_solution(path, notebook)
    if solution is None:
        return [Row(str(path), "(chapter)", "error", 0, 0, "no chapter matches this notebook")]
    plan = chapter_plan(solution)
    scratch = Path(tempfile.mkdtemp(prefix="nnlib-grade-", dir=options.scratch_root or None))
    scratch.chmod(0o711)    # a kernel dropped to "nobody" must reach its folder inside
    secret = secrets.token_hex(16)
    probe = f"_grader_{secret}"
    kernel = Kernel(scratch / "work", options.memory_mb, options.cpu_seconds)
    state = [f"import nnlib.grade.probe as {probe}"]
    rows = []

    def replay():
        kernel.restarted = False
        for source in state:
            kernel.run(source, options.setup_timeout)

    try:
        replay()
        for kind, step in plan:
            kernel.restarted = False
            if kind == "setup":
                outcome, _, _ = kernel.run(step, options.setup_timeout)
                if outcome in ("ok", "error"):
                    state.append(step)
                elif kernel.restarted:
                    replay()
                continue
            rows.append(_grade_exercise(kernel, step, notebook, path, probe, secret, options,
                                        state))
            if kernel.restarted:
                replay()
    finally:
        kernel.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return rows


def _grade_exercise(kernel, ex, notebook, path, probe, secret, options, state):
    start = time.monotonic()

    def row(status, message, hint=""):
        points = ex.points if status == "pass" else 0.0
        return Row(str(path), ex.exercise, status, points, ex.points, message, hint,
                   round(time.monotonic() - start, 2))

    answer = find_answer(notebook.cells, ex)
    if answer is None:
        return row("missing", f"no cell defines {ex.name}: the exercise cell was deleted")
    outcome, _, answer_error = kernel.run(answer, options.timeout)
    if outcome == "timeout":
        return row("timeout", f"the cell defining {ex.name} ran longer than "
                              f"{options.timeout:g} s")
    if outcome == "dead":
        return row("error", f"the kernel died while running the cell defining {ex.name} "
                            "(memory or CPU limit?)")
    state.append(answer)
    judge = f"{probe}.judge({secret!r}, {ex.check_source!r}, {REFERENCES.get(ex.exercise, [])!r})"
    outcome, outputs, _ = kernel.run(judge, options.timeout)
    if outcome == "timeout":
        return row("timeout", f"the check of {ex.exercise} ran longer than {options.timeout:g} s "
                              "(an endless loop?)")
    if outcome == "dead":
        return row("error", f"the kernel died during the check of {ex.exercise} "
                            "(memory or CPU limit?)")
    reports = [o["application/vnd.nnlib.grade+json"] for o in outputs
               if o.get("application/vnd.nnlib.grade+json", {}).get("secret") == secret]
    if not reports:
        return row("error", "the check produced no result")
    report = reports[-1]
    if answer_error and report["status"] != "pass":
        return row("error", f"the cell defining {ex.name} raised {answer_error}",
                   "Run that cell on its own and fix the error it shows first.")
    if report["status"] == "uses-reference":
        return row("uses-reference", f"{ex.exercise} calls nnlib's own version instead of "
                                     "implementing it", "The exercise is to write it yourself.")
    return row(report["status"], report["message"], report["hint"])
