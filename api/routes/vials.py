"""Vials: list with estimated potency, one vial with its model parameters, register, record events, hand
over to another site and receive from one."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.auth import CallerDep
from api.deps import State, StoreDep
from api.params import RowId
from api.schemas import (
    Bounds,
    HandOverDone,
    HandOverIn,
    ModelParameter,
    PotencyPoint,
    Received,
    ReceiveIn,
    TimeToThreshold,
    Vial,
    VialEventIn,
    VialEventOut,
    VialEventRecorded,
    VialHandOver,
    VialRegistration,
    VialVerdict,
    iso,
)
from monitor import lifecycle, measured_light
from monitor.assessment import VialAssessment, thresholds_of
from monitor.errors import InvalidRequest, NotFound
from monitor.handover import site_of
from monitor.model.bounds import Interval
from monitor.model.parameters import model_parameters
from monitor.model.profiles import Catalog, LampModel
from monitor.model.verdict import Thresholds
from monitor.model.verdict import VialVerdict as Verdict
from monitor.store.ports import HandoverRecord, Store, VialEvent

router = APIRouter(prefix="/api/v1/vials", tags=["vials"])


def _bounds(i: Interval, digits: int) -> Bounds:
    return Bounds(best=round(i.best, digits), low=round(i.low, digits), high=round(i.high, digits))


def _hours(h: float) -> float | None:
    return None if math.isinf(h) else round(h, 4)


def _lamp(store: Store, catalog: Catalog, location_id: int | None, lamp: str | None) -> LampModel | None:
    """The lamp behind κ_s: the measured-spectrum factor where a spectral sensor measures it, else the
    configured lamp (the measured κ_s itself is in the potency's uncertainty notes)."""
    if location_id is not None and store.spectral_sensor(location_id) is not None:
        return catalog.lamp(measured_light.MEASURED_SPECTRUM)
    return None if lamp is None else catalog.lamp(lamp)


def verdict_schema(v: Verdict) -> VialVerdict:
    facts = v.facts()
    facts["label_deadline_at"] = iso(v.label_deadline_ts)
    del facts["label_deadline_ts"]
    return VialVerdict.model_validate(facts)


def to_schema(
    store: Store,
    catalog: Catalog,
    a: VialAssessment,
    with_parameters: bool = False,
    moves: list[HandoverRecord] | None = None,
) -> Vial:
    """The vial as the API shows it; ``moves``: its hand-overs, when the caller read many vials' at once."""
    p, vial = a.potency, a.potency.vial
    if moves is None:
        moves = store.vial_handovers([vial.id]).get(vial.id, [])
    arrived = [m for m in moves if m.direction == "in"]
    left = [m for m in moves if m.direction == "out"]
    location = None if p.location_id is None else store.location_by_id(p.location_id).key
    ttt = p.time_to_threshold
    parameters = None
    if with_parameters:
        drug = catalog.drug(vial.drug)
        parameters = [
            ModelParameter(
                name=x.name,
                symbol=x.symbol,
                value=x.value,
                low=x.low,
                high=x.high,
                unit=x.unit,
                provenance=x.provenance,  # type: ignore[arg-type]  # a Provenance literal from the catalog
                source=x.source,
            )
            for x in model_parameters(
                drug,
                drug.forms[vial.form],
                None if p.packaging is None else catalog.packaging_state(p.packaging),
                _lamp(store, catalog, p.location_id, p.lamp),
            )
        ]
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
        potency_bounds_percent=_bounds(p.percent_range, 4),
        effective_lux_hours_bounds=_bounds(p.effective_lux_hours_range, 6),
        potency_uncertainty=list(p.uncertainty),
        lamp=p.lamp,
        reconstituted_at=iso(p.reconstituted_ts),
        verdict=verdict_schema(a.verdict),
        time_to_threshold=None
        if ttt is None
        else TimeToThreshold(
            threshold_percent=ttt.threshold_percent,
            hours=_hours(ttt.hours),
            hours_best=_hours(ttt.hours_best),
            hours_low=_hours(ttt.hours_low),
            label_deadline_at=iso(ttt.label_deadline_ts),
            limited_by="label" if ttt.limited_by == "label" else "model",
        ),
        model_parameters=parameters,
        received_from=arrived[-1].peer_site if arrived else None,
        received_at=iso(arrived[-1].ts) if arrived else None,
        handed_over_to=left[-1].peer_site if left and vial.status == "handed-over" else None,
        handed_over_at=iso(left[-1].ts) if left and vial.status == "handed-over" else None,
        hand_overs=[
            VialHandOver(direction=m.direction, site=m.peer_site, at=iso(m.ts), checksum=m.checksum)
            for m in moves
        ],
    )


def thresholds(state: State) -> Thresholds:
    return thresholds_of(state.settings.rules.thresholds())


@router.get("", response_model=list[Vial])
def list_vials(store: StoreDep, state: State) -> list[Vial]:
    with store.snapshot():
        vials = store.vials()
        found = store.assess_all(state.catalog, vials, thresholds(state), state.clock.wall())
        moves = store.vial_handovers([v.id for v in vials])
        return [to_schema(store, state.catalog, a, moves=moves.get(a.potency.vial.id, [])) for a in found]


@router.get("/{vial_id}", response_model=Vial)
def get_vial(vial_id: RowId, store: StoreDep, state: State) -> Vial:
    with store.snapshot():
        vial = store.vial(vial_id)
        a = store.assess(state.catalog, vial, thresholds(state), state.clock.wall())
        return to_schema(store, state.catalog, a, with_parameters=True)


@router.post("", response_model=Vial, status_code=status.HTTP_201_CREATED)
def register_vial(body: VialRegistration, store: StoreDep, state: State, who: CallerDep) -> Vial:
    """Register a vial (drug, form, lot, location, packaging state) from now on."""
    state.catalog.form(body.drug, body.form)  # refuses an unknown drug or form, naming the known ones
    state.catalog.tau(body.packaging)
    now = state.clock.wall()
    ts = now if body.registered_at is None else body.registered_at.timestamp()
    if ts > now + lifecycle.FUTURE_TOLERANCE_SECONDS:
        raise InvalidRequest(f"registered_at: {iso(ts)} is in the future (now {iso(now)})")
    with store.transaction():
        location = store.location(body.location)
        vial_id = store.register_vial(
            key=body.key,
            drug=body.drug,
            form=body.form,
            lot=body.lot,
            expiry=body.expiry,
            initial_potency_percent=body.initial_potency_percent,
            location_id=location.id,
            packaging=body.packaging,
            ts=ts,
            recorded_ts=now,
        )
        detail = body.model_dump(mode="json")
        store.append_audit(now, who.actor, "vial.registered", f"vial:{body.key}", detail)
    a = store.assess(state.catalog, store.vial(vial_id), thresholds(state), now)
    return to_schema(store, state.catalog, a)


@router.get("/{vial_id}/potency", response_model=list[PotencyPoint])
def potency_history(
    vial_id: RowId, store: StoreDep, state: State, points: Annotated[int, Query(ge=2, le=500)] = 48
) -> list[PotencyPoint]:
    """Potency best/low/high at ``points`` evenly spaced times from registration to the latest data."""
    with store.snapshot():
        vial = store.vial(vial_id)
        curve = store.potency_curve(state.catalog, vial, points, with_events=False)
    return [
        PotencyPoint(
            at=iso(p.ts),
            potency_percent=Bounds(
                best=round(p.percent, 4),
                low=round(p.percent if p.low_percent is None else p.low_percent, 4),
                high=round(p.percent if p.high_percent is None else p.high_percent, 4),
            ),
            effective_lux_hours=round(p.effective_lux_hours, 6),
        )
        for p in curve
    ]


def _event(store: Store, e: VialEvent) -> VialEventOut:
    location = None if e.location_id is None else store.location_by_id(e.location_id).key
    return VialEventOut(
        id=e.id,
        kind=e.kind,
        at=iso(e.ts),
        location=location,
        packaging=e.packaging,
        detail=e.detail,
        recorded_at=iso(e.recorded_ts),
    )


@router.get("/{vial_id}/events", response_model=list[VialEventOut])
def list_events(vial_id: RowId, store: StoreDep) -> list[VialEventOut]:
    """The vial's life in the order it happened (``at``), with when each was recorded."""
    with store.snapshot():
        store.vial(vial_id)
        return [_event(store, e) for e in store.vial_events(vial_id)]


@router.post("/{vial_id}/events", response_model=VialEventRecorded, status_code=status.HTTP_201_CREATED)
def add_event(
    vial_id: RowId, body: VialEventIn, store: StoreDep, state: State, who: CallerDep
) -> VialEventRecorded:
    """Record a move, a packaging change, reconstitution, administration or discard at its true time.

    An event in the past recomputes the potency from that time on; a refusal is a 422 naming the field.
    """
    now = state.clock.wall()
    new = lifecycle.NewEvent(
        kind=body.kind,
        ts=now if body.at is None else body.at.timestamp(),
        location=body.location,
        packaging=body.packaging,
        detail=body.detail,
    )
    with store.transaction():
        vial = store.vial(vial_id)
        event_id = store.record_vial_event(state.catalog, vial, new, now)
        detail = {"event_id": event_id, **body.model_dump(mode="json")}
        store.append_audit(now, who.actor, f"vial.{body.kind}", f"vial:{vial.key}", detail)
    with store.snapshot():
        recorded = next(e for e in store.vial_events(vial_id) if e.id == event_id)
        assessed = store.assess(state.catalog, store.vial(vial_id), thresholds(state), now)
        vial_shown = to_schema(store, state.catalog, assessed)
        return VialEventRecorded(event=_event(store, recorded), vial=vial_shown)


@router.post("/{key}/hand-over", response_model=HandOverDone, status_code=status.HTTP_201_CREATED)
def hand_over(key: str, body: HandOverIn, store: StoreDep, state: State, who: CallerDep) -> HandOverDone:
    """Hand the vial over to another site at ``at`` (default now): it leaves this site's stock, keeps its
    history here, and the document returned carries its state to ``POST /api/v1/vials/receive`` there.

    Refused (422, with the reason): a vial not in stock here, a time in the future or before its last
    event, this site itself as the destination.
    """
    now = state.clock.wall()
    ts = now if body.at is None else body.at.timestamp()
    site = site_of(state.settings)
    with store.transaction():
        vial = store.vial_by_key(key)
        if vial is None:
            raise NotFound(f"no vial with key {key!r}")
        done = store.hand_over_vial(
            state.catalog,
            vial,
            from_site=site,
            to_site=body.to_site,
            ts=ts,
            now=now,
            thresholds=thresholds(state),
            actor=who.actor,
        )
    with store.snapshot():
        a = store.assess(state.catalog, store.vial(done.vial_id), thresholds(state), now)
        return HandOverDone(document=done.document, vial=to_schema(store, state.catalog, a))


@router.post("/receive", response_model=Received, status_code=status.HTTP_201_CREATED)
def receive(body: ReceiveIn, response: Response, store: StoreDep, state: State, who: CallerDep) -> Received:
    """Register a vial handed over from another site at ``location``, from its hand-over time, with the
    state the document carries: its potency here goes on from there.

    Refused (422, with the reason): a document altered or corrupted (its checksum), one for another site,
    for a vial not in stock at the sending site, a hand-over in the future or before the vial's last
    event here, a key already in stock here, a drug, form, packaging or location this site does not
    know. The same document again is the same receipt (200, ``repeated``).
    """
    now = state.clock.wall()
    with store.transaction():
        receipt = store.receive_vial(
            state.catalog,
            body.document,
            site=site_of(state.settings),
            location=body.location,
            now=now,
            actor=who.actor,
        )
    if receipt.repeated:
        response.status_code = status.HTTP_200_OK
    with store.snapshot():
        a = store.assess(state.catalog, store.vial(receipt.vial_id), thresholds(state), now)
        return Received(vial=to_schema(store, state.catalog, a), repeated=receipt.repeated)
