"""nbgrader really grades a chapter: ``generate_assignment`` accepts solutions/03_activations.ipynb
as its source, and ``autograde`` takes the points of a check away from a blank or wrong answer.

nbgrader pins Jupyter packages of its own, so it lives in a separate environment: CI installs it
into ``.venv-nbgrader`` (with nnlib); ``NNLIB_NBGRADER`` may name another nbgrader executable.
Without one the test skips, unless NNLIB_REQUIRE_NBGRADER=1 (as in CI) makes that a failure.
"""

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "solutions" / "03_activations.ipynb"
NBGRADER = Path(os.environ.get("NNLIB_NBGRADER", ROOT / ".venv-nbgrader" / "bin" / "nbgrader"))
RELU = "class ReLU:\n    def forward(self, x):\n        return np.maximum(x, 0)"
SOFTMAX = ("def softmax(z):\n    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
           "    return e / e.sum(axis=1, keepdims=True)")


def nbgrader(course, *args):
    env = {**os.environ, "PATH": f"{NBGRADER.parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run([str(NBGRADER), *args], cwd=course, env=env, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{run.stderr[-3000:]}"
    return run


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    if not NBGRADER.is_file():
        if os.environ.get("NNLIB_REQUIRE_NBGRADER") == "1":
            pytest.fail(f"no nbgrader at {NBGRADER} (NNLIB_REQUIRE_NBGRADER=1)")
        pytest.skip(f"no nbgrader at {NBGRADER}: see the README, For instructors: grading")
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "tools" / "nbgrader_config.py", course / "nbgrader_config.py")
    (course / "source" / "03_activations").mkdir(parents=True)
    shutil.copy(SOURCE, course / "source" / "03_activations" / SOURCE.name)
    nbgrader(course, "generate_assignment", "03_activations", "--create")
    release = json.loads((course / "release" / "03_activations" / SOURCE.name).read_text())
    for student, relu, softmax in [("right", RELU, SOFTMAX), ("blank", None, None),
                                   ("wrong", RELU.replace("np.maximum(x, 0)", "np.abs(x)"),
                                    SOFTMAX)]:
        nb = json.loads(json.dumps(release))
        for cell in nb["cells"]:
            text = "".join(cell["source"])
            if cell["cell_type"] == "code" and text.startswith("class ReLU") and relu:
                cell["source"] = relu
            if cell["cell_type"] == "code" and text.startswith("def softmax") and softmax:
                cell["source"] = softmax
        folder = course / "submitted" / student / "03_activations"
        folder.mkdir(parents=True)
        (folder / SOURCE.name).write_text(json.dumps(nb))
    nbgrader(course, "autograde", "03_activations", "--create")
    nbgrader(course, "export", "--to", str(course / "grades.csv"))
    return course


def test_generate_assignment_clears_the_answers_and_keeps_the_checks(course):
    release = json.loads((course / "release" / "03_activations" / SOURCE.name).read_text())
    sources = ["".join(c["source"]) for c in release["cells"] if c["cell_type"] == "code"]
    assert not any("np.maximum" in s and "class ReLU" in s for s in sources)
    assert "check_relu(ReLU)" in sources and "check_softmax(softmax)" in sources


def test_blank_and_wrong_submissions_lose_the_points_of_their_failed_checks(course):
    scores = {row["student_id"]: (float(row["score"]), float(row["max_score"]))
              for row in csv.DictReader((course / "grades.csv").open())}
    assert scores == {"right": (2.0, 2.0), "wrong": (1.0, 2.0), "blank": (0.0, 2.0)}


def test_the_graded_notebook_shows_the_line_and_the_hint_but_no_traceback_or_fix(course):
    graded = json.loads((course / "autograded" / "wrong" / "03_activations" /
                         SOURCE.name).read_text())
    check = next(c for c in graded["cells"] if "".join(c["source"]) == "check_relu(ReLU)")
    kinds = [o["output_type"] for o in check["outputs"]]
    assert kinds == ["stream", "error"]
    assert "".join(check["outputs"][0]["text"]).startswith("❌ FAIL ReLU: negative inputs came out")
    assert check["outputs"][1]["traceback"] == ["Hint: What should max(0, x) be for x = −2?"]


def test_chapter_14_is_graded_by_nbgrader_too(course, tmp_path):
    # a second chapter, with six exercises that call each other: the solution as a submission
    # keeps all six points, the released (blank) notebook gets none. (The course fixture is
    # asked for its check that nbgrader is there; this chapter gets a course folder of its own.)
    name = "14_convolution"
    shutil.copy(ROOT / "tools" / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    (tmp_path / "source" / name).mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / f"{name}.ipynb", tmp_path / "source" / name)
    nbgrader(tmp_path, "generate_assignment", name, "--create")
    for student, folder in (("right", "source"), ("blank", "release")):
        (tmp_path / "submitted" / student / name).mkdir(parents=True)
        shutil.copy(tmp_path / folder / name / f"{name}.ipynb",
                    tmp_path / "submitted" / student / name)
    nbgrader(tmp_path, "autograde", name, "--create")
    nbgrader(tmp_path, "export", "--to", str(tmp_path / "grades.csv"))
    scores = {row["student_id"]: (float(row["score"]), float(row["max_score"]))
              for row in csv.DictReader((tmp_path / "grades.csv").open())}
    assert scores == {"right": (6.0, 6.0), "blank": (0.0, 6.0)}
