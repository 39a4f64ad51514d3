"""Headless Chromium, driven over the DevTools protocol: load a page, wait until it has drawn
what we want to see, save a PNG.

A plain `chromium --headless --screenshot` shoots as soon as the page has loaded, before a
single-page app (Streamlit, the Dagster UI) has fetched its data and drawn its charts. Here the
caller names a JavaScript expression that is true once the page is ready, and the screenshot
waits for it:

    from scripts.browser import capture

    capture("http://127.0.0.1:8501/", Path("overview.png"), ready="document.title !== ''")

or, for several pages with one browser:

    with Chromium() as browser:
        page = browser.open("http://127.0.0.1:8501/")
        page.wait_for("document.querySelectorAll('canvas').length > 0")
        page.save_png(Path("overview.png"))

Chromium is the system's (Debian's `chromium`, installed by `scripts/ensure-chromium`); the
protocol is spoken with `websockets`, so nothing downloads a browser build.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from websockets.sync.client import ClientConnection, connect

from scripts.processes import stop_process_group

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
DEFAULT_WIDTH = 1440
DEFAULT_HEIGHT = 1800


class BrowserError(RuntimeError):
    pass


def find_chromium() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserError(
        f"no Chromium on PATH (looked for {', '.join(CHROMIUM_NAMES)}): "
        "run scripts/ensure-chromium to install Debian's chromium"
    )


class Page:
    """One browser tab, spoken to over its DevTools websocket."""

    def __init__(self, websocket_url: str) -> None:
        self._socket: ClientConnection = connect(websocket_url, max_size=None)
        self._ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv())
            if message.get("id") != message_id:
                continue  # an event, or the answer to an earlier call
            if "error" in message:
                raise BrowserError(f"{method} failed: {message['error']}")
            return message["result"]

    def navigate(self, url: str) -> None:
        result = self.call("Page.navigate", url=url)
        if result.get("errorText"):
            raise BrowserError(f"could not load {url}: {result['errorText']}")

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} raised: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, condition: str, timeout: float = 60.0, interval: float = 0.25) -> None:
        """Wait until the JavaScript expression `condition` is truthy on the page."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"Boolean({condition})"):
            if time.monotonic() > deadline:
                raise BrowserError(f"the page did not reach {condition!r} in {timeout:.0f} s")
            time.sleep(interval)

    def save_png(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        self._socket.close()


class Chromium:
    """A headless Chromium with a throwaway profile, for as long as the `with` block lasts."""

    def __init__(self, width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT) -> None:
        self.width = width
        self.height = height
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None

    def __enter__(self) -> Chromium:
        arguments = [
            find_chromium(),
            "--headless",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            f"--window-size={self.width},{self.height}",
            f"--user-data-dir={self._profile.name}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ]
        if os.geteuid() == 0:
            arguments.insert(1, "--no-sandbox")  # Chromium refuses to run its sandbox as root
        # Its own process group: Chromium's helper processes outlive the main one for a moment,
        # writing to the profile, and are ended with it.
        self._process = subprocess.Popen(
            arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        self._port = self._debugging_port()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            # No helper process left writing into the profile when it is removed.
            stop_process_group(self._process, timeout=10)
        self._profile.cleanup()

    def _debugging_port(self, timeout: float = 30.0) -> int:
        # Chromium writes the port it chose into the profile once it listens.
        port_file = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise BrowserError(f"chromium exited with code {self._process.returncode}")
            if port_file.exists():
                lines = port_file.read_text().splitlines()
                if lines and lines[0].isdigit():
                    return int(lines[0])
            time.sleep(0.1)
        raise BrowserError(f"chromium did not open its DevTools port in {timeout:.0f} s")

    def open(self, url: str) -> Page:
        """A new tab, loading `url`."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self._port}/json/new?about:blank", method="PUT"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            target = json.load(response)
        page = Page(target["webSocketDebuggerUrl"])
        page.call("Page.enable")
        page.navigate(url)
        return page


def capture(
    url: str,
    path: Path,
    ready: str,
    timeout: float = 60.0,
    width: int = DEFAULT_WIDTH,
    height: int = DEFAULT_HEIGHT,
) -> Path:
    """Load `url` in headless Chromium, wait until the JavaScript `ready` is truthy, and save a
    PNG of the window (`width` x `height`) to `path`."""
    with Chromium(width, height) as browser:
        page = browser.open(url)
        try:
            page.wait_for(ready, timeout)
            return page.save_png(path)
        finally:
            page.close()
