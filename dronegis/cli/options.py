"""Options shared by every subcommand, and the helpers that print results."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from dronegis.settings import Settings
from flights.models import PURPOSE_ALIASES, Purpose

workspace_option = click.option(
    "--workspace",
    "-w",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Workspace folder (default: $DRONEGIS_WORKSPACE or ./workspace).",
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the machine-readable result on stdout."
)


def common_options[F: Callable[..., Any]](func: F) -> F:
    """Add ``--workspace`` and ``--json`` to a command."""
    return workspace_option(json_option(func))


THERMAL_OPTIONS = (
    click.option("--emissivity", type=click.FloatRange(0.0, 1.0, min_open=True), help="Emissivity (0–1]."),
    click.option("--reflected-temp", type=float, help="Reflected apparent temperature in °C."),
    click.option("--humidity", type=click.FloatRange(0.0, 100.0), help="Relative humidity in %."),
    click.option("--air-temp", type=float, help="Atmospheric (air) temperature in °C."),
    click.option(
        "--distance",
        type=click.FloatRange(0.0),
        help="Object distance in metres (default: the frame's height above ground, else the file's value).",
    ),
)


def thermal_options[F: Callable[..., Any]](func: F) -> F:
    """Add the measurement-parameter options shared by ``thermal`` and ``process``."""
    for option in reversed(THERMAL_OPTIONS):
        func = option(func)
    return func


def settings_for(workspace: Path | None) -> Settings:
    """Settings from the environment, with ``--workspace`` taking precedence."""
    settings = Settings()
    if workspace is not None:
        settings = settings.model_copy(update={"workspace": workspace})
    return settings


def emit_json(payload: Any) -> None:
    """Write a JSON document to stdout."""
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))


def verbosity_to_level(verbose: int, quiet: int) -> int:
    """Map -v/-q counts to a logging level (WARNING by default)."""
    return max(logging.DEBUG, min(logging.CRITICAL, logging.WARNING - 10 * verbose + 10 * quiet))


def echo_err(message: str) -> None:
    """Progress and human notes go to stderr so that stdout stays machine-readable."""
    click.echo(message, file=sys.stderr)


class PurposeType(click.ParamType[Purpose]):
    """A purpose by its identifier or its Danish name (``naturovervågning``), as :class:`Purpose` reads it."""

    name = "purpose"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> Purpose:
        """The purpose ``value`` names; a usage error listing the accepted names otherwise."""
        if isinstance(value, Purpose):
            return value
        try:
            return Purpose(str(value))
        except ValueError:
            names = [p.value for p in Purpose] + sorted(PURPOSE_ALIASES)
            self.fail(f"{value!r} is not a purpose; use one of {', '.join(names)}", param, ctx)
