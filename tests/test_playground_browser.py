"""The playground in a real browser: JupyterLab runs chapter 11 and headless Chromium looks at it
the way a lecturer's projector shows it.

Starts ``python -m jupyter lab`` (this Python, so its kernel is this environment) on a free
loopback port, in a temporary folder holding a copy of solutions/11_playground.ipynb without its
outputs; opens the notebook in headless Chromium with Playwright and runs all cells from the Run
menu. A second client on the notebook's kernel (jupyter_client, through the connection file in
the server's runtime folder) asks the kernel what only it knows: the runs, and where each piece
of text lies in the plot's picture.

At 1920 × 1080 the lecturer trains from the keyboard: focus moves to Stop after Train and back
to Train when the run ends, a learning rate typed in mid-run shows on the curve, in the run's
history and in its legend entry, and "0 0 Enter" typed into a locked box neither reaches
JupyterLab's shortcuts (whose "0 0" is shown to open "Restart Kernel?" on a notebook cell) nor
changes the box, and the kernel keeps its state. Then a click on CNN lowers the training images
and says so, a CNN run draws its curves live with the model control locked, and a click on MLP
gives the images back.

Then, for each setting — 1920 × 1080 at 100 %, and 1024 × 768 at 150 % (683 × 512 CSS pixels at
a device pixel ratio of 1.5, JupyterLab's presentation mode, side bar closed), each in the light
and the dark theme — it measures what is visible and asserts on it: the plot drawn for the
widget's width (its picture neither stretched nor shrunk), no plot text smaller than the control
text, a contrast of at least 4.5:1 for every piece of plot text (from the screenshot's pixels),
nothing outside the picture, the widget or the notebook's view (controls and plot fit on one
screen), and the controls' accessible names and values in Chromium's accessibility tree. The
measurements are printed (``pytest -s`` shows them); screenshots go to the folder named by
NNLIB_SCREENSHOTS, else to the test's temporary folder.

Chromium is NNLIB_CHROMIUM if set, else ``chromium`` (or ``chromium-browser``) on the PATH; no
browser is downloaded. Without Chromium or Playwright the test is skipped, unless
NNLIB_REQUIRE_BROWSER=1 (as in CI), which makes that a failure.
"""

import ast
import glob
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from browser import CHROMIUM_ARGS, playwright_and_chromium, serve_jupyterlab, wait_for

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "solutions" / "11_playground.ipynb"
# (name, CSS width, CSS height, device pixel ratio, dark theme)
SETTINGS = [("1920x1080 light", 1920, 1080, 1.0, False),
            ("1920x1080 dark", 1920, 1080, 1.0, True),
            ("1024x768 at 150% light", 683, 512, 1.5, False),
            ("1024x768 at 150% dark", 683, 512, 1.5, True)]
# each slider's accessible name, and the playground's attribute it sets
SLIDERS = {"learning rate": "learning_rate", "batch size": "batch_size",
           "hidden units": "hidden_units", "epochs": "epochs", "training images": "train_size",
           "momentum": "momentum"}


@pytest.fixture(scope="module")
def sync_playwright():
    return playwright_and_chromium()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("NNLIB_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """(URL, runtime folder) of a JupyterLab serving a copy of the chapter 11 solution."""
    if not NOTEBOOK.is_file():
        pytest.fail(f"{NOTEBOOK} is missing")
    # without its stored outputs, so that an execution count proves the cell ran in this test
    notebook = json.loads(NOTEBOOK.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    with serve_jupyterlab(tmp_path_factory.mktemp("lab"), {NOTEBOOK.name: notebook}) as lab:
        yield lab


class Kernel:
    """A second client on the notebook's kernel: evaluates expressions in its namespace without
    running a cell (no output, no execution count)."""

    def __init__(self, runtime):
        from jupyter_client import BlockingKernelClient
        files = glob.glob(str(runtime / "kernel-*.json"))
        assert len(files) == 1, f"expected one kernel, found {files}"
        self.client = BlockingKernelClient(connection_file=files[0])
        self.client.load_connection_file()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=30)

    def __call__(self, expression):
        """The value of a Python expression in the kernel (its repr read back with
        ast.literal_eval)."""
        reply = self.client.execute("", silent=True, store_history=False, reply=True,
                                    user_expressions={"value": expression}, timeout=60)
        value = reply["content"]["user_expressions"]["value"]
        if value["status"] != "ok":
            raise AssertionError(f"{expression}: {value['ename']}: {value['evalue']}")
        return ast.literal_eval(value["data"]["text/plain"])

    def close(self):
        self.client.stop_channels()


class Lab:
    """A browser page showing chapter 11 after Run All, and the kernel behind it."""

    def __init__(self, browser, url, shots):
        self.browser, self.url, self.shots = browser, url, shots
        self.page = self.kernel = self.size = None
        self.errors = []

    def open(self, width, height, scale):
        """Open the notebook in a window of width × height CSS pixels at a device pixel ratio
        of ``scale``: what width × scale by height × scale pixels show at a zoom of scale × 100 %.
        Once the cells have run, a new window shows their widgets from the running kernel."""
        if self.page is not None:
            self.page.context.close()
        context = self.browser.new_context(viewport={"width": width, "height": height},
                                           device_scale_factor=scale)
        self.page = context.new_page()
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))
        self.page.goto(f"{self.url}/lab/tree/{NOTEBOOK.name}")
        self.page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=90_000)
        # the kernel must be connected before Run All: a cell run without one is skipped
        self.page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')", timeout=90_000)
        self.cdp = context.new_cdp_session(self.page)
        self.size = (width, height, scale)

    def playground(self, name):
        """The widget shown by the cell whose whole source is ``name``."""
        cell = self.page.locator(".jp-CodeCell").filter(
            has=self.page.locator(".jp-InputArea .cm-content", has_text=re.compile(f"^{name}$")))
        return cell.locator(".nnlib-playground")

    def menu(self, *path):
        self.page.click(f".lm-MenuBar-itemLabel:text-is('{path[0]}')")
        for label in path[1:]:
            self.page.click(f".lm-Menu-itemLabel:text-is('{label}')")

    def theme(self, dark):
        light = "false" if dark else "true"
        if self.page.locator(f"body[data-jp-theme-light='{light}']").count():
            return
        self.menu("Settings", "Theme", "JupyterLab Dark" if dark else "JupyterLab Light")
        self.page.wait_for_selector(f"body[data-jp-theme-light='{light}']", state="attached",
                                    timeout=30_000)

    def screen(self, width, height, scale):
        """The window as a lecturer has it: on a small screen in presentation mode, with the
        left side bar closed."""
        if self.size != (width, height, scale):
            self.open(width, height, scale)
            self.page.wait_for_selector(".nnlib-playground", timeout=60_000)
        compact = width < 1000
        if compact != (self.page.locator(".jp-mod-presentationMode").count() > 0):
            self.menu("View", "Appearance", "Presentation Mode")
        left = self.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
        if compact and left.count():
            left.click()

    def shot(self, name, locator=None):
        path = self.shots / f"playground-{name}.png"
        (locator or self.page).screenshot(path=str(path))
        return path


@pytest.fixture(scope="module")
def lab(sync_playwright, jupyterlab, shots):
    sync_playwright, chromium = sync_playwright
    url, runtime = jupyterlab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        lab = Lab(browser, url, shots)
        try:
            lab.open(1920, 1080, 1.0)
            page = lab.page
            prompts = page.locator(".jp-CodeCell .jp-InputPrompt")
            n_code = sum(cell["cell_type"] == "code"
                         for cell in json.loads(NOTEBOOK.read_text())["cells"])
            wait_for(lambda: prompts.count() == n_code, 60, f"all {n_code} code cells to show")
            lab.menu("Run", "Run All Cells")

            def all_ran():
                texts = prompts.all_inner_texts()
                return len(texts) == n_code and all(re.fullmatch(r"\[\d+\]:", t.strip())
                                                    for t in texts)

            try:
                wait_for(all_ran, 300, "all cells to run")
            except AssertionError:
                page.screenshot(path=str(shots / "run-all-timeout.png"), full_page=True)
                raise AssertionError(f"not every cell ran in 300 s; prompts: "
                                     f"{' '.join(t.strip() for t in prompts.all_inner_texts())}; "
                                     f"screenshot in {shots}") from None
            assert page.locator(".jp-OutputArea-output[data-mime-type="
                                "'application/vnd.jupyter.stderr']").count() == 0
            # saved with its outputs, a window opened later shows the widgets again
            lab.menu("File", "Save Notebook")
            page.wait_for_selector(".jp-mod-dirty", state="detached", timeout=30_000)
            lab.kernel = Kernel(runtime)
            yield lab
            assert not lab.errors, lab.errors
        finally:
            if lab.kernel is not None:
                lab.kernel.close()
            browser.close()


def active(page):
    """The class list of the focused element."""
    return page.evaluate("document.activeElement ? document.activeElement.className : ''")


def test_playground_trains_from_the_keyboard_and_keeps_its_keys_from_jupyterlab(lab):
    lab.screen(1920, 1080, 1.0)
    lab.theme(dark=False)
    page, kernel = lab.page, lab.kernel
    box = lab.playground("pg")
    box.scroll_into_view_if_needed()
    handles, readouts = box.locator(".noUi-handle"), box.locator(".widget-readout")
    train, stop = box.locator("button.nnlib-train"), box.locator("button.nnlib-stop")
    status = box.locator(".nnlib-status .widget-html-content")
    identity = kernel("id(pg)")
    runs = kernel("len(pg.runs)")
    assert "Run 1" in status.inner_text() and "done" in status.inner_text()

    # the keyboard sets the run long (End: 100 epochs), and Tab shows a focus ring that stands out
    handles.nth(3).focus()
    page.keyboard.press("End")
    wait_for(lambda: readouts.nth(3).inner_text() == "100", 10, "the epochs readout 100")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    ring = page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
        return [e.getAttribute('aria-label'), e.matches(':focus-visible'), s.outlineStyle,
                parseFloat(s.outlineWidth), s.outlineColor]; }""")
    assert ring[:3] == ["hidden units", True, "solid"] and ring[3] >= 3, ring

    # Enter on Train starts a run and the focus waits on Stop
    train.focus()
    page.keyboard.press("Enter")
    wait_for(lambda: "nnlib-stop" in active(page), 30, "the focus to move to Stop")
    wait_for(lambda: "training" in status.inner_text(), 30, "the status line to say training")
    number = kernel("pg.runs[-1].number")
    locked = readouts.nth(3)
    wait_for(lambda: locked.get_attribute("aria-readonly") == "true", 10,
             "the epochs box to be locked")
    assert locked.get_attribute("aria-label") == "epochs"
    padlock = locked.evaluate("""e => { const s = getComputedStyle(e, '::before');
        return [s.maskImage || s.webkitMaskImage, parseFloat(s.width)]; }""")
    assert padlock[0].startswith('url("data:image/svg+xml') and padlock[1] > 5, padlock
    lab.shot("training-1920-light")

    # JupyterLab's "0 0" does open "Restart Kernel?" on a notebook cell in command mode …
    dialog = page.locator(".jp-Dialog")
    page.locator(".jp-CodeCell .jp-InputPrompt").first.click()
    page.keyboard.press("Escape")
    page.keyboard.type("00")
    wait_for(lambda: dialog.count() == 1 and "Restart" in dialog.inner_text(), 10,
             "JupyterLab's restart dialog, to show that its shortcut is live")
    dialog.locator("button", has_text="Cancel").click()
    wait_for(lambda: dialog.count() == 0, 10, "the dialog to close")

    # … but not from a locked box in the playground: "0 0 Enter" stays in the widget
    box.scroll_into_view_if_needed()
    locked.click()
    assert page.evaluate("e => e.contains(document.activeElement)", box.element_handle())
    page.keyboard.type("00")
    page.keyboard.press("Enter")
    handles.nth(3).focus()             # the locked epochs slider's handle, too
    page.keyboard.type("00")
    page.keyboard.press("Enter")
    page.wait_for_timeout(1500)
    assert dialog.count() == 0, dialog.inner_text()
    assert readouts.nth(3).inner_text().endswith("100")
    assert kernel("id(pg)") == identity and kernel("pg.is_training")
    assert kernel("pg.epochs.value") == 100 and kernel("len(pg.runs)") == runs + 1

    # a learning rate typed in mid-run acts at the next step and shows on the curve
    lr_box = readouts.nth(0)
    lr_box.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("0.3")
    page.keyboard.press("Enter")
    wait_for(lambda: kernel("[(c['setting'], c['value']) for c in pg.runs[-1].changes]")
             == [("learning_rate", 0.3)], 30, "the run to take the learning rate 0.3")
    points = kernel("len(pg.history['loss'])")
    wait_for(lambda: kernel("len(pg.history['loss'])") >= points + 2, 60,
             "two more points at the new learning rate")
    rates = kernel("pg.history['learning_rate']")
    assert rates[0] == 0.1 and rates[-1] == 0.3
    assert "lr 0.1 → 0.3" in kernel("pg.runs[-1].label()")

    def legend():
        return [text for kind, text, _, _ in kernel("pg._texts()") if kind == "legend"]

    wait_for(lambda: any("lr 0.1 → 0.3" in text for text in legend())
             and "setting changed" in legend(), 30, "the legend to show the change")
    at = kernel("pg.runs[-1].changes[0]['epoch']")
    assert kernel(f"pg._lines[{number}]['changed_loss'].get_xdata()[:2].tolist()") == [at, at]
    image = box.locator("img.widget-image")
    wait_for(lambda: "lr 0.1 → 0.3" in (image.get_attribute("alt") or ""), 10,
             "the plot's text alternative to name the change")
    slider = handles.nth(0)
    assert slider.get_attribute("aria-valuetext") == "0.3"
    lab.shot("changed-learning-rate-1920-light", box)

    # Enter on Stop ends the run and the focus returns to Train
    stop.focus()
    page.keyboard.press("Enter")
    wait_for(lambda: "stopped" in status.inner_text(), 30, "the run to stop")
    wait_for(lambda: "nnlib-train" in active(page), 10, "the focus to return to Train")
    assert kernel("pg.runs[-1].outcome") == "stopped"
    assert kernel("pg.runs[-1].values('learning_rate')") == [0.1, 0.3]

    # a click on CNN: fewer training images, said in the status line and shown on the slider
    model = box.locator(".widget-toggle-buttons", has=page.locator("button", has_text="CNN"))
    model.locator("button", has_text="CNN").click()
    wait_for(lambda: "training images lowered from 50,000 to 10,000" in status.inner_text(), 10,
             "the status line to say that the CNN trains on fewer images")
    wait_for(lambda: readouts.nth(4).inner_text() == "10000", 10, "the training images 10000")
    assert kernel("(pg.model_kind.value, pg.train_size.value)") == ("cnn", 10_000)
    # a CNN run: live curves, and the model locked like the other settings of the network
    train.click()
    wait_for(lambda: "(CNN, 64 hidden) training" in status.inner_text(), 30,
             "the status line to say that a CNN trains")
    wait_for(lambda: kernel("len(pg.history['loss'])") >= 3, 60, "three points of the CNN run")
    wait_for(lambda: any("#" in text and "CNN" in text for text in legend()), 30,
             "the legend to name the CNN run")
    assert model.locator("button").evaluate_all("bs => bs.map(b => b.disabled)") == [True, True]
    padlock = model.locator(".widget-label").evaluate("""e => { const s = getComputedStyle(e,
        '::after'); return [s.maskImage || s.webkitMaskImage, parseFloat(s.width)]; }""")
    assert padlock[0].startswith('url("data:image/svg+xml') and padlock[1] > 5, padlock
    lab.shot("training-cnn-1920-light", box)
    stop.click()
    wait_for(lambda: "stopped" in status.inner_text(), 30, "the CNN run to stop")
    assert kernel("(pg.runs[-1].model_kind, pg.runs[-1].outcome)") == ("cnn", "stopped")
    assert "CNN, 64 hidden" in status.inner_text()
    model.locator("button", has_text="MLP").click()
    wait_for(lambda: readouts.nth(4).inner_text() == "50000", 10, "the training images back")
    assert kernel("pg.model_kind.value") == "mlp"


def luminance(rgb):
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
           for c in np.asarray(rgb, dtype=float) / 255]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def blend(css, background):
    """A CSS colour 'rgb(…)' or 'rgba(…)' as RGB, laid over ``background``."""
    r, g, b, *alpha = (float(v) for v in re.findall(r"[\d.]+", css))
    alpha = alpha[0] if alpha else 1.0
    return alpha * np.array([r, g, b]) + (1 - alpha) * np.asarray(background, dtype=float)


def contrast(a, b):
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def accessibility(lab, box):
    """Chromium's accessibility tree under ``box``: {role: [(name, value, properties)]}."""
    box.evaluate("e => e.id = 'nnlib-under-test'")
    root = lab.cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    node = lab.cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#nnlib-under-test"})
    tree = {}
    for role in ("slider", "textbox", "combobox", "button", "group", "status", "image", "img"):
        found = lab.cdp.send("Accessibility.queryAXTree", {"nodeId": node["nodeId"], "role": role})
        for n in found["nodes"]:
            if n.get("ignored"):
                continue
            properties = {p["name"]: p["value"].get("value") for p in n.get("properties", [])}
            tree.setdefault(role, []).append((n.get("name", {}).get("value", ""),
                                              str(n.get("value", {}).get("value", "")),
                                              properties))
    box.evaluate("e => e.removeAttribute('id')")
    return tree


def check_accessibility(lab, name):
    """Every control has a name and reports its real value (the number, not the slider's
    position); the status line is a live region; the plot's text alternative holds the status
    and the latest values. Returns {slider name: (value, value text)}."""
    box = lab.playground(name)
    tree = accessibility(lab, box)
    said = dict(zip(box.locator(".noUi-handle").evaluate_all(
        "hs => hs.map(h => h.getAttribute('aria-label'))"), box.locator(".noUi-handle")
        .evaluate_all("hs => hs.map(h => h.getAttribute('aria-valuetext'))")))
    sliders = {n: (value, said.get(n)) for n, value, _ in tree["slider"]}
    assert set(sliders) == set(SLIDERS), sliders
    for slider, (value, text) in sliders.items():
        expected = lab.kernel(f"{name}.{SLIDERS[slider]}.value")
        assert float(value) == pytest.approx(expected, rel=1e-6), (slider, value, expected)
        assert float(text) == pytest.approx(expected, rel=0.01), (slider, text, expected)
    assert {n for n, _, _ in tree["textbox"]} == set(SLIDERS)
    assert ("optimizer", "SGD") in {(n, v) for n, v, _ in tree["combobox"]}
    buttons = {n: p for n, _, p in tree["button"]}
    assert set(buttons) >= {"Train", "Stop", "Clear", "MLP", "CNN", "epochs", "seconds"}, buttons
    assert buttons["epochs"].get("pressed") == "true"
    assert (buttons["MLP"].get("pressed"), buttons["CNN"].get("pressed")) == ("true", "false")
    assert {"model", "x axis"} <= {n for n, _, _ in tree.get("group", [])}
    (_, _, live), = tree["status"]
    assert live.get("live") == "polite"
    status = box.locator(".nnlib-status .widget-html-content").inner_text().strip()
    (alt, _, _), = tree.get("image", []) + tree.get("img", [])
    assert status and alt.startswith(status) and "Plot of loss and accuracy" in alt, alt
    return sliders


def measure(lab, name, setting, scale, dark):
    """What the widget shows at this setting: sizes in CSS pixels, contrast from the pixels."""
    from PIL import Image

    page, kernel = lab.page, lab.kernel
    box = lab.playground(name)
    image = box.locator("img.widget-image")
    box.evaluate("e => e.scrollIntoView({block: 'start'})")

    def drawn_for_its_space():
        # the kernel has redrawn the plot for the width and the theme the page reports
        shown = image.evaluate("e => [e.naturalWidth, e.clientWidth, e.getAttribute('src')]")
        view = kernel(f"{name}._view_now")
        fits = abs(shown[0] - shown[1] * scale) <= 0.02 * shown[0] and view["dark"] == dark
        return fits and shown

    # … and then stays as it is: the page's reports come to rest rather than loop
    seen = []

    def settled():
        seen.append(drawn_for_its_space())
        return len(seen) > 15 and seen[-1] and all(s == seen[-1] for s in seen[-15:])

    wait_for(settled, 60, "the plot to be redrawn for the window, once")
    page_shot = lab.shot(f"{setting}", None)
    plot_shot = lab.shot(f"{setting}-plot", image)
    geometry = page.evaluate("""box => {
        const rect = e => { const r = e.getBoundingClientRect();
                            return [r.left, r.top, r.right, r.bottom]; };
        const img = box.querySelector('img.widget-image');
        const scroller = box.closest('.jp-WindowedPanel-outer') || box.closest('.jp-Notebook');
        const size = e => parseFloat(getComputedStyle(e).fontSize);
        const clipped = [...box.querySelectorAll('.widget-label, .widget-readout, button')]
            .filter(e => e.offsetParent && e.scrollWidth > e.clientWidth + 1)
            .map(e => e.textContent);
        return {box: rect(box), img: rect(img), natural: [img.naturalWidth, img.naturalHeight],
                scroller: rect(scroller), dpr: window.devicePixelRatio,
                controls: [...box.querySelectorAll('.nnlib-controls > *, .nnlib-bar > *, '
                                                   + '.nnlib-bar button')].map(rect),
                control_text: Math.min(...[...box.querySelectorAll(
                    '.nnlib-controls .widget-label, .widget-readout, .nnlib-bar button')]
                    .map(size)),
                text_colours: [...box.querySelectorAll(
                    '.nnlib-controls .widget-label, .widget-readout, .nnlib-report *')]
                    .map(e => getComputedStyle(e).color),
                handle_colours: [...box.querySelectorAll('.noUi-handle')]
                    .map(e => getComputedStyle(e).backgroundColor),
                chosen: [...box.querySelectorAll('.widget-toggle-button.mod-active')]
                    .map(e => [e.textContent, getComputedStyle(e).color,
                               getComputedStyle(e).backgroundColor]),
                clipped: clipped};
    }""", box.element_handle())
    layout = kernel(f"{name}._layout")
    texts = kernel(f"{name}._texts()")
    shown_width = geometry["img"][2] - geometry["img"][0]
    to_css = shown_width / layout["width"]          # points in the figure → CSS pixels shown
    smallest = min(size for _, _, size, _ in texts) * to_css

    pixels = np.asarray(Image.open(plot_shot).convert("RGB")).astype(int)
    to_shot = pixels.shape[1] / geometry["natural"][0]
    colours, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
    background = colours[counts.argmax()]
    worst = (99.0, "")
    for _, text, _, (x0, y0, x1, y1) in texts:
        crop = pixels[int(y0 * to_shot) + 1:int(y1 * to_shot) - 1,
                      int(x0 * to_shot) + 1:int(x1 * to_shot) - 1].reshape(-1, 3)
        assert len(crop), (text, (x0, y0, x1, y1), to_shot, pixels.shape, geometry["natural"])
        darkest = max(crop, key=lambda rgb: abs(luminance(rgb) - luminance(background)))
        worst = min(worst, (contrast(darkest, background), text))
    return {"geometry": geometry, "layout": layout, "texts": texts, "smallest": smallest,
            "contrast": worst, "background": background, "page_shot": page_shot,
            "plot_shot": plot_shot}


@pytest.mark.parametrize("setting, width, height, scale, dark", SETTINGS,
                         ids=[s[0] for s in SETTINGS])
def test_playground_is_legible_and_fits_the_screen(lab, setting, width, height, scale, dark):
    lab.screen(width, height, scale)
    lab.theme(dark)
    m = measure(lab, "lr_lab", setting.replace(" ", "-").replace("%", ""), scale, dark)
    g = m["geometry"]
    box_width, shown = g["box"][2] - g["box"][0], g["img"][2] - g["img"][0]
    print(f"\n{setting}: widget {box_width:.0f} × {g['box'][3] - g['box'][1]:.0f} CSS px in a "
          f"notebook view of {g['scroller'][3] - g['scroller'][1]:.0f} px; plot shown "
          f"{shown:.0f} × {g['img'][3] - g['img'][1]:.0f} CSS px from a "
          f"{g['natural'][0]} × {g['natural'][1]} picture (device pixel ratio {g['dpr']}); "
          f"smallest plot text {m['smallest']:.1f} px, control text {g['control_text']:.1f} px; "
          f"lowest text contrast {m['contrast'][0]:.1f}:1 ({m['contrast'][1]!r}) on "
          f"rgb{tuple(int(c) for c in m['background'])}; screenshots {m['page_shot']}, "
          f"{m['plot_shot']}")
    # the plot is as wide as the widget and drawn for that width: no fixed cap, no scaling
    assert abs(shown - box_width) <= 2
    assert g["natural"][0] == pytest.approx(shown * g["dpr"], rel=0.02)
    # its smallest text is no smaller than the control text, and every text reads at 4.5:1
    assert m["smallest"] >= g["control_text"] - 0.5
    assert m["contrast"][0] >= 4.5, m["contrast"]
    assert (luminance(m["background"]) < 0.1) == dark
    # nothing cut off: text inside the picture, controls inside the widget, no label or value
    # cut short, and the whole widget in the notebook's view once scrolled to its top
    for _, text, _, (x0, y0, x1, y1) in m["texts"]:
        assert x0 >= 0 and y0 >= 0 and x1 <= g["natural"][0] and y1 <= g["natural"][1], text
    for left, top, right, bottom in g["controls"]:
        assert g["box"][0] - 1 <= left and right <= g["box"][2] + 1
    assert not g["clipped"], g["clipped"]
    # the controls read in this theme too: their text at 4.5:1, slider handles at 3:1
    page_colour = m["background"]
    text = min(contrast(blend(c, page_colour), page_colour) for c in g["text_colours"])
    handles = min(contrast(blend(c, page_colour), page_colour) for c in g["handle_colours"])
    # the chosen model and x axis stand out from the page, their words from their buttons
    assert sorted(name for name, _, _ in g["chosen"]) == ["MLP", "epochs"], g["chosen"]
    chosen = [blend(back, page_colour) for _, _, back in g["chosen"]]
    marked = min(contrast(c, page_colour) for c in chosen)
    words = min(contrast(blend(ink, back), back) for (_, ink, _), back in zip(g["chosen"], chosen))
    print(f"  control text contrast at least {text:.1f}:1, slider handles at least "
          f"{handles:.1f}:1, chosen buttons {marked:.1f}:1 with words at {words:.1f}:1")
    assert text >= 4.5 and handles >= 3 and marked >= 3 and words >= 4.5
    assert g["box"][3] <= g["scroller"][3] + 1, "the widget does not fit the notebook's view"
    sliders = check_accessibility(lab, "schedule_lab")
    assert sliders["learning rate"][1] == "0.1" and sliders["batch size"] == ("32", "32")
