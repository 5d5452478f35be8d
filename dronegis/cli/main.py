"""The ``dronegis`` group; each subcommand lives in its own module."""

from __future__ import annotations

import logging

import click

from dronegis import __version__
from dronegis.cli.options import verbosity_to_level


class DroneGisGroup(click.Group):
    """Click group whose usage errors exit 2 and whose commands load lazily."""

    COMMANDS = {
        "ingest": "dronegis.cli.ingest:ingest",
        "buildings": "dronegis.cli.buildings:buildings",
        "process": "dronegis.cli.process:process",
        "thermal": "dronegis.cli.thermal:thermal",
        "qa": "dronegis.cli.qa:qa",
        "freshness": "dronegis.cli.freshness:freshness",
        "publish": "dronegis.cli.publish:publish",
        "unpublish": "dronegis.cli.publish:unpublish",
        "serve": "dronegis.cli.serve:serve",
        "demo": "dronegis.cli.demo:demo",
        "roofs": "dronegis.cli.roofs:roofs",
        "volume": "dronegis.cli.volume:volume",
        "vegetation": "dronegis.cli.vegetation:vegetation",
        "change": "dronegis.cli.change:change",
        "retention": "dronegis.cli.retention:retention",
        "hold": "dronegis.cli.hold:hold",
        "erase": "dronegis.cli.erase:erase",
        "audit": "dronegis.cli.audit:audit",
        "remask": "dronegis.cli.remask:remask",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every subcommand name, sorted."""
        return sorted(self.COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import a subcommand's module only when it is used (keeps start-up fast)."""
        target = self.COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        module = __import__(module_name, fromlist=[attr])
        command: click.Command = getattr(module, attr)
        return command


@click.group(cls=DroneGisGroup)
@click.version_option(__version__, prog_name="dronegis")
@click.option("-v", "--verbose", count=True, help="More log output (repeatable).")
@click.option("-q", "--quiet", count=True, help="Less log output (repeatable).")
def cli(verbose: int, quiet: int) -> None:
    """dronegis: ingest, georeference, QA and publish drone flights (Skanderborg Kommune)."""
    logging.basicConfig(
        level=verbosity_to_level(verbose, quiet), format="%(levelname)s %(name)s: %(message)s"
    )
