"""Re-export of the error tree, which lives on the lowest floor (:mod:`flights.errors`)."""

from flights.errors import *  # noqa: F403
from flights.errors import DroneGisError

__all__ = ["DroneGisError"]
