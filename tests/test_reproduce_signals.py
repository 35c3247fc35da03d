"""`k8smodel reproduce` stopped by SIGINT or SIGTERM ends in one line, not a traceback."""

import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest


def _sleeping_notebook(folder, marker):
    nb = nbformat.v4.new_notebook()
    code = f"import time\nopen({str(marker)!r}, 'w').close()\ntime.sleep(120)"
    nb.cells = [nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, folder / "01_sleep.ipynb")


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_reproduce_cleanly(tmp_path, signum):
    notebooks, marker = tmp_path / "notebooks", tmp_path / "cell-started"
    notebooks.mkdir()
    _sleeping_notebook(notebooks, marker)
    code = "import sys; from k8smodel.cli import main; sys.exit(main(sys.argv[1:]))"
    args = ["reproduce", "--notebooks", str(notebooks), "--out", str(tmp_path / "out")]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert marker.exists(), "the notebook's cell never started"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signum
    assert "Traceback" not in err and "AssertionError" not in err, err
    assert f"stopped by {signal.Signals(signum).name}" in err
