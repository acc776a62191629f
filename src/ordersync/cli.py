"""Command line: serve, worker, migrate, load, import, export, simulate."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from ordersync.settings import get_settings

app = typer.Typer(help="ordersync: B2B commercial-order engine.", no_args_is_help=True)
simulate = typer.Typer(
    help="Serve a reference simulator of an outside system (SPEC §5), for demos and tests.",
    no_args_is_help=True,
)
app.add_typer(simulate, name="simulate")
console = Console()


@app.command()
def migrate() -> None:
    """Apply the database migrations (Alembic) up to the latest revision."""
    from ordersync.adapters.db.migrate import upgrade

    url = get_settings().database_url
    upgrade(url)
    console.print(f"[green]Database is at the latest revision[/] ({_safe(url)})")


@app.command()
def load(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Data bundle (JSON, SPEC §6)")
    ],
) -> None:
    """Load a data bundle idempotently (upsert by externalId)."""
    from ordersync.bootstrap import unit_of_work_factory
    from ordersync.domain.errors import OrdersyncError
    from ordersync.services.bundle_stream import load_bundle_file

    settings = get_settings()
    uow_factory, engine = unit_of_work_factory(settings)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=console,
    ) as progress:
        task = progress.add_task("Loading", total=None)

        def step(name: str, count: int) -> None:
            progress.update(task, advance=1, description=f"{name}: {count}")

        try:
            # A chunk of variants or offers at a time; a UTF-8 byte-order mark is tolerated.
            counts = load_bundle_file(
                uow_factory(), file, progress=step, chunk_items=settings.bundle_chunk_items
            )
        except OrdersyncError as exc:
            console.print(f"[red]{exc.message}[/]")
            for error in exc.errors[:20]:
                console.print(f"  {error.field}: {error.message}")
            raise typer.Exit(1) from exc
        finally:
            engine.dispose()
    console.print("[green]Loaded[/] " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@app.command("bundle-schema")
def bundle_schema() -> None:
    """Print the JSON Schema of the data bundle (docs/data-bundle.schema.json)."""
    from ordersync.domain.bundle import DataBundle

    typer.echo(
        json.dumps(
            DataBundle.model_json_schema(by_alias=True, mode="validation"),
            indent=2,
            sort_keys=True,
        )
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Server processes (default: ORDERSYNC_WORKERS, else one per CPU on "
            "PostgreSQL and one on SQLite)",
        ),
    ] = None,
) -> None:
    """Serve the HTTP API (uvicorn)."""
    from ordersync.api import server

    settings = get_settings()
    server.serve(
        settings,
        host=host if host is not None else settings.host,
        port=port if port is not None else settings.port,
        workers=workers,
    )


@app.command()
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Import partitions run at once (default: ORDERSYNC_QUEUE_WORKER_CONCURRENCY)",
        ),
    ] = None,
) -> None:
    """Run import jobs from the PostgreSQL queue (procrastinate) until SIGTERM or Ctrl-C.

    Any number of workers, on any machines, share the queue; a job whose worker died is
    run again by another after ORDERSYNC_QUEUE_STALLED_AFTER_S. On SQLite, `ordersync
    serve` runs the jobs itself."""
    from ordersync.jobs.queue import configure_worker_logging, is_queue_database, run_worker
    from ordersync.log_config import configure_logging

    settings = get_settings()
    if not is_queue_database(settings.database_url):
        console.print(
            "On SQLite, import jobs run inside `ordersync serve`: no worker is needed "
            f"({_safe(settings.database_url)})."
        )
        raise typer.Exit(2)
    configure_logging(settings.log_json, settings.log_level)
    configure_worker_logging(settings.log_level)
    try:
        run_worker(settings, concurrency)
    except RuntimeError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc


@app.command("import")
def import_file(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV of internal-order updates")
    ],
    api_key: Annotated[
        str,
        typer.Option(
            envvar="ORDERSYNC_API_KEY",
            help="An OPERATOR user's API key: the job is theirs (its history names them)",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row, apply nothing")
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="Where to write the report (default: next to FILE)"),
    ] = None,
) -> None:
    """Submit a CSV import job (as `POST /v1/operator/import-jobs` does), follow it with a
    progress bar, then write its report.

    On PostgreSQL the job runs on `ordersync worker` processes (start one); on SQLite this
    command runs it. Exit status 0 when every row succeeded, 1 otherwise."""
    from ordersync.bootstrap import dispatcher_for, unit_of_work_factory
    from ordersync.domain.errors import OrdersyncError
    from ordersync.jobs.queue import is_queue_database
    from ordersync.services.access import AccessHeaders, resolve_caller
    from ordersync.services.imports import get_job, job_report, submit_import

    settings = get_settings()
    uow_factory, engine = unit_of_work_factory(settings)
    dispatcher = dispatcher_for(settings, uow_factory)
    try:
        caller = resolve_caller(uow_factory(), AccessHeaders("OPERATOR", api_key))
        with file.open("rb") as stream:
            job = submit_import(
                uow_factory,
                dispatcher.enqueue_import,
                caller,
                stream,
                file_name=file.name,
                dry_run=dry_run,
                partitions=settings.import_partitions,
            )
        if is_queue_database(settings.database_url):
            console.print(f"Job {job.id} queued: an `ordersync worker` runs it.")
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,} rows"),
            console=console,
        ) as progress:
            task = progress.add_task("Importing" + (" (dry run)" if dry_run else ""))
            while True:
                job = get_job(uow_factory(), job.id)
                progress.update(task, total=job.total, completed=job.processed)
                if job.status.finished:
                    break
                time.sleep(0.5)
        target = report or file.with_name(f"{file.stem}-report-{job.id}.csv")
        header, rows = job_report(uow_factory, job.id)
        _write_csv(target, header, rows)
    except OrdersyncError as exc:
        console.print(f"[red]{exc.message}[/]")
        for error in exc.errors[:20]:
            console.print(f"  {error.field or ''}: {error.message}")
        raise typer.Exit(1) from exc
    finally:
        dispatcher.close(wait=True)
        engine.dispose()
    colour = "green" if job.status.value == "SUCCEEDED" else "yellow"
    console.print(
        f"[{colour}]{job.status.value}[/]: {job.total:,} rows, {job.succeeded:,} succeeded, "
        f"{job.failed:,} failed. Report: {target}"
    )
    if job.status.value != "SUCCEEDED":
        raise typer.Exit(1)


@app.command("export")
def export(
    output: Annotated[
        Path, typer.Argument(dir_okay=False, help="CSV file to write; - for stdout")
    ],
    account: Annotated[str | None, typer.Option(help="Account external id")] = None,
    supplier: Annotated[str | None, typer.Option(help="Supplier external id")] = None,
    status: Annotated[
        list[str] | None, typer.Option(help="Logistic-order status (repeatable)")
    ] = None,
    created_from: Annotated[datetime | None, typer.Option(help="Created at or after")] = None,
    created_to: Annotated[datetime | None, typer.Option(help="Created before")] = None,
) -> None:
    """Export internal orders in the import's columns, one row per line (as `GET
    /v1/operator/orders/export`): edit the file, then `ordersync import` it."""
    from ordersync.bootstrap import unit_of_work_factory
    from ordersync.domain.errors import OrdersyncError
    from ordersync.domain.listing import LogisticOrderFilter
    from ordersync.rules.logistic_orders import parse_status
    from ordersync.services.imports import export_orders

    uow_factory, engine = unit_of_work_factory(get_settings())
    try:
        where = LogisticOrderFilter(
            tuple(parse_status(s) for s in status or ()),
            supplier,
            account,
            created_from,
            created_to,
        )
        header, rows = export_orders(uow_factory, where)
        count = _write_csv(output, header, rows)
    except OrdersyncError as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    if str(output) != "-":
        console.print(f"[green]Exported[/] {count:,} lines to {output}")


def _write_csv(target: Path, header: list[str], rows: Iterator[Sequence[str | None]]) -> int:
    """Write rows as the API streams them (formula cells neutralised); the rows written."""
    from ordersync.adapters.csv.writer import csv_rows

    written = 0

    def counted() -> Iterator[Sequence[str | None]]:
        nonlocal written
        for row in rows:
            written += 1
            yield row

    if str(target) == "-":
        for chunk in csv_rows(header, counted()):
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return written
    with Progress(TextColumn("{task.description}"), console=console, transient=True) as progress:
        task = progress.add_task("Writing")
        with target.open("wb") as out:
            for chunk in csv_rows(header, counted()):
                out.write(chunk)
                progress.update(task, description=f"Writing {target}: {written:,} rows")
    return written


@simulate.command("pricing")
def simulate_pricing(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8101,
) -> None:
    """Real-time pricing (POST /prices), priced from the database's catalog.

    Reads ORDERSYNC_DATABASE_URL; faults and statistics at /_control and /_stats."""
    from ordersync.simulators import serve as serve_simulator
    from ordersync.simulators.pricing import create_pricing_simulator

    settings = get_settings()
    serve_simulator(
        create_pricing_simulator(settings.database_url),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
    )


@simulate.command("cpq")
def simulate_cpq(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8102,
) -> None:
    """CPQ (POST /transactions, PUT /transactions/{id}), transactions kept in memory.

    Faults and statistics at /_control and /_stats."""
    from ordersync.simulators import serve as serve_simulator
    from ordersync.simulators.cpq import create_cpq_simulator

    serve_simulator(
        create_cpq_simulator(), host=host, port=port, log_level=get_settings().log_level.lower()
    )


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    app()
