"""Shared by the real-browser tests: find Chromium, and serve notebooks with JupyterLab.

Chromium is NNLIB_CHROMIUM if set, else ``chromium`` (or ``chromium-browser``) on the PATH; no
browser is downloaded. Without Chromium or Playwright a browser test is skipped, unless
NNLIB_REQUIRE_BROWSER=1 (as in CI), which makes that a failure.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

REQUIRED = os.environ.get("NNLIB_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def missing(reason):
    if REQUIRED:
        pytest.fail(f"{reason} (NNLIB_REQUIRE_BROWSER=1 requires the browser test to run)")
    pytest.skip(reason)


def find_chromium():
    """NNLIB_CHROMIUM, else chromium or chromium-browser on the PATH, else None."""
    if os.environ.get("NNLIB_CHROMIUM"):
        return os.environ["NNLIB_CHROMIUM"]
    return shutil.which("chromium") or shutil.which("chromium-browser")


def playwright_and_chromium():
    """(playwright's sync_playwright, the Chromium executable), or skip (fail under CI)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright Python package is not installed (pip install playwright)")
    chromium = find_chromium()
    if not chromium or not os.path.isfile(chromium):
        missing("Chromium is not installed (apt-get install chromium, or set NNLIB_CHROMIUM)")
    return sync_playwright, chromium


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


@contextlib.contextmanager
def serve_jupyterlab(home, notebooks):
    """A JupyterLab on a free loopback port serving ``notebooks`` ({file name: notebook JSON})
    from ``home``/notebooks; yields (URL, runtime folder) and shuts it down afterwards."""
    (home / "notebooks").mkdir()
    for name, notebook in notebooks.items():
        (home / "notebooks" / name).write_text(json.dumps(notebook))
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
        yield url, home / "runtime"
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
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
    return result
