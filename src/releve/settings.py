"""Settings from the environment, read once at start-up (design.md §5).

`RELEVE_DATABASE_URL` selects the store: a SQLite file under `./var/` by default (zero set-up),
PostgreSQL with `postgresql://…`. `RELEVE_API_KEY`, when set, is accepted by the default
organization (created at start-up if missing).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path("var")
DEFAULT_USAGE_CACHE_MB = 375


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    api_key: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    # Where rendered invoice PDFs are kept (RELEVE_INVOICE_FILES_DIR, default ./var/invoices);
    # None keeps them in process memory only.
    invoice_files_dir: Path | None = None
    # Memory for the current-usage caches of each process (RELEVE_USAGE_CACHE_MB, about; 0:
    # nothing kept between calls — every read decodes its rows again).
    usage_cache_mb: int = DEFAULT_USAGE_CACHE_MB

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        url = env.get("RELEVE_DATABASE_URL") or default_database_url()
        return cls(
            database_url=url,
            api_key=env.get("RELEVE_API_KEY") or None,
            public_url=env.get("RELEVE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
            invoice_files_dir=Path(
                env.get("RELEVE_INVOICE_FILES_DIR") or DEFAULT_DATA_DIR / "invoices"
            ),
            usage_cache_mb=_megabytes(env, "RELEVE_USAGE_CACHE_MB", DEFAULT_USAGE_CACHE_MB),
        )


def _megabytes(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise ValueError(f"{name} must be a whole number of megabytes (0 or more), got {text!r}")
    return int(text)


def default_database_url() -> str:
    """`sqlite:///var/releve.db`, creating `./var` so the first run needs nothing."""
    DEFAULT_DATA_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(DEFAULT_DATA_DIR / 'releve.db').as_posix()}"
