"""The playground in a real browser: JupyterLab runs chapter 11, headless Chromium clicks it.

Starts ``python -m jupyter lab`` (this Python, so its kernel is this environment) on a free
loopback port, in a temporary folder holding a copy of solutions/11_playground.ipynb; opens the
notebook in headless Chromium with Playwright; runs all cells from the Run menu; then moves the
learning-rate slider with the keyboard, clicks Train, watches the plot and the status line
change, clicks Stop and sees the run stopped. Then it switches to the dark theme in a window of
683 × 512 CSS pixels (1024 × 768 at 150 % zoom) and checks what is visible: readouts, handles,
controls within the window, the status line above the plot, and a drawn plot.

Skipped when Chromium or Playwright is missing, unless NNLIB_REQUIRE_BROWSER=1 (as in CI), which
turns a missing piece into a failure. Debian's Chromium is used; no browser is downloaded.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "solutions" / "11_playground.ipynb"
CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REQUIRED = os.environ.get("NNLIB_REQUIRE_BROWSER") == "1"


def missing(reason):
    if REQUIRED:
        pytest.fail(f"{reason} (NNLIB_REQUIRE_BROWSER=1 requires the browser test to run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sync_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright Python package is not installed (pip install playwright)")
    if not CHROMIUM.is_file():
        missing(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return sync_playwright


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_settings(folder):
    """JupyterLab settings for a quiet, fully rendered notebook: no news pop-up, and every cell
    in the page (no windowing), so the test sees all of them."""
    for plugin, values in {
            "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                            "checkForUpdates": False},
            "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"}}.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """URL of a JupyterLab serving a folder with a copy of the chapter 11 solution notebook."""
    if not NOTEBOOK.is_file():
        pytest.fail(f"{NOTEBOOK} is missing")
    home = tmp_path_factory.mktemp("lab")
    (home / "notebooks").mkdir()
    # without its stored outputs, so that an execution count proves the cell ran in this test
    notebook = json.loads(NOTEBOOK.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (home / "notebooks" / NOTEBOOK.name).write_text(json.dumps(notebook))
    write_settings(home / "settings")
    port = free_port()
    log = open(home / "server.log", "w")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTER_CONFIG_DIR": str(home / "config")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         "--IdentityProvider.token=", "--ServerApp.password=",
         "--ServerApp.disable_check_xsrf=True",
         f"--ServerApp.root_dir={home / 'notebooks'}",
         f"--LabApp.user_settings_dir={home / 'settings'}",
         f"--LabApp.workspaces_dir={home / 'workspaces'}",
         "--LabApp.extension_manager=readonly"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {server.returncode}: "
                            f"{(home / 'server.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not answer within 90 s")
                time.sleep(0.3)
        yield url
    finally:
        try:    # a clean shutdown also shuts down the notebook's kernel
            urllib.request.urlopen(urllib.request.Request(f"{url}/api/shutdown", method="POST"),
                                   timeout=10).close()
            server.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def luminance(css_colour):
    """Relative luminance (WCAG) of a CSS 'rgb(r, g, b)' or 'rgba(r, g, b, a)' colour."""
    r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css_colour)[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a, b):
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def check_visible_in_dark_small_window(page, box, plot_screenshot):
    """What a lecturer sees: readouts with their values, handles that stand out from the page,
    controls inside the window's width, the status line above the plot, and a plot whose
    pixels are not just the page's background."""
    from PIL import Image

    width = page.viewport_size["width"]
    background = page.evaluate("getComputedStyle(document.querySelector('.jp-Notebook'))"
                               ".backgroundColor")
    assert luminance(background) < 0.1, f"not a dark background: {background}"
    readouts = box.locator(".widget-readout")
    assert readouts.count() == 6
    for i in range(readouts.count()):
        readout = readouts.nth(i)
        assert readout.is_visible() and readout.inner_text().strip(), f"readout {i} is empty"
        text_colour = readout.evaluate("e => getComputedStyle(e).color")
        assert contrast(text_colour, background) > 3, f"readout {i} is {text_colour}"
    for i, handle in enumerate(box.locator(".noUi-handle").all()):
        colour = handle.evaluate("e => getComputedStyle(e).backgroundColor")
        assert contrast(colour, background) > 2, f"handle {i} is {colour} on {background}"
    for control in box.locator(".widget-slider, .widget-dropdown, button").all():
        bounds = control.bounding_box()
        assert bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= width + 1, \
            f"{control.inner_text()!r} lies outside the {width} px window: {bounds}"
    status, image = box.locator(".widget-html-content").last, box.locator("img")
    assert status.bounding_box()["y"] < image.bounding_box()["y"]
    assert image.bounding_box()["width"] <= width
    plot = np.asarray(Image.open(plot_screenshot).convert("RGB"), dtype=float)
    bg = np.array([float(v) for v in re.findall(r"[\d.]+", background)[:3]])
    ink = np.abs(plot - bg).max(axis=2) > 60      # clearly different from the page
    assert plot.size and 0.01 < ink.mean() < 0.5, f"{ink.mean():.1%} of the plot is drawn"


def test_playground_trains_and_stops_in_jupyterlab(sync_playwright, jupyterlab, tmp_path):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1100})
            errors = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(f"{jupyterlab}/lab/tree/{NOTEBOOK.name}")
            page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=90_000)
            # the kernel must be connected before Run All: a cell run without one is skipped
            page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')", timeout=90_000)
            prompts = page.locator(".jp-CodeCell .jp-InputPrompt")
            n_code = sum(cell["cell_type"] == "code"
                         for cell in json.loads(NOTEBOOK.read_text())["cells"])
            wait_for(lambda: prompts.count() == n_code, 60, f"all {n_code} code cells to show")

            # Run → Run All Cells, then wait until every code cell has an execution count
            page.click(".lm-MenuBar-itemLabel:text-is('Run')")
            page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")

            def all_ran():
                texts = prompts.all_inner_texts()
                return len(texts) == n_code and all(re.fullmatch(r"\[\d+\]:", t.strip())
                                                    for t in texts)

            try:
                wait_for(all_ran, 300, "all cells to run")
            except AssertionError:
                page.screenshot(path=str(tmp_path / "run-all-timeout.png"), full_page=True)
                raise AssertionError(f"not every cell ran in 300 s; prompts: "
                                     f"{' '.join(t.strip() for t in prompts.all_inner_texts())}; "
                                     f"screenshot in {tmp_path}") from None
            assert page.locator(".jp-OutputArea-output[data-mime-type="
                                "'application/vnd.jupyter.stderr']").count() == 0

            box = page.locator(".nnlib-playground").first
            sliders = box.locator(".widget-slider")
            readouts = box.locator(".widget-readout")
            status = box.locator(".widget-html-content").last
            image = box.locator("img")
            train = box.locator("button:has-text('Train')")
            stop = box.locator("button:has-text('Stop')")
            assert "Run 1" in status.inner_text() and "done" in status.inner_text()

            # the keyboard moves the learning rate from 0.1 up three steps of 10^0.1, to 0.2;
            # End moves epochs to the maximum, so the run is still going when we press Stop
            sliders.nth(0).locator(".noUi-handle").focus()
            for _ in range(3):
                page.keyboard.press("ArrowRight")
            sliders.nth(3).locator(".noUi-handle").focus()
            page.keyboard.press("End")
            wait_for(lambda: readouts.nth(0).inner_text() == "0.20", 10, "the readout 0.20")
            assert readouts.nth(3).inner_text() == "100"

            before = image.get_attribute("src")
            train.click()
            wait_for(lambda: "Run 2 (SGD, lr 0.2, batch 128)" in status.inner_text()
                     and "epoch" in status.inner_text(), 60, "the status line to show run 2")
            pictures = set()     # each new picture gets a new blob: URL

            def redrawn_twice():
                pictures.add(image.get_attribute("src"))
                return len(pictures - {before}) >= 2

            wait_for(redrawn_twice, 60, "the plot to be redrawn twice while training")
            assert train.is_disabled() and stop.is_enabled()
            page.screenshot(path=str(tmp_path / "playground-training.png"))

            stop.click()
            wait_for(lambda: "stopped" in status.inner_text(), 30, "the run to stop")
            assert re.search(r"Run 2 \(SGD, lr 0\.2, batch 128\) stopped after [\d.]+ epochs",
                             status.inner_text())
            wait_for(train.is_enabled, 10, "Train to be enabled again")
            assert stop.is_disabled()
            box.screenshot(path=str(tmp_path / "playground-stopped.png"))

            # JupyterLab's dark theme, in the CSS size of 1024 × 768 at 150 % zoom (683 × 512)
            page.click(".lm-MenuBar-itemLabel:text-is('Settings')")
            page.click(".lm-Menu-itemLabel:text-is('Theme')")
            page.click(".lm-Menu-itemLabel:text-is('JupyterLab Dark')")
            page.wait_for_selector("body[data-jp-theme-light='false']", state="attached",
                                   timeout=30_000)
            page.set_viewport_size({"width": 683, "height": 512})
            page.click(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")  # collapse it
            page.wait_for_timeout(1000)
            box.scroll_into_view_if_needed()
            page.screenshot(path=str(tmp_path / "playground-dark-small.png"))
            image.screenshot(path=str(tmp_path / "plot-dark-small.png"))
            check_visible_in_dark_small_window(page, box, tmp_path / "plot-dark-small.png")
            assert not errors, errors
        finally:
            browser.close()
