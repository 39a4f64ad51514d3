"""Superset's settings for the local instance of `make superset` and the tests.

Superset reads this file when SUPERSET_CONFIG_PATH names it. Its state (the SQLite metadata
database and the secret key) lives in SUPERSET_HOME, `.superset/` by default (git-ignored).
"""

import os
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy.engine.url import URL

SUPERSET_HOME = Path(os.environ.get("SUPERSET_HOME", Path(__file__).parent.parent / ".superset"))
SUPERSET_HOME.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """A key of this instance, made once: it signs the session cookies and encrypts the
    database settings in the metadata database."""
    path = SUPERSET_HOME / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(42))
        path.chmod(0o600)
    return path.read_text()


SECRET_KEY = _secret_key()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{SUPERSET_HOME / 'superset.db'}"


def DB_CONNECTION_MUTATOR(
    url: URL, params: dict[str, Any], username: str | None, security_manager: Any, source: Any
) -> tuple[URL, dict[str, Any]]:
    """Open the DuckDB file `current` points at now, not the path through the link.

    DuckDB 1.4 keeps one instance per file path text in a process and hands it to every
    connection that opens the same path while one is open, so a query through
    `.../current/analytics.duckdb` could read the version `current` pointed at before a
    publication swapped it (measured with 1.4.5; 2.0.0 resolves the link itself). The resolved
    path is the version's own file, whatever DuckDB the venv has.
    """
    if url.get_backend_name() == "duckdb" and url.database and url.database != ":memory:":
        url = url.set(database=os.path.realpath(url.database))
    return url, params


# Each chart query reads the publication as it is now: no cached results of an older one.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
# A local instance on 127.0.0.1; the login page and the API are all a user needs.
FEATURE_FLAGS = {"ALERT_REPORTS": False}
