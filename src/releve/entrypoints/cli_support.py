"""What every `releve` command shares: the console and a container closed when it ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from releve.bootstrap import Container

console = Console(stderr=True)


@contextmanager
def open_container() -> Iterator[Container]:
    """A container whose database connections are closed when the command ends."""
    from releve.bootstrap import bootstrap

    container = bootstrap()
    try:
        yield container
    finally:
        container.engine.dispose()
