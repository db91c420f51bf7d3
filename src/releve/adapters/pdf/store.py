"""`DocumentStore`s for rendered invoice PDFs: a directory (shared by every worker of one host
or mounted volume), or process memory when no directory is configured.

Keys come from `services.invoice_documents` (invoice uuid, status, layout version) and are
checked here anyway: only letters, digits, dots and dashes reach the file system.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,120}$")


def _checked(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"invalid document key: {key!r}")
    return key


class FileDocumentStore:
    """One file per key under `directory`; written atomically, never overwritten."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def _path(self, key: str) -> Path:
        return self._directory / f"{_checked(key)}.pdf"

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, key: str, content: bytes) -> bool:
        """Write to a temporary file, then hard-link it into place: the link fails if another
        worker stored the key first, so exactly one `put` returns True."""
        target = self._path(key)
        self._directory.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self._directory, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, target)
            except FileExistsError:
                return False
            return True
        finally:
            os.unlink(temporary)


class MemoryDocumentStore:
    """The last `capacity` documents of this process (a cache when no directory is set)."""

    def __init__(self, capacity: int = 64) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            content = self._items.get(key)
            if content is not None:
                self._items.move_to_end(key)
            return content

    def put(self, key: str, content: bytes) -> bool:
        with self._lock:
            if key in self._items:
                return False
            self._items[key] = content
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
            return True
