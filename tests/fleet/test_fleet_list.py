"""Central's fleet list loads every site at once and evaluates them together, and still gives each vial
the answer its own site gives: the sites' locations share ids (each site numbers its own from 1), so a
list that mixed one site's ledgers or lamp with another's would show here."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from fleet.central import fleet_view
from fleet.central.ingest import ingest
from fleet.central.partitions import Partitions
from fleet.central.schema import migrate
from fleet.protocol import Batch, Row
from hardware.clock import ManualClock
from monitor.assessment import judged, thresholds_of
from monitor.config import Settings
from monitor.exposure import vial_potencies
from monitor.model.profiles import Catalog
from monitor.store import outbox
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from tests.monitor.test_engine import run_simulation, with_scenario

SECONDS = 900.0


def _site(
    settings: Settings, catalog: Catalog, name: str, directory: Path
) -> tuple[sqlite3.Connection, float]:
    """A simulated site ``name`` after ``SECONDS`` of its clock, its outbox enabled; and its clock."""
    clock = ManualClock()
    mine = settings.model_copy(update={"db_path": directory / f"{name}.db"})
    conn = run_simulation(mine, catalog, clock, SECONDS)
    with transaction(conn):
        outbox.enable(conn, name)
    return conn, clock.wall()


def _send(site: sqlite3.Connection, name: str, pg: psycopg.Connection[tuple[Any, ...]], now: float) -> None:
    rows = [Row(r.seq, r.kind, r.record) for r in outbox.pending(site, 0, 1_000_000)]
    state = outbox.state(site)
    assert state is not None
    assert state.epoch is not None
    batch = Batch(name, state.epoch, state.epoch_base_seq, tuple(rows), now, rows[-1].seq, None)
    ingest(pg, Partitions(), batch, now)


def test_the_fleet_list_gives_each_site_its_own_answer(
    settings: Settings, catalog: Catalog, postgres: str, tmp_path: Path
) -> None:
    """Listed together, three sites (one lit by a door left open, one running other code) get what each
    gets listed alone, and what each site's own model gives from its own database."""
    lit = with_scenario(
        settings, kind="door-left-open", start_after_seconds=100, duration_seconds=500, lux=600
    )
    sites = {
        "ward-quiet": _site(settings, catalog, "ward-quiet", tmp_path),
        "ward-lit": _site(lit, catalog, "ward-lit", tmp_path),
        "ward-other": _site(settings, catalog, "ward-other", tmp_path),
    }
    with transaction(sites["ward-other"][0]):
        sites["ward-other"][0].execute("UPDATE site_model_settings SET vialguard_version = '0.0.1'")
    now = max(at for _, at in sites.values())
    with psycopg.connect(postgres) as pg:
        migrate(pg)
        for name, (conn, at) in sites.items():
            _send(conn, name, pg, at)
        together = fleet_view.fleet_vials(pg, catalog, now, at=now)
        alone = [
            v for name in sorted(sites) for v in fleet_view.fleet_vials(pg, catalog, now, site=name, at=now)
        ]
    assert together == alone
    by = {(v.site, v.key): v for v in together}
    assert {v.refused is None for v in together if v.site == "ward-other"} == {False}
    # The door lit the one site's vials: the same keys at the two sites answer differently.
    assert (
        by["ward-lit", "infusion-0001"].potency_percent != by["ward-quiet", "infusion-0001"].potency_percent
    )
    thresholds = thresholds_of(settings.rules.thresholds())
    for name in ("ward-quiet", "ward-lit"):
        conn = sites[name][0]
        records = vial_store.list_all(conn)
        own = judged(
            vial_potencies(conn, catalog, records, threshold_percent=thresholds.critical_percent, now=now),
            thresholds,
            now,
        )
        assert len(own) == 4
        for a in own:
            ours = by[name, a.potency.vial.key]
            assert ours.refused is None, ours.refused
            assert ours.verdict is not None
            assert ours.potency_percent is not None
            assert (ours.verdict.verdict, ours.verdict.basis, ours.verdict.limited_by) == (
                a.verdict.verdict,
                a.verdict.basis,
                a.verdict.limited_by,
            )
            theirs = a.potency.percent_range
            for bound in ("best", "low", "high"):
                assert getattr(ours.potency_percent, bound) == pytest.approx(getattr(theirs, bound), rel=1e-9)
            if a.verdict.hours_left is None:
                assert ours.verdict.hours_left is None
            else:
                assert ours.verdict.hours_left == pytest.approx(a.verdict.hours_left, rel=1e-9)
