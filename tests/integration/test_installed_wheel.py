"""A non-editable install (the wheel in a fresh virtual environment) ingests, scores, lists models and serves.

The checklists, bonus rules and model registry travel inside the package;
nothing is found through the checkout. Dependencies come from the test
environment's site-packages (a path line, so its editable install of
qa-review is not picked up).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.request
import venv
from pathlib import Path

import pytest

from qa_review.services.settings import REPO_ROOT
from tests.conftest import DEMO
from tests.e2e.conftest import free_port


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"), str(REPO_ROOT)],
        check=True,
        cwd=tmp,
    )
    env = tmp / "venv"
    venv.create(env, with_pip=True)
    py = env / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", next((tmp / "dist").glob("*.whl"))], check=True)
    site = subprocess.check_output([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True)
    Path(site.strip(), "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env / "bin"


def run(bin_dir: Path, cwd: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [bin_dir / "qa-review", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_the_installed_package_is_the_one_running(installed, tmp_path):
    where = subprocess.check_output(
        [installed / "python", "-c", "import qa_review; print(qa_review.__file__)"], cwd=tmp_path, text=True
    )
    assert str(installed.parent) in where and str(REPO_ROOT) not in where


def test_installed_wheel_ingests_scores_and_knows_the_models(installed, tmp_path):
    out = run(installed, tmp_path, "--db", "qa.db", "ingest", DEMO / "chats")
    assert out.returncode == 0, out.stderr
    assert "ingest: 2 added" in out.stdout
    assert "score: 2 scored" in out.stdout  # the bundled checklists apply to written chats
    scores = run(installed, tmp_path, "--db", "qa.db", "export", "scores", "--format", "json")
    assert scores.returncode == 0 and '"checklist_id": "written-chat"' in scores.stdout
    models = run(installed, tmp_path, "models", "list")
    assert models.returncode == 0 and "base" in models.stdout  # the bundled registry


def test_installed_wheel_serves_and_stops_with_its_process(installed, tmp_path):
    assert run(installed, tmp_path, "--db", "qa.db", "ingest", DEMO / "chats").returncode == 0
    port = free_port()
    proc = subprocess.Popen(
        [installed / "qa-review", "--db", "qa.db", "serve", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    assert r.read() == b"ok"
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise AssertionError(proc.stdout.read().decode()) from None
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert r.status == 200
        proc.send_signal(signal.SIGTERM)  # serve replaced itself with Streamlit: one signal stops the app
        assert proc.wait(timeout=20) is not None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
