"""The feedback promises of COURSE.md: a check's tier-1 line never shows code, a failure carries a
hint and a fix that wait until asked, and no cell before a check gives away its exercise's code."""

import ast
import re
import sys
from pathlib import Path

import nbformat
import pytest

import nnlib.checks
from feedback_rules import code_in
from nnlib.checks import _core

ROOT = Path(__file__).resolve().parent.parent
CHECK_MODULES = sorted((ROOT / "nnlib" / "checks").glob("*.py"))
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
sys.path.insert(0, str(ROOT / "tools"))
import build_chapters  # noqa: E402


# --- tier 1 holds no code ------------------------------------------------------------------------
def _text_of(node):
    """A string literal or f-string as text, each {expression} shown as «…»."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "«…»" for v in node.values)
    return None


def tier1_literals(path):
    """(line number, text) of every tier-1 sentence written in a check module: the first argument
    of Problem(...), the ``says`` of Mistake(...), and a success note returned by a check."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            args = {"Problem": node.args[:1], "Mistake": node.args[1:2]}.get(name, [])
            args += [k.value for k in node.keywords if k.arg == "says"]
            for arg in args:
                parts = [arg] if not isinstance(arg, ast.BinOp) else [arg.left, arg.right]
                found += [(node.lineno, t) for t in map(_text_of, parts) if t is not None]
    return found


def test_tier1_literals_are_found():
    assert sum(len(tier1_literals(p)) for p in CHECK_MODULES) > 100


@pytest.mark.parametrize("path", CHECK_MODULES, ids=lambda p: p.name)
def test_no_tier1_sentence_written_in_a_check_shows_code(path):
    shown = [(line, text, code_in(text)) for line, text in tier1_literals(path) if code_in(text)]
    assert not shown, "\n".join(f"{path.name}:{line}: {code!r} in {text!r}"
                                for line, text, code in shown)


@pytest.mark.parametrize("line, code", [
    ("use x.T @ dout", "x.T"), ("sum with axis=0", "axis=0"), ("keepdims=True", "keepdims"),
    ("yield x[idx], y[idx]", "x[idx]"), ("np.add.at(cm, (t, p), 1)", "np.add"),
    ("dz = (softmax(z) − one_hot) / N", "dz = ("), ("call `fit(x, y)`", "`fit(x, y)`"),
    ("use dout.sum(0)", "dout.sum("), ("x -= m changes it", "-="), ("a @ b", "a @ b"),
])
def test_the_code_detector_finds_code(line, code):
    assert code_in(line) is not None and code_in(line) in line


@pytest.mark.parametrize("line", [
    "dbiases is 1/N of the right value (N = 5): every example adds its own share to a shared bias",
    "each row must sum to 1, but yours sum to 3.2", "max(0, x) element-wise, input left untouched",
    "at index (1, 1) you have 0.5, expected 0.25", "zero it wherever x <= 0",
])
def test_the_code_detector_leaves_words_and_maths_alone(line):
    assert code_in(line) is None


def test_every_check_is_a_three_tier_check():
    names = [n for n in dir(nnlib.checks) if n.startswith("check_")]
    assert len(names) > 30
    for n in names:
        assert getattr(getattr(nnlib.checks, n), "exercise", None), f"{n} is not built with @check"


# --- the tiers are delivered as promised ---------------------------------------------------------
@_core.check("demo", hint="concept", fix="code()")
def _demo_check(student):
    if student == "wrong":
        raise _core.Problem("it is wrong because of a reason")
    if student == "specific":
        raise _core.Problem("named mistake", "its own hint", "its_own_fix()")
    if student == "crash-in-check":
        return int(None)
    if callable(student):
        student()


def test_a_failure_prints_one_line_and_keeps_hint_and_fix_for_later(capsys):
    result = _demo_check("wrong")
    assert capsys.readouterr().out == "❌ FAIL demo: it is wrong because of a reason\n"
    assert (result.status, result.hint, result.fix) == ("fail", "concept", "code()")
    result = _demo_check("specific")
    assert (result.hint, result.fix) == ("its own hint", "its_own_fix()")
    assert "<details><summary>Hint</summary><p>its own hint</p></details>" in result.details_html()


def test_a_pass_is_one_line_with_nothing_folded(capsys):
    result = _demo_check("right")
    assert capsys.readouterr().out == "✅ PASS demo: correct\n"
    assert result.ok and result.status == "pass" and result.details_html() == ""


def test_an_exception_in_the_students_code_is_the_students(capsys):
    def student():
        return {}["missing"]
    result = _demo_check(student)
    assert result.status == "error"
    assert result.message == "❌ FAIL demo: your code raised KeyError: 'missing'"


def test_an_exception_in_the_check_itself_does_not_blame_the_student():
    result = _demo_check("crash-in-check")
    assert result.status == "fail"
    assert "TypeError inside the check" in result.message
    assert "your code raised" not in result.message


def test_an_unsolved_exercise_is_todo():
    def student():
        raise NotImplementedError()
    assert _demo_check(student).status == "todo"


# --- no answer before its exercise's check --------------------------------------------------------
# Tools a chapter teaches before an exercise uses them; each is a piece of the answer, never the
# answer. (Whitespace removed, as the detector compares.)
ALLOWED_IDIOMS = {
    "getattr(layer,name)", 'getattr(layer,"d"+name)',    # 07: how an optimizer finds parameters
    "fornameinlayer.param_names:",                        # 07, 10: the same, as a loop
    "fori,layerinenumerate(model.layers):", "enumerate(model.layers)",   # 10: layer positions
    'withnp.load(path/"weights.npz",allow_pickle=False)asstored:',       # 10: the safe way to
    'np.load(path/"weights.npz",allow_pickle=False)',                    # open an .npz
    "np.random.default_rng(rng)",                         # 01: a seed or a Generator, either
}


def _answer_pieces(region_lines):
    """The recognisable pieces of a solution: each line, and the expression it assigns or
    returns, without spaces; short or plain pieces (``return x``) are not telling."""
    pieces = set()
    for line in region_lines:
        line = line.split("#")[0].strip()
        candidates = [line]
        m = re.match(r"^(?:return|yield)\s+(.+)$|^[\w.,\[\] ]+?\s*[+\-*/]?=\s*(.+)$", line)
        if m:
            candidates.append(m.group(1) or m.group(2))
        candidates += _calls_in(line)
        for c in candidates:
            c = re.sub(r"\s+", "", c)
            if len(c) >= 8 and re.search(r"[.(\[@*/+\-]", c) and c not in ALLOWED_IDIOMS:
                pieces.add(c)
    return pieces


def _calls_in(line):
    """The calls inside one line of code that take arguments and are long enough to be telling,
    such as ``z.max(axis=1, keepdims=True)`` inside a longer expression."""
    code = re.sub(r":$", ": pass", line)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return [ast.get_source_segment(code, node) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and (node.args or node.keywords)
            and len(ast.get_source_segment(code, node)) >= 14]


def _solution_regions(source):
    regions, inside = [], None
    for line in source.splitlines():
        if line.strip() == build_chapters.BEGIN:
            inside = []
        elif line.strip() == build_chapters.END:
            regions.append(inside)
            inside = None
        elif inside is not None:
            inside.append(line)
    return regions


def _shown(cell):
    """Everything a student sees of a cell in the chapter: its source with solutions stripped,
    and (for code) what it prints when run. The ``def``/``class`` lines are left out: a signature
    is the exercise's interface, which a later answer may call, not a piece of any answer."""
    if cell.cell_type == "code":
        text = "\n".join(line for line in build_chapters.strip_solutions(cell.source, "")
                          .splitlines() if not re.match(r"\s*(def|class)\s", line))
    else:
        text = cell.source
    for out in cell.get("outputs", []):
        text += "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
    return re.sub(r"\s+", "", text)


def answers_shown_before_their_check(path):
    cells = [c for c in nbformat.read(path, as_version=4).cells
             if "solution-only" not in c.metadata.get("tags", [])]
    leaks = []
    for i, cell in enumerate(cells):
        if cell.cell_type != "code" or build_chapters.BEGIN not in cell.source:
            continue
        pieces = set().union(*map(_answer_pieces, _solution_regions(cell.source)))
        check_at = next(j for j in range(i + 1, len(cells)) if cells[j].cell_type == "code")
        for j in range(check_at):
            if j == i:
                continue
            shown = _shown(cells[j])
            leaks += [(i, j, p) for p in sorted(pieces) if p in shown]
    return leaks


def test_the_answer_detector_finds_an_answer_in_a_folded_derivation():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("<details>In code: `x.T @ dout`</details>"),
        nbformat.v4.new_code_cell("def f(x, dout):\n    ### BEGIN SOLUTION\n"
                                  "    dweights = x.T @ dout\n    ### END SOLUTION"),
        nbformat.v4.new_code_cell("check_f(f)")])
    path = Path(__file__).parent / "_leak_probe.ipynb"
    try:
        nbformat.write(nb, path)
        assert answers_shown_before_their_check(path) == [(1, 0, "x.T@dout")]
    finally:
        path.unlink()


def test_calling_an_earlier_exercise_by_its_signature_is_no_answer():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("def im2col(x, kh, kw):\n    ### BEGIN SOLUTION\n"
                                  "    return x\n    ### END SOLUTION"),
        nbformat.v4.new_code_cell("check_im2col(im2col)"),
        nbformat.v4.new_code_cell("def conv(x, w):\n    ### BEGIN SOLUTION\n"
                                  "    cols = im2col(x, kh, kw)\n    return cols @ w.T\n"
                                  "    ### END SOLUTION"),
        nbformat.v4.new_code_cell("check_conv(conv)")])
    path = Path(__file__).parent / "_signature_probe.ipynb"
    try:
        nbformat.write(nb, path)
        assert answers_shown_before_their_check(path) == []
        nb.cells.insert(2, nbformat.v4.new_markdown_cell("Hint: `cols @ w.T`"))
        nbformat.write(nb, path)
        assert answers_shown_before_their_check(path) == [(3, 2, "cols@w.T")]
    finally:
        path.unlink()


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_no_cell_before_a_check_shows_its_exercises_code(path):
    leaks = answers_shown_before_their_check(path)
    assert not leaks, "\n".join(f"{path.name}: cell {j} shows {piece!r}, the answer of the "
                                f"exercise in cell {i}, before its check" for i, j, piece in leaks)


def test_in_a_grading_run_a_check_that_does_not_pass_raises_with_its_line(monkeypatch):
    monkeypatch.setenv("NNLIB_GRADING", "1")
    with pytest.raises(_core.CheckFailed) as raised:
        _demo_check("wrong")
    assert str(raised.value) == "❌ FAIL demo: it is wrong because of a reason"
    assert raised.value._render_traceback_() == ["Hint: concept"]
    assert _demo_check("right").ok      # a pass raises nothing
