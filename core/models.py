"""The base of every boundary model."""

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Base for every boundary model: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
