"""`releve events import` and `releve aggregates rebuild`: the event log in bulk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from releve.entrypoints.cli_support import console
from releve.entrypoints.cli_support import open_container as _container
from releve.entrypoints.runtime import freeze_startup_heap

events_app = typer.Typer(help="Usage events.", no_args_is_help=True)
aggregates_app = typer.Typer(help="Usage aggregates.", no_args_is_help=True)


@events_app.command("import")
def events_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON lines or CSV.")],
    api_key: Annotated[
        str, typer.Option(envvar="RELEVE_API_KEY", help="API key of the organization.")
    ],
    file_format: Annotated[
        str | None, typer.Option("--format", help="jsonl or csv (default: from the suffix).")
    ] = None,
    chunk_size: Annotated[int, typer.Option(min=1, help="Events per transaction.")] = 1000,
) -> None:
    """Bulk import events (all-or-nothing per chunk; re-importing stores only what is missing).

    Prints one JSON summary on stdout; every error with its line number on stderr; exits 1
    when a chunk was not stored. See `releve.services.event_import` for the formats.
    """
    import rich.progress

    from releve.services.event_import import EventImportService, ImportFormatError

    fmt = file_format or ("csv" if file.suffix.lower() == ".csv" else "jsonl")
    if fmt not in ("jsonl", "csv"):
        console.print(f"[red]unknown format:[/red] {fmt}")
        raise typer.Exit(2)
    with _container() as container:
        container.migrate()
        org = container.authentication.authenticate(api_key)
        if org is None:
            console.print("[red]unknown API key[/red]")
            raise typer.Exit(2)
        service = EventImportService(container.events, container.clock, chunk_size=chunk_size)
        run = service.import_csv if fmt == "csv" else service.import_jsonl
        freeze_startup_heap()
        try:
            with rich.progress.open(
                file, "r", encoding="utf-8", newline="", description="Importing", console=console
            ) as lines:
                report = run(org.id, lines)
        except ImportFormatError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    for error in report.errors:
        console.print(f"line {error.line}: {json.dumps(error.errors, default=str)}")
    for first, last in report.failed_chunks:
        console.print(f"[red]not stored:[/red] lines {first}-{last}")
    typer.echo(
        json.dumps(
            {
                "events": report.events,
                "inserted": report.inserted,
                "replayed": report.replayed,
                "failed_chunks": [list(c) for c in report.failed_chunks],
            }
        )
    )
    if not report.ok:
        raise typer.Exit(1)


@aggregates_app.command("rebuild")
def aggregates_rebuild(
    organization: Annotated[
        str | None, typer.Option("--organization", help="Only this organization id.")
    ] = None,
) -> None:
    """Recompute every usage aggregate (and event match) from the raw event log."""
    from uuid import UUID

    from rich.progress import Progress

    with _container() as container:
        container.migrate()
        rebuilder = container.aggregates
        if organization is not None:
            try:
                org_ids = [UUID(organization)]
            except ValueError:
                console.print(f"[red]invalid organization id:[/red] {organization}")
                raise typer.Exit(1) from None
        else:
            org_ids = rebuilder.organizations()
        work = [(org, ext) for org in org_ids for ext in rebuilder.external_ids(org)]
        events = 0
        with Progress(console=console) as progress:
            task = progress.add_task("Rebuilding aggregates", total=len(work))
            for org, external_id in work:
                events += rebuilder.rebuild(org, external_id)
                progress.advance(task)
    typer.echo(
        json.dumps({"organizations": len(org_ids), "subscriptions": len(work), "events": events})
    )
