"""`python -m dashboard`: serve the dashboard on 127.0.0.1 (what `make dashboard` runs)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dashboard.publication import NoPublication, current_database

APP = Path(__file__).parent / "app.py"
DEFAULT_PORT = 8501


def streamlit_command(address: str, port: int) -> list[str]:
    """The command that serves the app headless, without usage statistics or a file watcher."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        f"--server.address={address}",
        f"--server.port={port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=minimal",
        "--theme.base=light",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    arguments = parser.parse_args()
    try:
        database = current_database()
    except NoPublication as error:
        sys.exit(f"{error}")
    print(f"Dashboard over {database}")
    print(f"Open http://{arguments.address}:{arguments.port}/ (Ctrl-C stops it)", flush=True)
    command = streamlit_command(arguments.address, arguments.port)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
