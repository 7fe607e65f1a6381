"""The set-up the README promises: the classic Notebook serves, the lighter install leaves out only
TensorFlow and the test tools, and only chapter 12 needs TensorFlow."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _requirements(name):
    lines = (ROOT / name).read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def _names(requirements):
    return {re.split(r"[<>=!~ ]", r)[0].lower() for r in requirements if not r.startswith("-")}


def test_requirements_include_the_lighter_install_and_add_tensorflow_and_the_test_tools():
    full, light = _requirements("requirements.txt"), _requirements("requirements-light.txt")
    assert "-r requirements-light.txt" in full
    assert "-e ." in light
    assert {"numpy", "jupyterlab", "notebook", "matplotlib", "ipywidgets"} <= _names(light)
    assert "tensorflow" not in _names(light) and "tensorflow" in _names(full)
    assert {"nbval", "pytest", "pytest-xdist", "playwright"} <= _names(full) - _names(light)


@pytest.mark.parametrize("notebook", sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")),
                         ids=lambda p: p.name)
def test_only_chapter_12_needs_tensorflow(notebook):
    code = "\n".join(cell.source for cell in nbformat.read(notebook, as_version=4).cells
                     if cell.cell_type == "code")
    uses_tf = bool(re.search(r"^\s*(import|from)\s+(tensorflow|keras)\b", code, re.MULTILINE))
    assert uses_tf == notebook.name.startswith("12_"), (
        f"{notebook.name} {'imports' if uses_tf else 'does not import'} TensorFlow: "
        "requirements-light.txt promises every chapter but 12 runs without it")


def test_the_classic_notebook_serves_its_file_browser(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "notebook", "--no-browser", "--allow-root",
         "--ip=127.0.0.1", f"--port={port}", "--IdentityProvider.token=", f"--notebook-dir={ROOT}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path)})
    try:
        deadline, page = time.monotonic() + 60, None
        while time.monotonic() < deadline and page is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/tree", timeout=5) as r:
                    page = r.read().decode()
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"`jupyter notebook` exited with code {server.returncode}")
                time.sleep(0.5)
        assert page is not None, "`jupyter notebook` did not answer within 60 s"
        assert "<title>Home" in page
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_benchmark(script, *options):
    """The finished run of ``benchmarks/<script>`` on one repeat of one huge batch (a few seconds)."""
    command = [sys.executable, f"benchmarks/{script}", "--batch-sizes", "20000", "--repeats", "1",
               *options]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out


def test_the_side_by_side_benchmark_runs_and_prints_its_ratios():
    # the timings it prints are never asserted
    out = run_benchmark("bench_side_by_side.py", "--only", "nnlib", "flat")
    rows = re.findall(r"^20000 (nnlib|flat) +[\d.]+ +[\d.]+ +([\d.]+) +([\d.]+)$", out.stdout, re.M)
    assert [name for name, _, _ in rows] == ["nnlib", "flat"], out.stdout
    (_, loss_nnlib, acc_nnlib), (_, loss_flat, _) = rows
    assert abs(float(loss_nnlib) - float(loss_flat)) < 0.05 and 0 < float(acc_nnlib) <= 1
    ratio = r"\d+\.\d\d"
    line = re.search(rf"^batch 20000: nnlib/flat ({ratio}), per repeat ({ratio}) \[({ratio}), ({ratio})\] "
                     r"\(≤ 1\.05\)$", out.stdout, re.M)
    assert line, out.stdout
    # one repeat: its ratio is the best-time ratio, and the median and range collapse onto it
    assert len(set(line.groups())) == 1, line.group(0)


def test_the_in_place_benchmark_trains_the_same_network_in_every_variant():
    # the in-place ReLU and SGD change where results are stored, not what they are: every nnlib
    # variant must end its epochs with the same loss and accuracy (timings are never asserted)
    out = run_benchmark("bench_in_place.py")
    rows = dict(re.findall(r"^20000 (\S.*?) +[\d.]+ +[\d.]+ +([\d.]+ +[\d.]+)$", out.stdout, re.M))
    variants = ["nnlib", "nnlib, ReLU in place", "nnlib, SGD in place", "nnlib, both in place"]
    assert list(rows) == ["flat"] + variants, out.stdout
    assert len({rows[name] for name in variants}) == 1, rows
    for name in variants:
        assert re.search(rf"^batch 20000: {name}/flat \d+\.\d\d, per repeat ", out.stdout, re.M), name
