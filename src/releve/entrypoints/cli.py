"""The `releve` command line (Typer). Each command calls the same services as the API."""

from __future__ import annotations

import typer

from releve import __version__

app = typer.Typer(help="Relevé — usage-based billing.", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print the installed version."""
    typer.echo(__version__)
