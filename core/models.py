"""The base of every boundary model."""

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Base for every boundary model: immutable, no unknown fields.

    Validators are built when a model is first used, not when its module is imported
    (``defer_build``): a command builds only the models it touches (`dronegis thermal`
    starts ~20 ms sooner of ~390).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
