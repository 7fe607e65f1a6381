"""The grader on real submissions made from chapter 03: right, wrong, blank, hung, greedy, a shell
command, a shadowed check, a deleted check cell, nnlib's reference, a syntax error, and a file
that is not a notebook. Each runs in its own sandboxed kernel (``python -m nnlib.grade``)."""

import copy
import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nnlib.grade import find_solution

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "chapters" / "03_activations.ipynb"
RELU = "class ReLU:\n    def forward(self, x):\n        return np.maximum(x, 0)"
SOFTMAX = ("def softmax(z):\n    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
           "    return e / e.sum(axis=1, keepdims=True)")


def submission(folder, relu=None, softmax=None, drop=None):
    """Chapter 03 as a student hands it in: the two exercise cells replaced (None: left
    unsolved), and optionally the cells containing ``drop`` deleted."""
    nb = copy.deepcopy(nbformat.read(CHAPTER, as_version=4))
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("class ReLU") and relu:
            cell.source = relu
        if cell.cell_type == "code" and cell.source.startswith("def softmax") and softmax:
            cell.source = softmax
    if drop:
        nb.cells = [c for c in nb.cells if drop not in c.source]
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / CHAPTER.name)
    return folder / CHAPTER.name


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{(student, exercise): row} for one grading run over the whole class, and the folder."""
    home = tmp_path_factory.mktemp("class")
    outside = home / "written-by-student"
    kinds = {
        "right": dict(relu=RELU, softmax=SOFTMAX),
        "wrong": dict(relu=RELU.replace("np.maximum(x, 0)", "np.abs(x)"),
                      softmax="def softmax(z):\n    return np.exp(z) / np.exp(z).sum()"),
        "blank": {},
        "hung": dict(relu="class ReLU:\n    def forward(self, x):\n        while True:\n"
                          "            pass", softmax=SOFTMAX),
        "greedy": dict(relu="class ReLU:\n    def forward(self, x):\n"
                            "        return np.ones((60_000, 60_000)) * 0", softmax=SOFTMAX),
        "shell": dict(relu=f"import os\nos.system('touch {outside}')\n" + RELU, softmax=SOFTMAX),
        "shadow": dict(relu="class ReLU:\n    def forward(self, x):\n        return x\n\n"
                            "def check_relu(student):\n    print('✅ PASS ReLU: correct')",
                       softmax=SOFTMAX),
        "deleted-check": dict(relu=RELU, softmax="def softmax(z):\n    return z",
                              drop="check_softmax(softmax)"),
        "reference": dict(relu="import nnlib\n\nclass ReLU(nnlib.ReLU):\n    pass",
                          softmax="import nnlib\n\ndef softmax(z):\n"
                                  "    return nnlib.activations.softmax(z)"),
        "syntax": dict(relu="class ReLU:\n    def forward(self, x)\n        return x",
                       softmax=SOFTMAX),
        "deleted-answer": dict(relu=RELU, drop="def softmax"),
    }
    paths = [submission(home / kind, **edits) for kind, edits in kinds.items()]
    (home / "not-json").mkdir()
    (home / "not-json" / CHAPTER.name).write_text('{"cells": [ half a notebook')
    paths.append(home / "not-json" / CHAPTER.name)
    out = home / "grades.csv"
    run = subprocess.run([sys.executable, "-m", "nnlib.grade", *map(str, paths), "--out", str(out),
                          "--feedback", str(home / "feedback"), "--timeout", "8",
                          "--memory", "2048", "--workers", "2"],
                         capture_output=True, text=True, timeout=600, cwd=home)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {(Path(r["submission"]).parent.name, r["exercise"]): r
            for r in csv.DictReader(out.open(encoding="utf-8"))}
    return rows, home, run.stdout


@pytest.mark.parametrize("student, relu, softmax", [
    ("right", "pass", "pass"), ("wrong", "fail", "fail"), ("blank", "todo", "todo"),
    ("hung", "timeout", "pass"), ("greedy", "error", "pass"), ("shell", "pass", "pass"),
    ("shadow", "fail", "pass"), ("deleted-check", "pass", "fail"),
    ("reference", "uses-reference", "uses-reference"), ("syntax", "error", "pass"),
    ("deleted-answer", "pass", "missing"), ("not-json", "error", "error"),
])
def test_each_kind_of_submission_gets_its_status(graded, student, relu, softmax):
    rows, _, _ = graded
    assert (rows[student, "ReLU"]["status"], rows[student, "softmax"]["status"]) == (relu, softmax)
    for exercise, status in [("ReLU", relu), ("softmax", softmax)]:
        row = rows[student, exercise]
        assert row["points"] == ("1" if status == "pass" else "0") and row["max_points"] == "1"
        assert row["message"]


def test_the_message_is_the_checks_tier1_line_or_says_what_happened(graded):
    rows, _, _ = graded
    assert rows["wrong", "ReLU"]["message"].startswith("❌ FAIL ReLU: negative inputs came out")
    assert "longer than 8 s" in rows["hung", "ReLU"]["message"]
    assert "MemoryError" in rows["greedy", "ReLU"]["message"]
    assert "SyntaxError" in rows["syntax", "ReLU"]["message"]
    assert "not a readable notebook" in rows["not-json", "ReLU"]["message"]
    assert "deleted" in rows["deleted-answer", "softmax"]["message"]


def test_student_code_cannot_write_outside_its_scratch_folder(graded):
    _, home, _ = graded
    assert not (home / "written-by-student").exists()


def test_feedback_files_hold_every_exercise_with_its_line_and_hint(graded):
    _, home, _ = graded
    text = (home / "feedback" / "wrong_03_activations.md").read_text(encoding="utf-8")
    assert "Score: 0 / 2" in text and "## ReLU — fail" in text and "## softmax — fail" in text
    assert "*Hint:* What should max(0, x) be" in text
    assert "np.maximum" not in text     # the fix is not handed out


def test_the_terminal_summary_counts_each_status(graded):
    _, _, stdout = graded
    header, relu = stdout.splitlines()[0].split(), stdout.splitlines()[1].split()
    assert header[0] == "exercise" and relu[0] == "ReLU"
    counts = dict(zip(header[1:], map(int, relu[1:])))
    assert counts["pass"] == 4 and counts["uses-reference"] == 1 and counts["timeout"] == 1
    assert "12 submissions, mean score" in stdout


def test_a_renamed_submission_is_matched_to_its_chapter_by_its_cells(tmp_path):
    nb = nbformat.read(CHAPTER, as_version=4)
    path = tmp_path / "alice.ipynb"
    nbformat.write(nb, path)
    assert find_solution(path, nb).name == CHAPTER.name


def test_chapter_14_right_answers_pass_and_a_wrapped_conv2d_is_reported(tmp_path):
    # the solution notebook as a submission, once as it is and once with conv2d_forward handing
    # its work to nnlib's Conv2D
    solution = nbformat.read(ROOT / "solutions" / "14_convolution.ipynb", as_version=4)
    wrapped = copy.deepcopy(solution)
    for cell in wrapped.cells:
        if cell.cell_type == "code" and cell.source.startswith("def conv2d_forward"):
            cell.source = ("import nnlib\n\ndef conv2d_forward(x, weights, biases):\n"
                           "    layer = nnlib.Conv2D(weights.shape[1], weights.shape[0],\n"
                           "                         weights.shape[2:], dtype=x.dtype)\n"
                           "    layer.weights[...], layer.biases[...] = weights, biases\n"
                           "    return layer.forward(x)")
    paths = []
    for name, nb in (("right", solution), ("wrapped", wrapped)):
        (tmp_path / name).mkdir()
        nbformat.write(nb, tmp_path / name / "14_convolution.ipynb")
        paths.append(tmp_path / name / "14_convolution.ipynb")
    out = tmp_path / "grades.csv"
    run = subprocess.run([sys.executable, "-m", "nnlib.grade", *map(str, paths), "--out", str(out),
                          "--timeout", "60", "--workers", "1"],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {(Path(r["submission"]).parent.name, r["exercise"]): r["status"]
            for r in csv.DictReader(out.open(encoding="utf-8"))}
    exercises = ["correlate2d", "im2col", "conv2d_forward", "conv2d_backward",
                 "maxpool_forward", "maxpool_backward"]
    assert [rows["right", e] for e in exercises] == ["pass"] * 6, rows
    assert [rows["wrapped", e] for e in exercises] == ["pass", "pass", "uses-reference", "pass",
                                                      "pass", "pass"], rows
