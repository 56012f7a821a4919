"""Vials: list with estimated potency, one vial, register a new one."""

from __future__ import annotations

import sqlite3

from fastapi import APIRouter, status

from api.deps import Conn, State
from api.schemas import Vial, VialRegistration, iso
from monitor.exposure import vial_potency
from monitor.profiles import Catalog
from monitor.store import sites
from monitor.store import vials as vial_store
from monitor.store.database import snapshot, transaction

router = APIRouter(prefix="/api/v1/vials", tags=["vials"])


def to_schema(conn: sqlite3.Connection, catalog: Catalog, vial: vial_store.VialRecord) -> Vial:
    p = vial_potency(conn, catalog, vial)
    location = None if p.location_id is None else sites.location_by_id(conn, p.location_id).key
    return Vial(
        id=vial.id,
        key=vial.key,
        drug=vial.drug,
        form=vial.form,
        lot=vial.lot,
        expiry=vial.expiry,
        status=vial.status,
        location=location,
        packaging=p.packaging,
        registered_at=iso(vial.registered_ts),
        initial_potency_percent=vial.initial_potency_percent,
        potency_percent=round(p.percent, 4),
        effective_lux_hours=round(p.effective_lux_hours, 6),
        potency_as_of=iso(p.as_of),
    )


@router.get("", response_model=list[Vial])
def list_vials(conn: Conn, state: State) -> list[Vial]:
    with snapshot(conn):
        return [to_schema(conn, state.catalog, v) for v in vial_store.list_all(conn)]


@router.get("/{vial_id}", response_model=Vial)
def get_vial(vial_id: int, conn: Conn, state: State) -> Vial:
    with snapshot(conn):
        return to_schema(conn, state.catalog, vial_store.get(conn, vial_id))


@router.post("", response_model=Vial, status_code=status.HTTP_201_CREATED)
def register_vial(body: VialRegistration, conn: Conn, state: State) -> Vial:
    """Register a vial (drug, form, lot, location, packaging state) from now on."""
    state.catalog.form(body.drug, body.form)  # refuses an unknown drug or form, naming the known ones
    state.catalog.tau(body.packaging)
    now = state.clock.wall()
    with transaction(conn):
        location = sites.location_by_key(conn, body.location)
        vial_id = vial_store.register(
            conn,
            key=body.key,
            drug=body.drug,
            form=body.form,
            lot=body.lot,
            expiry=body.expiry,
            initial_potency_percent=body.initial_potency_percent,
            location_id=location.id,
            packaging=body.packaging,
            ts=now,
            recorded_ts=now,
        )
    return to_schema(conn, state.catalog, vial_store.get(conn, vial_id))
