"""``dronegis serve``: the HTTP service (uploads, jobs, WMS, WMTS, tiles) under uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

import click
import uvicorn

from dronegis.api.app import create_app
from dronegis.cli.options import settings_for, workspace_option
from dronegis.serving import GuardedH11Protocol, limit_malloc_arenas, proj_network_warning, uvicorn_options


@click.command()
@workspace_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Processes; one already uses every core for tile reads (GDAL releases the GIL).",
)
@click.option(
    "--scheduler",
    default=None,
    envvar="DRONEGIS_DASK_SCHEDULER",
    help="Dask scheduler address (tcp://host:8786): the job stages run on that cluster.",
)
def serve(workspace: Path | None, host: str, port: int, workers: int, scheduler: str | None) -> None:
    """Serve the workspace over HTTP until interrupted."""
    settings = settings_for(workspace)
    if scheduler:
        settings = settings.model_copy(update={"dask_scheduler": scheduler})
        os.environ["DRONEGIS_DASK_SCHEDULER"] = scheduler  # for worker processes
    limit_malloc_arenas()
    warning = proj_network_warning()
    if warning:
        click.echo(f"dronegis serve: WARNING: {warning}", err=True)
    if workers == 1:
        uvicorn.run(
            create_app(settings), host=host, port=port, log_level="info", **uvicorn_options(settings.server)
        )
        return
    if workspace is not None:  # worker processes build their settings from the environment
        os.environ["DRONEGIS_WORKSPACE"] = str(workspace)
    options = {**uvicorn_options(settings.server), "http": GuardedH11Protocol}  # workers import it: picklable
    uvicorn.run(
        "dronegis.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        **options,
    )
