"""The ground floor: the error tree, atomic writes, the frozen model base and the workspace's path rules.

Every other package imports from here; this package imports nothing of the project.

``from core import Workspace, Frozen, atomic_write_text`` for the everyday names; the error tree
is imported from :mod:`core.errors` itself (``from core.errors import UsageError``), never through
another module.
"""

from core.atomic import (
    atomic_copy,
    atomic_open,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    scratch_path,
)
from core.localtime import local, local_date, local_text
from core.models import Frozen
from core.workspace import Workspace

__all__ = [
    "Frozen",
    "Workspace",
    "atomic_copy",
    "atomic_open",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "local",
    "local_date",
    "local_text",
    "scratch_path",
]
