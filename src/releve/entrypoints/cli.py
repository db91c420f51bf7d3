"""The `releve` command line (Typer). Each command calls the same services as the API."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from releve import __version__
from releve.entrypoints.cli_events import aggregates_app, events_app
from releve.entrypoints.cli_support import console
from releve.entrypoints.cli_support import open_container as _container
from releve.entrypoints.runtime import freeze_startup_heap

if TYPE_CHECKING:
    from releve.bootstrap import Container

app = typer.Typer(help="Relevé — usage-based billing.", no_args_is_help=True)
organizations_app = typer.Typer(help="Manage organizations.", no_args_is_help=True)
app.add_typer(organizations_app, name="organizations")
app.add_typer(aggregates_app, name="aggregates")
app.add_typer(events_app, name="events")
users_app = typer.Typer(help="Dashboard user accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
webhooks_app = typer.Typer(help="Webhook delivery.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")
DEMO_FILE = Path("var") / "demo.json"


@app.command()
def version() -> None:
    """Print the installed version."""
    typer.echo(__version__)


@app.command()
def migrate() -> None:
    """Bring the database to the latest schema."""
    with _container() as container:
        container.migrate()
        console.print(f"[green]migrated[/green] {container.engine.url.render_as_string()}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="Do not run the billing scheduler.")
    ] = False,
    no_webhooks: Annotated[
        bool, typer.Option("--no-webhooks", help="Do not deliver webhooks from this process.")
    ] = False,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log every request (off by default: it costs ingest throughput).",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes (each group-commits its own requests; see bench/README.md).",
        ),
    ] = 1,
) -> None:
    """Serve the API, dashboard and portal (migrates first)."""
    import uvicorn

    from releve.entrypoints.api.app import create_app
    from releve.entrypoints.scheduler import BillingScheduler
    from releve.entrypoints.webhook_loop import WebhookLoop

    with _container() as container:
        container.migrate()
        container.apply_startup_settings()
        container.usage_evaluator.start()
        scheduler = None if no_scheduler else BillingScheduler(container)
        if scheduler is not None:
            scheduler.start()
            console.print(f"billing scheduler: every {scheduler.interval:g} s")
        webhook_loop = None if no_webhooks else WebhookLoop(container)
        if webhook_loop is not None:
            webhook_loop.start()
            console.print(f"webhook delivery: every {webhook_loop.interval:g} s")
        console.print(f"Relevé {__version__} on http://{host}:{port}  (docs: /docs)")
        freeze_startup_heap()
        try:
            if workers > 1:  # uvicorn imports the app in each worker process by name
                uvicorn.run(
                    "releve.entrypoints.cli:worker_app",
                    factory=True,
                    workers=workers,
                    host=host,
                    port=port,
                    log_level="info",
                    access_log=access_log,
                )
            else:
                uvicorn.run(
                    create_app(container),
                    host=host,
                    port=port,
                    log_level="info",
                    access_log=access_log,
                )
        finally:
            container.usage_evaluator.stop()
            if scheduler is not None:
                scheduler.stop()
            if webhook_loop is not None:
                webhook_loop.stop()


def worker_app() -> object:
    """The ASGI app of one `serve --workers N` process: its own container and connections."""
    from releve.bootstrap import bootstrap
    from releve.entrypoints.api.app import create_app

    container = bootstrap()
    container.usage_evaluator.start()  # this worker's ingest feeds it
    asgi = create_app(container)
    freeze_startup_heap()
    return asgi


@app.command()
def bill(
    at: Annotated[
        str | None,
        typer.Option(help="ISO 8601 instant with an offset (default: now); not in the future."),
    ] = None,
    processes: Annotated[
        int,
        typer.Option(min=1, help="Bill the subscriptions in this many processes (by id)."),
    ] = 1,
) -> None:
    """Run the billing job once: close the periods due at AT and issue their invoices."""
    from datetime import datetime

    from rich.table import Table

    from releve.services.errors import ValidationFailed

    moment = None
    if at is not None:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            console.print(f"[red]--at must be an ISO 8601 instant with an offset:[/red] {at}")
            raise typer.Exit(2)
    with _container() as container:
        container.migrate()
        from releve.entrypoints.scheduler import lifecycle

        if moment is None or moment <= container.clock.now():  # a future --at is refused below
            lifecycle(container, moment)  # starts and ends that came due, as `serve` does
        from releve.bootstrap import bootstrap
        from releve.entrypoints.bill_processes import bill_in_processes

        try:
            run = bill_in_processes(container, bootstrap, moment, processes)
        except ValidationFailed as exc:
            console.print(f"[red]invalid:[/red] {exc.error_details}")
            raise typer.Exit(2) from None
        caught = container.usage_evaluator.catch_up()  # thresholds, alerts, budgets
    out = Console()
    table = Table(title=f"Billing run at {run.at.isoformat()}")
    for column in ("Invoice", "Status", "Issuing date", "Currency", "Total (minor units)"):
        table.add_column(column, justify="right" if column.startswith("Total") else "left")
    for invoice in run.issued:
        table.add_row(
            invoice.number or "(draft)",
            invoice.status,
            invoice.issuing_date.isoformat(),
            invoice.currency,
            str(invoice.total_amount_cents),
        )
    out.print(table)
    totals = ", ".join(
        f"{code} {cents}" for code, cents in sorted(run.totals_by_currency().items())
    )
    out.print(
        f"{len(run.issued)} invoice(s) issued"
        + (f"; totals: {totals}" if totals else "")
        + (f"; {run.skipped} already billed" if run.skipped else "")
    )
    if caught["progressive_invoices"] or caught["alerts"]:
        out.print(
            f"{caught['progressive_invoices']} progressive invoice(s), "
            f"{caught['alerts']} alert(s) triggered"
        )
    for error in run.errors:
        console.print(f"[red]error:[/red] {error}")
    if run.errors:
        raise typer.Exit(1)


@organizations_app.command("create")
def organizations_create(
    name: str,
    currency: Annotated[str, typer.Option(help="Default ISO 4217 currency.")] = "USD",
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "UTC",
) -> None:
    """Create an organization; prints its id and API key (shown only this once) as JSON."""
    from releve.services.errors import ValidationFailed

    try:
        with _container() as container:
            container.migrate()
            created = container.organizations.create(
                name, default_currency=currency, timezone=timezone
            )
    except ValidationFailed as exc:
        console.print(f"[red]invalid:[/red] {exc.error_details}")
        raise typer.Exit(1) from None
    typer.echo(
        json.dumps(
            {
                "organization_id": str(created.organization_id),
                "name": created.name,
                "api_key": created.api_key,
            }
        )
    )


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="The address the user signs in with.")],
    organization: Annotated[
        str | None,
        typer.Option(help="Organization id (default: the default organization, or the only one)."),
    ] = None,
    password: Annotated[
        str,
        typer.Option(
            envvar="RELEVE_USER_PASSWORD",
            prompt=True,
            confirmation_prompt=True,
            hide_input=True,
            help="Prompted twice unless RELEVE_USER_PASSWORD is set (for scripts).",
        ),
    ] = "",
) -> None:
    """Create a dashboard user account (email + password); prints it as JSON."""
    from uuid import UUID

    from releve.services.errors import NotFound, ValidationFailed

    try:
        org_id = UUID(organization) if organization else None
    except ValueError:
        console.print(f"[red]invalid organization id:[/red] {organization}")
        raise typer.Exit(1) from None
    try:
        with _container() as container:
            container.migrate()
            user = container.user_accounts.create(org_id, email, password)
    except NotFound:
        console.print("[red]no such organization[/red] (pass --organization with its id)")
        raise typer.Exit(1) from None
    except ValidationFailed as exc:
        console.print(f"[red]invalid:[/red] {exc.error_details}")
        raise typer.Exit(1) from None
    typer.echo(
        json.dumps(
            {
                "user_id": str(user.id),
                "organization_id": str(user.organization_id),
                "email": user.email,
            }
        )
    )


@app.command()
def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Only seed a database without organizations.")
    ] = False,
) -> None:
    """Seed a demo organization with metrics, customers and a month of events."""
    with _container() as container:
        _demo(container, if_empty)


def _demo(container: Container, if_empty: bool) -> None:
    container.migrate()
    settings = container.settings
    if if_empty and container.organizations.count() > 0:
        saved = json.loads(DEMO_FILE.read_text()) if DEMO_FILE.exists() else None
        if saved is None:
            console.print("The database already has organizations; demo skipped.")
            return
        org_id, api_key, customer = (
            saved["organization_id"],
            saved["api_key"],
            saved["customer_external_id"],
        )
    else:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description:<28}"), BarColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("Seeding the demo", total=None)

            def advance(what: str, done: int, total: int) -> None:
                bar.update(task, description=what, completed=done, total=total)

            seed = container.demo.seed(
                api_key=os.environ.get("RELEVE_DEMO_API_KEY") or None, progress=advance
            )
        org_id, api_key, customer = (
            str(seed.organization_id),
            seed.api_key,
            seed.customer_external_id,
        )
        saved = {"organization_id": org_id, "api_key": api_key, "customer_external_id": customer}
        if seed.finale is not None and seed.finale.user_password is not None:
            saved["user_email"] = seed.finale.user_email or ""
            saved["user_password"] = seed.finale.user_password
        DEMO_FILE.parent.mkdir(parents=True, exist_ok=True)
        DEMO_FILE.write_text(json.dumps(saved))
        DEMO_FILE.chmod(0o600)  # a local demo secret: readable by its owner only
        console.print(
            f"[green]seeded[/green] {seed.events} events, {seed.invoices} invoices, "
            f"{seed.moments} business moments"
        )
    from uuid import UUID

    token = container.portal.issue_token(UUID(org_id), customer)
    typer.echo(f"Relevé:        {settings.public_url}")
    typer.echo(f"API docs:      {settings.public_url}/docs")
    typer.echo(f"Demo API key:  {api_key}")
    typer.echo(f"Portal link:   {settings.public_url}/portal/{token}")
    if saved.get("user_password"):  # the demo's dashboard user (email and password sign-in)
        typer.echo(f"Dashboard:     {saved['user_email']} / {saved['user_password']}")


@webhooks_app.command("deliver")
def webhooks_deliver(
    limit: Annotated[int, typer.Option(help="At most this many attempts.")] = 1000,
) -> None:
    """Send the webhooks due now, once (retries whose backoff has passed included)."""
    from releve.entrypoints.webhook_loop import deliver_once

    with _container() as container:
        container.migrate()
        run = deliver_once(container, limit=limit)
    typer.echo(
        json.dumps(
            {
                "succeeded": len(run.succeeded),
                "retrying": len(run.retrying),
                "failed": len(run.failed),
            }
        )
    )
