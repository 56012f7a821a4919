"""The model's data: drug profiles, packaging states and lamp types, every constant with its provenance."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import State
from monitor.model.profiles import DrugModel, LampModel, PackagingModel

router = APIRouter(prefix="/api/v1", tags=["model"])


class Profiles(BaseModel):
    drugs: dict[str, DrugModel]
    packaging: dict[str, PackagingModel]
    lamps: dict[str, LampModel]


@router.get("/profiles", response_model=Profiles)
def get_profiles(state: State) -> Profiles:
    """Each constant as {value, provenance (sourced | derived | assumed), source, low, high}."""
    c = state.catalog
    return Profiles(drugs=c.drugs, packaging=c.packaging, lamps=c.lamps)
