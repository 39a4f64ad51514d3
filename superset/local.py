"""A local Superset over the published marts, with the overview dashboard: `make superset`.

Run by the Python of Superset's own venv (`.superset-venv`, made by `make superset`):

    .superset-venv/bin/python superset/local.py [--home .superset] [--port 8088]
        [--publication warehouse/published/current/analytics.duckdb]

It prepares the instance once (a SQLite metadata database in --home, its tables, an admin user
with a password of its own, the default roles), serves Superset with gunicorn on 127.0.0.1,
imports the bundle of superset/bundle/ pointed at the publication (overwriting what an earlier
import made), prints the dashboard's URL and the login, and serves until interrupted.
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import requests
import yaml
from overview import BUNDLE_DIR, ROOT, duckdb_uri

CONFIG = Path(__file__).resolve().parent / "superset_config.py"
DEFAULT_HOME = ROOT / ".superset"
DEFAULT_PUBLICATION = ROOT / "warehouse" / "published" / "current" / "analytics.duckdb"
ADMIN = "admin"
DASHBOARD_SLUG = "product-analytics-overview"
# Changed when the preparation below changes, so that an instance prepared before is redone.
PREPARED_MARK = "prepared-v1"
STARTUP_SECONDS = 180


def bundle_zip(publication: Path, bundle_dir: Path = BUNDLE_DIR) -> bytes:
    """The bundle as Superset imports it: a zip of one folder, the database pointed at the
    publication (the `current` link's path, which Superset resolves at each connection)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(bundle_dir.rglob("*.yaml")):
            name = path.relative_to(bundle_dir).as_posix()
            text = path.read_text()
            if name.startswith("databases/"):
                database = yaml.safe_load(text)
                database["sqlalchemy_uri"] = duckdb_uri(str(publication.absolute()))
                text = yaml.safe_dump(database, sort_keys=False)
            archive.writestr(f"analytics_overview/{name}", text)
    return buffer.getvalue()


def superset_environment(home: Path) -> dict[str, str]:
    return os.environ | {
        "SUPERSET_CONFIG_PATH": str(CONFIG),
        "SUPERSET_HOME": str(home),
        "FLASK_APP": "superset.app:create_app()",
        "PYTHONUNBUFFERED": "1",
    }


def _superset(home: Path, *args: str) -> None:
    executable = Path(sys.executable).parent / "superset"
    result = subprocess.run(
        [str(executable), *args],
        env=superset_environment(home),
        cwd=home,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"superset {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def admin_password(home: Path) -> str:
    return (home / "admin_password").read_text().strip()


def prepare(home: Path) -> None:
    """The metadata database, its tables, the admin user and the roles; once per home."""
    home.mkdir(parents=True, exist_ok=True)
    mark = home / PREPARED_MARK
    if mark.exists():
        return
    password_file = home / "admin_password"
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(12) + "\n")
        password_file.chmod(0o600)
    _superset(home, "db", "upgrade")
    _superset(
        home,
        "fab",
        "create-admin",
        "--username",
        ADMIN,
        "--firstname",
        "Local",
        "--lastname",
        "Admin",
        "--email",
        "admin@localhost",
        "--password",
        admin_password(home),
    )
    _superset(home, "init")
    mark.touch()


def start_server(home: Path, port: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen(
        [
            str(gunicorn),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "8",
            "--timeout",
            "120",
            "--log-level",
            "warning",
            "superset.app:create_app()",
        ],
        env=superset_environment(home),
        cwd=home,
    )


def wait_until_up(base_url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"Superset stopped while starting (exit code {server.returncode})")
        try:
            if requests.get(f"{base_url}/health", timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or still loading the app
        time.sleep(0.5)
    sys.exit(f"Superset did not answer on {base_url} within {STARTUP_SECONDS} s")


def api_session(base_url: str, password: str) -> requests.Session:
    """A session logged in as the admin, with the CSRF token the API's writes need."""
    session = requests.Session()
    response = session.post(
        f"{base_url}/api/v1/security/login",
        json={"username": ADMIN, "password": password, "provider": "db", "refresh": True},
        timeout=30,
    )
    response.raise_for_status()
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    response = session.get(f"{base_url}/api/v1/security/csrf_token/", timeout=30)
    response.raise_for_status()
    session.headers.update({"X-CSRFToken": response.json()["result"], "Referer": base_url})
    return session


def import_bundle(session: requests.Session, base_url: str, publication: Path) -> None:
    """Import through the assets API, which replaces the charts an earlier import made (the
    `superset import-dashboards` command keeps them)."""
    response = session.post(
        f"{base_url}/api/v1/assets/import/",
        files={"bundle": ("analytics_overview.zip", bundle_zip(publication), "application/zip")},
        timeout=120,
    )
    if response.status_code != 200:
        sys.exit(f"importing the bundle failed ({response.status_code}): {response.text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME)
    parser.add_argument("--port", type=int, default=int(os.environ.get("SUPERSET_PORT", 8088)))
    parser.add_argument("--publication", type=Path, default=DEFAULT_PUBLICATION)
    args = parser.parse_args()
    home = args.home.absolute()
    if not args.publication.exists():
        sys.exit(
            f"No publication yet: {args.publication} does not exist. Run `make run` first; "
            "its last step publishes the marts there."
        )
    prepare(home)
    base_url = f"http://127.0.0.1:{args.port}"
    server = start_server(home, args.port)
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        wait_until_up(base_url, server)
        import_bundle(api_session(base_url, admin_password(home)), base_url, args.publication)
        print(
            f"\nSuperset: {base_url}/superset/dashboard/{DASHBOARD_SLUG}/\n"
            f"login: {ADMIN} / {admin_password(home)}   (local only; stop with Ctrl-C)\n"
            f"reading: {args.publication}\n",
            flush=True,
        )
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
