"""The course as a whole: chapters/ is exactly what the build makes from solutions/, every exercise
has a check right under it, and every chapter runs from a fresh kernel with its exercises unsolved."""

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_chapters  # noqa: E402
import run_notebooks  # noqa: E402

SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_solution_notebooks_and_chapters():
    assert SOLUTIONS, "no notebooks in solutions/"
    assert [p.name for p in CHAPTERS] == [p.name for p in SOLUTIONS]


def test_chapters_are_exactly_what_the_build_makes_from_solutions():
    stale = [path.name for path, text in build_chapters.expected_chapters().items()
             if not path.is_file() or path.read_text() != text]
    assert not stale, (f"chapters/ is out of date for {stale}: run "
                       "`python tools/build_chapters.py` and commit the result")


def test_build_replaces_solution_regions_at_their_indentation():
    source = ("def f(x):\n    \"\"\"doc\"\"\"\n    ### BEGIN SOLUTION\n    return x + 1\n"
              "    ### END SOLUTION\n\nprint(f)")
    assert build_chapters.strip_solutions(source, "t") == (
        "def f(x):\n    \"\"\"doc\"\"\"\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
        "\nprint(f)")
    with pytest.raises(ValueError, match="never closed"):
        build_chapters.strip_solutions("### BEGIN SOLUTION\nx = 1", "t")


def _code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_chapters_carry_no_outputs_and_no_solutions(chapter):
    for cell in _code_cells(chapter):
        assert cell.outputs == [] and cell.execution_count is None
        assert "BEGIN SOLUTION" not in cell.source and "solution-only" not in cell.metadata.get(
            "tags", [])


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_every_exercise_is_followed_by_a_check(solution):
    cells = _code_cells(solution)
    for i, cell in enumerate(cells):
        if build_chapters.BEGIN in cell.source:
            following = cells[i + 1].source if i + 1 < len(cells) else ""
            assert re.search(r"\bcheck_\w+\(", following), (
                f"{solution.name}: the exercise in code cell {i} is not followed by a check cell:\n"
                f"{cell.source[:200]}")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_chapter_runs_from_a_fresh_kernel_with_exercises_unsolved(chapter):
    nb = nbformat.read(chapter, as_version=4)
    # Strict: Run All must reach the end with no error at all, not even NotImplementedError.
    # Only cells tagged "raises-exception" may raise (nbclient honours that tag).
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(chapter.parent)}})
    try:
        client.execute()
    except CellExecutionError as err:
        failing = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                   and "raises-exception" not in c.metadata.get("tags", [])
                   and any(o.get("output_type") == "error" for o in c.get("outputs", []))]
        where = f"cell {failing[0]}" if failing else "a cell"
        source = nb.cells[failing[0]].source[:300] if failing else ""
        pytest.fail(f"{chapter.name}: Run All with exercises unsolved stops at {where} "
                    f"(0-based index of all cells):\n{source}\n---\n{str(err)[-1500:]}")
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.outputs if o.get("name") == "stdout")
    passed = re.findall(r"✅ PASS [^\n]*", printed)
    assert not passed, f"a check passed an unsolved exercise: {passed}"


def test_nbval_waits_a_minute_for_the_outputs_of_every_notebook_cell(tmp_path):
    # conftest.py raises nbval's fixed 5 s wait, which busy machines have exceeded
    (tmp_path / "record_waits.py").write_text(
        "def pytest_collection_finish(session):\n"
        "    print('WAITS', sorted({getattr(i, 'output_timeout', None) for i in session.items}),\n"
        "          len(session.items))\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "record_waits",
                          "solutions/08_training_loop.ipynb", "chapters/13_beyond_sgd.ipynb"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    waits = re.search(r"^WAITS \[(.*)\] (\d+)$", out.stdout, re.M)
    assert waits, out.stdout + out.stderr
    assert waits.group(1) == "60" and int(waits.group(2)) > 20


def test_an_nbval_failure_says_how_to_refresh_the_stored_outputs():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1 + 1)", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="3\n")])])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = ROOT / "tests" / "_stale_probe.ipynb"   # inside the repository, so conftest.py applies
    try:
        nbformat.write(nb, path)
        out = subprocess.run([sys.executable, "-m", "pytest", "-q", str(path)],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        path.unlink()
    assert out.returncode == 1, out.stdout[-2000:]
    assert "stored outputs out of date?" in out.stdout, out.stdout[-2000:]
    assert "python tools/run_notebooks.py tests/_stale_probe.ipynb" in out.stdout


@pytest.mark.parametrize("name", ["00_welcome.ipynb", "03_activations.ipynb"])
def test_re_executing_an_unchanged_notebook_changes_no_byte(tmp_path, name):
    copy = tmp_path / name
    copy.write_text((ROOT / "solutions" / name).read_text())
    run_notebooks.run(copy)
    assert copy.read_text() == (ROOT / "solutions" / name).read_text()


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_solutions_carry_nbgrader_metadata_for_every_exercise_and_check(solution):
    nb = nbformat.read(solution, as_version=4)
    assert not build_chapters.nbgrader_metadata(nb), (
        f"{solution.name} lacks nbgrader metadata: run `python tools/build_chapters.py`")
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), f"duplicate grade_id in {solution.name}: {ids}"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_solutions_are_stored_executed_top_to_bottom(solution):
    # nbval compares a cell's outputs only when the notebook stores some: a solution saved
    # without running it would pass while showing nothing, so every code cell must carry its
    # execution count, 1, 2, 3, … in order, as one Run All from a fresh kernel leaves them
    counts = [c.execution_count for c in nbformat.read(solution, as_version=4).cells
              if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{solution.name} is not stored as executed top to bottom (execution counts {counts}): "
        f"run `python tools/run_notebooks.py solutions/{solution.name}`")
