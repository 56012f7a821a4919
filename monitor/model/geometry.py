"""Container geometry: a solution's mean optical path from its container's shape and its fill volume.

The path the photolysis integral uses is the mean chord 4V/S of the filled volume (Cauchy's formula: the
mean chord of a convex body under uniformly random lines, i.e. diffuse light; photokinetics.md §10). The
catalogue and its provenance are in ``monitor/data/containers.toml``; the path's range spans the form's
candidate containers, its fill range and the illumination factor (room light is neither diffuse nor a beam).
"""

from __future__ import annotations

import math
import tomllib
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor.model.constants import Constant

ML_PER_CM3 = 1.0


class Container(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    label: str
    shape: Literal["cylinder", "bag"]
    capacity_ml: float = Field(gt=0)
    inner_diameter_mm: float | None = Field(default=None, gt=0)
    face_mm: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _dimensions(self) -> Container:
        if self.shape == "cylinder" and self.inner_diameter_mm is None:
            raise ValueError("a cylinder needs inner_diameter_mm")
        if self.shape == "bag" and self.face_mm is None:
            raise ValueError("a bag needs face_mm")
        return self

    def mean_chord_cm(self, fill_ml: float) -> float:
        """4V/S of ``fill_ml`` of liquid in this container (its wetted surface plus the free surface)."""
        if not 0 < fill_ml <= self.capacity_ml:
            raise ValueError(f"{self.label}: fill {fill_ml:g} mL is not within 0-{self.capacity_ml:g} mL")
        volume = fill_ml / ML_PER_CM3
        if self.shape == "cylinder":
            assert self.inner_diameter_mm is not None  # checked at load
            r = self.inner_diameter_mm / 20.0
            h = volume / (math.pi * r * r)
            return 2.0 * r * h / (r + h)
        assert self.face_mm is not None  # checked at load
        a, b = self.face_mm[0] / 10.0, self.face_mm[1] / 10.0
        t = volume / (a * b)
        return 4.0 * volume / (2.0 * a * b + 2.0 * (a + b) * t)


class ContainerFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    illumination_factor: Constant
    containers: dict[str, Container] = Field(min_length=1)


@cache
def catalogue() -> ContainerFile:
    text = resources.files("monitor").joinpath("data/containers.toml").read_text(encoding="utf-8")
    return ContainerFile.model_validate(tomllib.loads(text))


def path_constant(containers: tuple[str, ...], fill_ml: Constant, catalogue: ContainerFile) -> Constant:
    """The mean optical path of a fill in its usual container (the first), with the range over every
    candidate container, the fill's range and the illumination factor."""
    unknown = [c for c in containers if c not in catalogue.containers]
    if unknown:
        raise ValueError(f"unknown containers {unknown}; known: {', '.join(sorted(catalogue.containers))}")
    best_container = catalogue.containers[containers[0]]
    best = best_container.mean_chord_cm(fill_ml.value)
    chords = [
        catalogue.containers[c].mean_chord_cm(v)
        for c in containers
        for v in (fill_ml.lowest, fill_ml.value, fill_ml.highest)
        if v <= catalogue.containers[c].capacity_ml
    ]
    light = catalogue.illumination_factor
    names = ", ".join(catalogue.containers[c].label for c in containers)
    return Constant(
        value=best,
        low=min(chords) * light.lowest,
        high=max(chords) * light.highest,
        provenance="derived",
        source=(
            f"mean chord 4V/S of {fill_ml.value:g} mL in a {best_container.label} ({best:.2f} cm); range over"
            f" {names} and the fill's range, × illumination {light.lowest:g}-{light.highest:g}"
            " (containers.toml, photokinetics.md §10)"
        ),
    )
