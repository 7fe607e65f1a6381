"""The three tiers in a real browser: a student runs chapter 03 in JupyterLab with a right ReLU and
a wrong softmax. Each check prints one line; under the failure, "Hint" and "Show the fix" stay
folded until clicked open.

JupyterLab serves the chapter as a student gets it (no outputs), with ReLU answered and softmax
answered wrongly (normalised over the batch instead of each row); headless Chromium runs all
cells from the Run menu, as a student would. See browser.py for how Chromium is found.
"""

import json
from pathlib import Path

import pytest
from browser import CHROMIUM_ARGS, playwright_and_chromium, serve_jupyterlab

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "chapters" / "03_activations.ipynb"
RIGHT_RELU = "class ReLU:\n    def forward(self, x):\n        return np.maximum(x, 0)"
WRONG_SOFTMAX = ("def softmax(z):\n    e = np.exp(z - z.max(axis=0, keepdims=True))\n"
                 "    return e / e.sum(axis=0, keepdims=True)")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    sync_playwright, chromium = playwright_and_chromium()
    notebook = json.loads(CHAPTER.read_text())
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith("def softmax"):
            cell["source"] = WRONG_SOFTMAX
        if cell["cell_type"] == "code" and source.startswith("class ReLU"):
            cell["source"] = RIGHT_RELU
    with serve_jupyterlab(tmp_path_factory.mktemp("lab"), {CHAPTER.name: notebook}) as (url, _), \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}/lab/tree/{CHAPTER.name}")
        page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')", timeout=90_000)
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        page.wait_for_selector(".jp-OutputArea-output:has-text('FAIL softmax')", timeout=120_000)
        yield page
        browser.close()


def check_cell(page):
    return page.locator(".jp-CodeCell").filter(has_text="FAIL softmax")


def test_the_line_names_the_mistake_and_shows_no_code(page):
    line = check_cell(page).locator(".jp-OutputArea-output", has_text="FAIL softmax")
    text = line.inner_text().strip()
    assert text.startswith("❌ FAIL softmax: your COLUMNS sum to 1"), text
    assert "axis" not in text and "keepdims" not in text


def test_hint_and_fix_stay_folded_until_clicked(page):
    cell = check_cell(page)
    hint = cell.locator("details", has=page.locator("summary", has_text="Hint"))
    fix = cell.locator("details", has=page.locator("summary", has_text="Show the fix"))
    fix_code = fix.locator("pre")
    assert hint.count() == 1 and fix.count() == 1
    assert not fix_code.is_visible()            # folded: the code is not on the screen
    assert not hint.locator("p").is_visible()
    hint.locator("summary").click()
    assert hint.locator("p").is_visible()
    assert "row" in hint.locator("p").inner_text()
    assert not fix_code.is_visible()            # opening the hint leaves the fix folded
    fix.locator("summary").click()
    assert fix_code.is_visible()
    assert "keepdims=True" in fix_code.inner_text()


def test_a_passing_check_is_one_line_with_nothing_folded(page):
    relu = page.locator(".jp-CodeCell").filter(has_text="PASS ReLU")
    assert relu.count() == 1
    assert relu.locator(".jp-OutputArea-output").count() == 1
    assert relu.locator("details").count() == 0
