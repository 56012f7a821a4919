"""A vial that leaves this site for another, and one that arrives: the hand-over document between them.

A vial's key is unique in the organisation. At the sending site :func:`hand_over` records a
``handed-over`` event at the hand-over's true time (the vial keeps its history here and is evaluated up to
then, no further) and returns the document: the vial's identity (key, drug, form, lot, expiry, label
potency, packaging, reconstitution time, first registration) and its state at that instant, the potency
model's running sums (:class:`monitor.model.inputs.PotencyState`) with the potency best, low and high and
the verdict they give. At the receiving site :func:`receive` checks the document and registers the vial
at a location with a ``received`` event at the hand-over's time; the model goes on from the carried state
(:mod:`monitor.model.evaluation`), so the potency there is the one its whole life at one site would give.

The document carries a SHA-256 checksum of its canonical JSON (keys sorted, no spaces, floats as Python
writes them, which read back bit for bit): a document altered or corrupted on its way is refused. The
checksum guards against accident, not against a forger; the same document received twice is the same
receipt, so a relay may deliver it more than once.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from monitor import assessment
from monitor.config import Settings
from monitor.errors import InvalidRequest
from monitor.lifecycle import FUTURE_TOLERANCE_SECONDS
from monitor.model.profiles import Catalog
from monitor.model.verdict import Thresholds
from monitor.store import handovers, sites
from monitor.store import vials as vial_store
from monitor.store.handovers import HandoverRecord
from monitor.store.vials import END_KINDS, VialRecord
from monitor.timestamps import check_ts, format_utc
from monitor.version import version

FORMAT = "vialguard-hand-over/1"
CHECKSUM_PREFIX = "sha256:"


def site_of(settings: Settings) -> str:
    """This site's name in the organisation: the fleet's ``site`` where configured, else ``site_name``."""
    return settings.fleet.site if settings.fleet is not None else settings.site_name


def canonical(body: Mapping[str, Any]) -> str:
    """The text the checksum is taken over: the same for any JSON that reads back as the same values."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def checksum_of(body: Mapping[str, Any]) -> str:
    return CHECKSUM_PREFIX + hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


def verify(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document's body (without its checksum) once its format and checksum are right; else
    :class:`InvalidRequest` saying which."""
    if document.get("format") != FORMAT:
        raise InvalidRequest(f"document: format {document.get('format')!r} is not {FORMAT!r}")
    body = {k: v for k, v in document.items() if k != "checksum"}
    claimed = document.get("checksum")
    try:
        found = checksum_of(body)
    except ValueError as exc:  # NaN or infinity: never written by hand_over
        raise InvalidRequest(f"document: not a hand-over document's values: {exc}") from None
    if claimed != found:
        raise InvalidRequest(
            "document: the checksum does not match its contents: the document was altered or corrupted"
            " on its way; ask the sending site for it again"
        )
    return body


@dataclass(frozen=True, slots=True)
class HandOver:
    """A hand-over recorded at the sending site: the document to take to the receiving one."""

    vial_id: int
    event_id: int
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Receipt:
    """A vial registered at the receiving site from a document (``repeated``: received before)."""

    vial_id: int
    event_id: int
    handover_id: int
    repeated: bool


def _iso(ts: float) -> str:
    return format_utc(ts)


def _check_time(name: str, ts: float, now: float, after: float | None, after_what: str) -> None:
    check_ts(name, ts)
    if not math.isfinite(ts) or ts > now + FUTURE_TOLERANCE_SECONDS:
        raise InvalidRequest(f"{name}: {_iso(ts)} is in the future (now {_iso(now)})")
    if after is not None and ts < after:
        raise InvalidRequest(f"{name}: {_iso(ts)} is before {after_what} at {_iso(after)}")


def hand_over(
    conn: sqlite3.Connection,
    catalog: Catalog,
    vial: VialRecord,
    *,
    from_site: str,
    to_site: str,
    ts: float,
    now: float,
    thresholds: Thresholds,
) -> HandOver:
    """Record that ``vial`` left for ``to_site`` at ``ts`` and return the hand-over document; inside the
    caller's write transaction. Refuses a vial not in stock here, a time in the future or before the
    vial's last event, and a hand-over to this site itself."""
    if vial.status != "active":
        raise InvalidRequest(
            f"vial {vial.key!r} is {vial.status}: only a vial in stock here can be handed over"
        )
    if to_site == from_site:
        raise InvalidRequest(f"to_site: {to_site!r} is this site; a move within it is a 'moved' event")
    history = vial_store.events(conn, vial.id)
    last = history[-1] if history else None
    since = None if last is None else last.ts
    _check_time("at", ts, now, since, f"the vial's last event ({last.kind})" if last else "")
    packaging = location_id = None
    for event in history:
        packaging = event.packaging if event.packaging is not None else packaging
        location_id = event.location_id if event.location_id is not None else location_id
    arrived = [h for h in handovers.of_vial(conn, vial.id) if h.direction == "in"]
    first_registered = (
        float(arrived[0].document["vial"]["first_registered_ts"]) if arrived else vial.registered_ts
    )
    reconstituted = next((e.ts for e in history if e.kind == "reconstituted"), None)
    location = None if location_id is None else sites.location_by_id(conn, location_id).key
    event_id = vial_store.add_event(
        conn,
        vial_id=vial.id,
        ts=ts,
        kind="handed-over",
        location_id=None,
        packaging=None,
        detail=f"to site {to_site}",
        recorded_ts=now,
    )
    left = vial_store.get(conn, vial.id)
    a = assessment.assess(conn, catalog, left, thresholds, now=now)
    p, v = a.potency, a.verdict
    body: dict[str, Any] = {
        "format": FORMAT,
        "from_site": from_site,
        "to_site": to_site,
        "handed_over_ts": ts,
        "handed_over_at": _iso(ts),
        "from_location": location,
        "vial": {
            "key": vial.key,
            "drug": vial.drug,
            "form": vial.form,
            "lot": vial.lot,
            "expiry": vial.expiry,
            "initial_potency_percent": vial.initial_potency_percent,
            "packaging": packaging,
            "reconstituted_ts": reconstituted,
            "first_registered_ts": first_registered,
            "status": "active",
        },
        "state": asdict(p.state),
        "potency_percent": {
            "best": p.percent_range.best,
            "low": p.percent_range.low,
            "high": p.percent_range.high,
        },
        "effective_lux_hours": {
            "best": p.effective_lux_hours_range.best,
            "low": p.effective_lux_hours_range.low,
            "high": p.effective_lux_hours_range.high,
        },
        "verdict": {
            "verdict": v.verdict,
            "basis": v.basis,
            "basis_percent": v.basis_percent,
            "reason": v.reason,
        },
        "uncertainty": list(p.uncertainty),
        "model": {
            "k_ref_per_hour": catalog.drug(vial.drug).k_ref_per_hour.value,
            "vialguard": version(),
        },
    }
    checksum = checksum_of(body)
    document = {**body, "checksum": checksum}
    handovers.add(
        conn,
        vial_id=vial.id,
        event_id=event_id,
        direction="out",
        ts=ts,
        peer_site=to_site,
        document_text=canonical(document),
        checksum=checksum,
    )
    return HandOver(vial.id, event_id, document)


def _field(body: Mapping[str, Any], *path: str) -> Any:
    value: Any = body
    for name in path:
        if not isinstance(value, Mapping) or name not in value:
            raise InvalidRequest(f"document: {'.'.join(path)} is missing")
        value = value[name]
    return value


def _number(body: Mapping[str, Any], *path: str) -> float:
    value = _field(body, *path)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidRequest(f"document: {'.'.join(path)} is not a number")
    return float(value)


def receive(
    conn: sqlite3.Connection,
    catalog: Catalog,
    document: Mapping[str, Any],
    *,
    site: str,
    location: str,
    now: float,
) -> Receipt:
    """Register the vial of ``document`` at ``location`` from its hand-over time, with the state it
    carries; inside the caller's write transaction. The same document again is the same receipt."""
    body = verify(document)
    checksum = str(document["checksum"])
    to_site, from_site = str(_field(body, "to_site")), str(_field(body, "from_site"))
    if to_site != site:
        raise InvalidRequest(f"document: it hands the vial over to site {to_site!r}, and this is {site!r}")
    key = str(_field(body, "vial", "key"))
    if _field(body, "vial", "status") != "active":
        raise InvalidRequest(
            f"document: vial {key!r} was {_field(body, 'vial', 'status')} at the sending site: only a vial"
            " in stock is handed over"
        )
    ts = _number(body, "handed_over_ts")
    drug, form = str(_field(body, "vial", "drug")), str(_field(body, "vial", "form"))
    catalog.form(drug, form)  # refuses a drug or form this site does not know, naming those it does
    packaging = _field(body, "vial", "packaging")
    if packaging is not None:
        catalog.tau(str(packaging))
    k_ref = _number(body, "model", "k_ref_per_hour")
    here = catalog.drug(drug).k_ref_per_hour.value
    if not math.isclose(k_ref, here, rel_tol=1e-12):
        raise InvalidRequest(
            f"document: the sending site's {drug} profile has k_ref {k_ref!r} per hour, this site's"
            f" {here!r}: the carried heat would be read at another rate; align the drug profiles"
        )
    for name in handovers.STATE_FIELDS:
        if name != "unbounded":
            _number(body, "state", name)
    if not isinstance(_field(body, "state", "unbounded"), bool):
        raise InvalidRequest("document: state.unbounded is not true or false")
    words = body.get("uncertainty", [])
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise InvalidRequest("document: uncertainty is not a list of words")
    known = {loc.key: loc.id for loc in sites.list_locations(conn)}
    if location not in known:
        raise InvalidRequest(f"location: unknown location {location!r}; known: {', '.join(sorted(known))}")
    existing = vial_store.by_key(conn, key)
    if existing is not None:
        prior = handovers.by_checksum(conn, checksum, "in")
        if prior is not None and prior.vial_id == existing.id:
            return Receipt(existing.id, prior.event_id, prior.id, repeated=True)
        _refuse_present(conn, existing, ts, now)
        theirs = (drug, form, str(_field(body, "vial", "lot")))
        if theirs != (existing.drug, existing.form, existing.lot):
            raise InvalidRequest(
                f"document: vial {key!r} here is {existing.drug}, {existing.form}, lot {existing.lot}; the"
                f" document's is {', '.join(theirs[:2])}, lot {theirs[2]}: two vials cannot share a key"
            )
        vial_id = existing.id
        reconstituted_here = any(e.kind == "reconstituted" for e in vial_store.events(conn, vial_id))
    else:
        _check_time("document: handed_over_ts", ts, now, None, "")
        vial_id = vial_store.insert(
            conn,
            key=key,
            drug=drug,
            form=form,
            lot=str(_field(body, "vial", "lot")),
            expiry=None if body["vial"].get("expiry") is None else str(body["vial"]["expiry"]),
            initial_potency_percent=_number(body, "vial", "initial_potency_percent"),
            registered_ts=ts,
        )
        reconstituted_here = False
    reconstituted = body["vial"].get("reconstituted_ts")
    if reconstituted is not None and not reconstituted_here:
        # The label's limit after reconstitution runs from when it happened, wherever that was.
        vial_store.add_event(
            conn,
            vial_id=vial_id,
            ts=min(_number(body, "vial", "reconstituted_ts"), ts),
            kind="reconstituted",
            location_id=None,
            packaging=None,
            detail=f"at site {from_site}",
            recorded_ts=now,
        )
    event_id = vial_store.add_event(
        conn,
        vial_id=vial_id,
        ts=ts,
        kind="received",
        location_id=known[location],
        packaging=None if packaging is None else str(packaging),
        detail=f"from site {from_site}",
        recorded_ts=now,
    )
    handover_id = handovers.add(
        conn,
        vial_id=vial_id,
        event_id=event_id,
        direction="in",
        ts=ts,
        peer_site=from_site,
        document_text=canonical(document),
        checksum=checksum,
    )
    return Receipt(vial_id, event_id, handover_id, repeated=False)


def _refuse_present(conn: sqlite3.Connection, vial: VialRecord, ts: float, now: float) -> None:
    """A key this site knows comes in only as a vial it handed over, back no earlier than it left."""
    history = vial_store.events(conn, vial.id)
    if vial.status == "active":
        raise InvalidRequest(
            f"vial {vial.key!r} is already here and in stock: a vial key is unique in the organisation;"
            " hand it over from here first, or check the key"
        )
    ended = next((e for e in history if e.kind in END_KINDS), None)
    if ended is not None:
        raise InvalidRequest(
            f"vial {vial.key!r} was {ended.kind} here at {_iso(ended.ts)}; it cannot come back"
        )
    last = history[-1] if history else None
    _check_time(
        "document: handed_over_ts",
        ts,
        now,
        None if last is None else last.ts,
        f"the vial's last event here ({last.kind})" if last else "",
    )


def hand_overs(conn: sqlite3.Connection, vial_id: int) -> list[HandoverRecord]:
    """The vial's hand-overs, out and in, in the order they happened."""
    return handovers.of_vial(conn, vial_id)
