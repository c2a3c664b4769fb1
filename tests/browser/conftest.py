"""End-to-end browser tests: the widgets in a real JupyterLab, driven by headless Chromium.

One practice server (a subprocess at `--speed 40`, so replies stream slowly enough to press
Stop), one JupyterLab over a temporary copy of notebooks/ and one Chromium page on it serve
all the browser tests (they stop once the last one has run). Each test opens its notebook in
that page, and its tabs are closed and its kernels shut down afterwards; a failed test makes
the next one reload JupyterLab.
The tests are skipped, with the reason in the summary, when no Chromium (or Playwright or
JupyterLab) is available; `playwright install` cannot download browsers here, so the tests
use the system's `chromium` (`/usr/bin/chromium` on Debian).

`--screenshots DIR` makes the flows save `chat.png`, `models.png`, `embeddings.png` and the Chinese
edition's `chat-zh.png` and `models-zh.png` in DIR (`make screenshots` writes them to
docs/images). On a failure each test saves a full-page screenshot, the browser console and the
JupyterLab log to `test-artifacts/`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
SPEED = 40  # tokens per second: slow enough to press Stop in the middle of a reply
STARTUP_TIMEOUT = 90  # seconds for the practice server and JupyterLab to answer
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


# -- options, skipping and reporting -----------------------------------------------------------
# --screenshots DIR is declared in the root conftest.py, so any test path accepts it.


def find_chromium() -> str | None:
    """The system Chromium: $OLLAMA_NB_CHROMIUM when set (and only it), else `chromium` on
    PATH, else /usr/bin/chromium."""
    chosen = os.environ.get("OLLAMA_NB_CHROMIUM")
    candidates = (
        [chosen]
        if chosen
        else [shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium"]
    )
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -e '.[test]')"
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        return "jupyterlab is not installed (pip install -e '.[test]')"
    if find_chromium() is None:
        chosen = os.environ.get("OLLAMA_NB_CHROMIUM")
        if chosen:
            return f"OLLAMA_NB_CHROMIUM={chosen} is not an executable file"
        return (
            "no Chromium found (install Debian's `chromium`, put it on PATH, or set "
            "OLLAMA_NB_CHROMIUM)"
        )
    return None


_SKIPPED: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    browser_items = [item for item in items if item.get_closest_marker("browser")]
    if not browser_items:
        return
    reason = _skip_reason()
    if reason is None:
        return
    _SKIPPED.append(reason)
    for item in browser_items:
        item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {reason}"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SKIPPED:
        terminalreporter.write_line(f"browser tests skipped: {_SKIPPED[0]}", yellow=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# -- shutting down early ----------------------------------------------------------------------
_CLEANUPS: list[Any] = []  # how to stop what the session fixtures started, newest last


def _cleanup(stop: Any) -> Any:
    """Register `stop` to run once: after the last browser test, or at the end of the session."""
    done = []

    def once() -> None:
        if not done:
            done.append(True)
            stop()

    _CLEANUPS.append(once)
    return once


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop JupyterLab, Chromium and the practice server once no browser test is left, so the
    rest of `make test` (nbval kernels above all) has the machine to itself."""
    if not _CLEANUPS or not item.get_closest_marker("browser"):
        return
    items = item.session.items
    later = items[items.index(item) + 1 :] if item in items else []
    if any(other.get_closest_marker("browser") for other in later):
        return
    while _CLEANUPS:
        _CLEANUPS.pop()()


# -- processes ------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _http(url: str, method: str = "GET", timeout: float = 5) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with _NO_PROXY_OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _stop(proc: subprocess.Popen, grace: float = 10) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    # The kernels must draw figures inline: an MPLBACKEND such as Agg would leave only
    # "<Figure size ...>" text in place of the plots.
    env.pop("MPLBACKEND", None)
    for name in ("OLLAMA_API_KEY", "OLLAMA_NB_MODEL", "OLLAMA_NB_EMBED_MODEL"):
        env.pop(name, None)
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = ",".join(filter(None, [env.get(name), "127.0.0.1", "localhost"]))
    return env


@pytest.fixture(scope="session")
def browser_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="session")
def practice_url(browser_workdir: Path) -> Any:
    """A practice server in its own process, streaming at SPEED tokens per second."""
    out, log = browser_workdir / "practice.out", browser_workdir / "practice.log"
    with out.open("w") as stdout, log.open("w") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ollama_nb.server",
                "--port",
                "0",
                "--speed",
                str(SPEED),
                "--exit-with-parent",
                str(os.getpid()),
            ],
            stdout=stdout,
            stderr=stderr,
            env=_clean_env(),
            cwd=browser_workdir,
        )
    stop = _cleanup(lambda: _stop(proc))
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        url = None
        while url is None:
            match = re.search(r"listening on (http://\S+)", out.read_text())
            if match:
                url = match.group(1)
            elif proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the practice server did not start:\n{_tail(log)}")
            else:
                time.sleep(0.05)
        yield url
    finally:
        stop()


class Lab:
    """A running JupyterLab: its address, token, root folder and REST helpers."""

    def __init__(self, base: str, token: str, root: Path, practice_url: str, log: Path) -> None:
        self.base, self.token, self.root, self.practice_url = base, token, root, practice_url
        self.log = log

    def url(self, path: str) -> str:
        return f"{self.base}{path}{'&' if '?' in path else '?'}token={self.token}"

    def api(self, path: str, method: str = "GET") -> Any:
        status, body = _http(self.url(path), method)
        if status >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {status} {body[:200]!r}")
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Shut every kernel down, so the next test has both cores to itself."""
        for session in self.api("/api/sessions"):
            self.api(f"/api/sessions/{session['id']}", "DELETE")
        for kernel in self.api("/api/kernels"):
            self.api(f"/api/kernels/{kernel['id']}", "DELETE")

    def write_notebook(self, name: str, *sources: str) -> str:
        """Write a notebook of code cells into the root folder; returns its path there."""
        cells = [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell-{i}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for i, source in enumerate(sources)
        ]
        notebook = {
            "cells": cells,
            "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        (self.root / name).write_text(json.dumps(notebook, indent=1))
        return name


@pytest.fixture(scope="session")
def lab(browser_workdir: Path, practice_url: str) -> Any:
    """JupyterLab on a free port over a temporary copy of notebooks/, kernels on practice_url."""
    root = browser_workdir / "root"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    config_dir, settings_dir = browser_workdir / "config", browser_workdir / "settings"
    (config_dir / "labconfig").mkdir(parents=True)
    # No "get notified about Jupyter news?" toast over the widgets, no update check.
    (config_dir / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    tracker = settings_dir / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    # Every cell stays in the DOM (no windowing), so locators find outputs anywhere.
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = _clean_env()
    env.update(
        OLLAMA_HOST=practice_url,
        JUPYTER_CONFIG_DIR=str(config_dir),
        JUPYTER_RUNTIME_DIR=str(browser_workdir / "runtime"),
    )
    port, token = _free_port(), secrets.token_hex(16)
    log = browser_workdir / "jupyterlab.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.expose_app_in_browser=True",
                f"--LabApp.workspaces_dir={browser_workdir / 'workspaces'}",
                f"--LabApp.user_settings_dir={settings_dir}",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.news_url=None",
                "--allow-root",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
        )
    base = f"http://127.0.0.1:{port}"
    stop = _cleanup(lambda: _stop(proc, grace=15))
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{_tail(log)}")
            try:
                if _http(f"{base}/api/status?token={token}", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        yield Lab(base, token, root, practice_url, log)
    finally:
        stop()
        if proc.returncode not in (0, None) and os.environ.get("CI"):
            print(f"JupyterLab log:\n{_tail(log)}")


@pytest.fixture(scope="session")
def chromium() -> Any:
    """One headless Chromium for the session (named so as not to clash with pytest-playwright)."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    stop = _cleanup(playwright.stop)  # closes the browser too
    try:
        yield playwright.chromium.launch(
            executable_path=find_chromium(), args=CHROMIUM_ARGS, headless=True, env=_font_env()
        )
    finally:
        stop()


def _font_env() -> dict[str, str]:
    """Chromium's environment, with the project's Chinese font added to fontconfig's list
    when the system has none: a learner's own browser has their system's fonts, but this
    machine has no CJK font and the Chinese edition's screenshots would show empty boxes."""
    env = dict(os.environ)
    from ollama_nb.fonts import bundled_font

    font = bundled_font()
    if font is None or not shutil.which("fc-list") or not Path("/etc/fonts/fonts.conf").exists():
        return env
    if subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip():
        return env  # the system has one
    conf = Path(tempfile.mkdtemp(prefix="ollama-nb-fonts-")) / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<include>/etc/fonts/fonts.conf</include><dir>{font.parent}</dir></fontconfig>"
    )
    env["FONTCONFIG_FILE"] = str(conf)
    return env


# -- pages ----------------------------------------------------------------------------------------
KERNEL_IDLE_JS = """(path) => {
    const app = window.jupyterapp;
    const w = app && app.shell.currentWidget;
    if (!w || !w.context || w.context.path !== path || !w.sessionContext) return false;
    const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
    return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}"""

RUN_ALL_JS = """async (timeoutMs) => {
    const app = window.jupyterapp;
    const run = app.commands.execute('notebook:run-all-cells');
    const late = new Promise((_, reject) =>
        setTimeout(() => reject(new Error('Run All did not finish in time')), timeoutMs));
    return await Promise.race([run, late]);
}"""

ERRORS_JS = """() => {
    const w = window.jupyterapp.shell.currentWidget;
    const errors = [];
    const cells = w.content.model.cells;
    for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type !== 'code') continue;
        for (const output of cell.toJSON().outputs || []) {
            if (output.output_type === 'error') {
                errors.push(`cell ${i}: ${output.ename}: ${output.evalue}`);
            }
        }
    }
    return errors;
}"""

APP_READY_JS = """async () => {
    const app = window.jupyterapp;
    if (!app) return false;
    await app.restored;
    return true;
}"""

OPEN_JS = """async (path) => {
    const app = window.jupyterapp;
    await app.restored;
    await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
}"""

# Close every tab without the "save your changes?" question, so the next test starts clean.
CLOSE_ALL_JS = """async () => {
    const app = window.jupyterapp;
    for (const w of Array.from(app.shell.widgets('main'))) {
        if (w.context && w.context.model) w.context.model.dirty = false;
        w.dispose();
    }
}"""

UNRUN_JS = """() => {
    const w = window.jupyterapp.shell.currentWidget;
    const cells = w.content.model.cells;
    const unrun = [];
    for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type === 'code' && cell.sharedModel.getSource().trim()
            && cell.executionCount == null) unrun.push(i);
    }
    return unrun;
}"""


class LabPage:
    """A Playwright page on the session's JupyterLab, with notebook helpers."""

    def __init__(self, page: Any, lab: Lab, screenshots: Path | None) -> None:
        self.page, self.lab, self.screenshots = page, lab, screenshots

    def open(self, path: str, timeout: float = 90_000) -> None:
        """Open `path` in JupyterLab and wait until its kernel is connected and idle.

        The page stays on one JupyterLab for the session (loading it takes seconds): the
        notebook opens through the document manager, as a double click would open it.
        """
        self.page.evaluate(OPEN_JS, path)
        self.page.wait_for_function(KERNEL_IDLE_JS, arg=path, timeout=timeout, polling=100)

    def run_all(self, timeout: float = 120_000) -> None:
        """Run All Cells and wait for the last reply (widgets may still be drawing)."""
        self.page.evaluate(RUN_ALL_JS, timeout)

    def errors(self) -> list[str]:
        """`ename: evalue` of every error output in the open notebook."""
        errors = self.page.evaluate(ERRORS_JS)
        if errors:
            return errors
        for text in self.page.locator(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
        ).all_inner_texts():
            if "Traceback" in text:
                errors.append(text[-2000:])
        return errors

    def unrun_cells(self) -> list[int]:
        return self.page.evaluate(UNRUN_JS)

    def assert_ran_cleanly(self) -> None:
        errors = self.errors()
        assert not errors, "error output in the notebook:\n" + "\n".join(errors)
        unrun = self.unrun_cells()
        assert not unrun, f"cells {unrun} did not run"

    def run_tutorial(self, name: str, timeout: float = 180_000) -> str:
        """Open notebooks/`name` (its session copy), Run All, check that every cell ran
        without an error; returns the code of its cells. Skips when it does not exist yet."""
        path = self.lab.root / name
        if not path.exists():
            pytest.skip(f"notebooks/{name} does not exist yet")
        cells = json.loads(path.read_text())["cells"]
        code = "\n".join(
            "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells
            if c["cell_type"] == "code"
        )
        self.open(name)
        self.run_all(timeout)
        self.assert_ran_cleanly()
        return code

    def save_screenshot(self, name: str, target: Any = None) -> Path | None:
        """With --screenshots DIR, save DIR/name (cropped to `target` when given)."""
        if self.screenshots is None:
            return None
        self.screenshots.mkdir(parents=True, exist_ok=True)
        path = self.screenshots / name
        if target is None:
            self.page.screenshot(path=str(path))
            return path
        # JupyterLab scrolls inside a fixed-height panel, so a widget taller than the window
        # would come out cut off: grow the window to fit it first.
        viewport = self.page.viewport_size
        box = target.bounding_box() or {"height": 0}
        needed = int(box["height"]) + 250
        if viewport and needed > viewport["height"]:
            self.page.set_viewport_size({"width": viewport["width"], "height": min(needed, 6000)})
            self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
        try:
            target.scroll_into_view_if_needed()
            target.screenshot(path=str(path), animations="disabled", caret="hide")
        finally:
            if viewport and needed > viewport["height"]:
                self.page.set_viewport_size(viewport)
        return path


@pytest.fixture(scope="session")
def screenshots_dir(pytestconfig: pytest.Config) -> Path | None:
    value = pytestconfig.getoption("screenshots", default=None)
    return Path(value).resolve() if value else None


@pytest.fixture(scope="session")
def _lab_tab(chromium: Any, lab: Lab) -> Any:
    """One page on JupyterLab for the session, reloaded after a test that failed."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    state = {"page": page, "console": [], "fresh": False}
    page.on("console", lambda msg: state["console"].append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: state["console"].append(f"pageerror: {exc}"))
    stop = _cleanup(context.close)
    yield state
    stop()


def _load_lab(page: Any, lab: Lab) -> None:
    page.goto(lab.url("/lab?reset"))
    page.wait_for_function(APP_READY_JS, timeout=90_000, polling=100)


@pytest.fixture
def lab_page(
    _lab_tab: dict, lab: Lab, screenshots_dir: Path | None, request: pytest.FixtureRequest
) -> Any:
    """JupyterLab in the browser with no notebook open; on failure a screenshot and the
    browser console go to test-artifacts/."""
    page = _lab_tab["page"]
    if not _lab_tab["fresh"]:
        _load_lab(page, lab)
        _lab_tab["fresh"] = True
    _lab_tab["console"].clear()
    try:
        yield LabPage(page, lab, screenshots_dir)
    finally:
        report = getattr(request.node, "rep_call", None)
        failed = report is None or report.failed
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            stem = re.sub(r"[^\w.-]+", "_", request.node.name)
            console = _lab_tab["console"]
            try:
                page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
            except Exception as exc:  # noqa: BLE001 - a broken page must not hide the failure
                console.append(f"(no screenshot: {exc})")
            (ARTIFACTS / f"{stem}.console.txt").write_text("\n".join(console) + "\n")
            (ARTIFACTS / f"{stem}.jupyterlab.log").write_text(_tail(lab.log, 400) + "\n")
            _lab_tab["fresh"] = False  # start the next test from a newly loaded JupyterLab
        else:
            try:
                page.evaluate(CLOSE_ALL_JS)
            except Exception:  # noqa: BLE001 - then reload before the next test
                _lab_tab["fresh"] = False
        try:
            lab.shutdown_kernels()
        except (OSError, RuntimeError):
            pass
