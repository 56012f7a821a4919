"""Central's fleet vial list (``GET /api/v1/fleet/vials``) over many sites.

Workload: the shipped simulated site run for ten minutes of its clock (the acquisition loop on the simulated
fridge, 1 s samples; four vials at one location), its outbox ingested into central under ``SITES`` site
names, so every site holds the same rows and asks the same work. Measured: the list of every site's vials
with their verdicts (:func:`fleet.central.fleet_view.fleet_vials`), as the route computes it: every site's
configuration and model inputs loaded in a fixed number of statements, then one evaluation. Baselines in
the same run, each checked equal first and run in turn with it: the same answer built one site after
another (:func:`fleet.central.fleet_view.site_vials` per site: thirteen statements and an evaluation a
site, the list's way before), and the same vials judged from their inputs loaded beforehand
(:func:`fleet.central.fleet_view.judge`: the model's work alone, what the list would cost with free
reads). Apart: the configuration reads alone, every site's at once against three statements a site.

Both the load and the evaluation are a function of the site's clock (a silence widens the low bound up
to it, and the verdict's time left counts from it), so a cache of a site's answer keyed by its
acknowledged point alone would change the answers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg

from bench.harness import Figure, figure, median_time
from firmware_bridge.acquisition import AcquisitionLoop, AcquisitionSettings, SampleTime
from firmware_bridge.sensors import build_fridge, build_simulated_sensors
from fleet.central import fleet_view, site_config
from fleet.central.ingest import ingest
from fleet.central.partitions import Partitions
from fleet.central.schema import migrate
from fleet.engines.postgres import PrivatePostgres
from fleet.protocol import Batch, Row
from hardware.clock import ManualClock
from monitor.alerts.rules import default_rules
from monitor.config import parse_settings
from monitor.engine import Engine
from monitor.model.profiles import Catalog, load_catalog
from monitor.site_sync import sync_site
from monitor.store import Database, outbox
from monitor.store.database import transaction
from monitor.version import version

SITE_SECONDS = 600.0

Connection = psycopg.Connection[tuple[Any, ...]]


@contextlib.contextmanager
def central() -> Iterator[str]:
    """A private PostgreSQL with central's schema; its connection string."""
    # Under /tmp and open to all: run as root, PostgreSQL runs as its own user, who must reach it.
    directory = Path(tempfile.mkdtemp(prefix="vialguard-bench-fleet-view-"))
    directory.chmod(0o755)
    postgres = PrivatePostgres(directory / "postgres", durable=False)
    try:
        postgres.initialise()
        url = postgres.url()
        with psycopg.connect(url) as conn:
            migrate(conn)
        yield url
    finally:
        postgres.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


def site_rows(directory: Path, catalog: Catalog) -> tuple[list[Row], str, int, float]:
    """One simulated site's outbox after ``SITE_SECONDS``: its rows, epoch, epoch base and clock."""
    raw = tomllib.loads(resources.files("vialguard").joinpath("data/simulated.toml").read_text("utf-8"))
    settings = parse_settings(raw, "simulated.toml", {"db_path": directory / "site.db"})
    clock = ManualClock()
    db = Database(settings.db_path)
    db.initialise()
    conn = db.connect()
    sync_site(conn, settings, clock.wall())
    with transaction(conn):
        outbox.enable(conn, "bench-site")
    engine = Engine(conn, catalog, default_rules(settings.rules.thresholds()))
    sample_time = SampleTime()
    fridge = build_fridge(settings.simulation, clock.wall())
    loop = AcquisitionLoop(
        build_simulated_sensors(settings, fridge, sample_time)[0],
        clock,
        engine,
        AcquisitionSettings(120.0, None, 300.0, stamp_at_due_time=True),
        sample_time=sample_time,
        real_monotonic=clock.monotonic,
    )
    end = clock.monotonic() + SITE_SECONDS
    while clock.monotonic() < end:
        loop.poll_once()
        if loop.due_for_flush():
            loop.flush()
        clock.advance(1.0)
    loop.flush()
    rows = [Row(r.seq, r.kind, r.record) for r in outbox.pending(conn, 0, 1_000_000)]
    state = outbox.state(conn)
    assert state is not None
    assert state.epoch is not None
    conn.close()
    return rows, state.epoch, state.epoch_base_seq, clock.wall()


def fill(url: str, rows: list[Row], epoch: str, base: int, now: float, sites: int) -> None:
    """The one site's rows ingested under ``sites`` names, as their uplinks would send them."""
    with psycopg.connect(url) as conn:
        for i in range(sites):
            batch = Batch(f"site-{i:04d}", epoch, base, tuple(rows), now, rows[-1].seq, None)
            ingest(conn, Partitions(), batch, now)


def one_by_one(conn: Connection, catalog: Catalog, now: float) -> list[fleet_view.FleetVial]:
    """The list built a site at a time, each site's configuration read on its own (central's version read
    once, as the list always did)."""
    out: list[fleet_view.FleetVial] = []
    code = version()
    for facts in fleet_view.site_facts(conn).values():
        out += fleet_view.site_vials(conn, catalog, facts, fleet_view.site_clock(facts, now), code)
    return out


def preloaded(conn: Connection, catalog: Catalog, now: float) -> list[fleet_view.SiteLoad]:
    """Every site's vials with the model's inputs, as the list loads them before it judges."""
    chosen = list(fleet_view.site_facts(conn).values())
    return fleet_view.load(conn, catalog, chosen, lambda f: fleet_view.site_clock(f, now), version())


def paired(ours: Callable[[], object], baseline: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall times of ``ours`` and ``baseline``, run in turn: a machine whose load drifts during the
    run slows both alike rather than whichever ran second."""
    mine, theirs = [], []
    for _ in range(repeats):
        mine.append(median_time(ours, 1))
        theirs.append(median_time(baseline, 1))
    return statistics.median(mine), statistics.median(theirs)


def run(smoke: bool) -> list[Figure]:
    sites = 3 if smoke else 200
    repeats = 1 if smoke else 7
    catalog = load_catalog()
    with tempfile.TemporaryDirectory() as d, central() as url:
        rows, epoch, base, now = site_rows(Path(d), catalog)
        fill(url, rows, epoch, base, now, sites)
        with psycopg.connect(url) as conn:
            listed = fleet_view.fleet_vials(conn, catalog, now)
            assert listed == one_by_one(conn, catalog, now), "the fleet list differs from the sites' own"
            assert len(listed) == 4 * sites
            assert all(v.verdict is not None for v in listed)
            names = list(fleet_view.site_facts(conn))
            config, config_baseline = paired(
                lambda: (site_config.locations_of(conn, names), site_config.vials_of(conn, names)),
                lambda: [(site_config.locations(conn, n), site_config.vials(conn, n)) for n in names],
                repeats,
            )
            ours, baseline = paired(
                lambda: fleet_view.fleet_vials(conn, catalog, now),
                lambda: one_by_one(conn, catalog, now),
                repeats,
            )
            loads = preloaded(conn, catalog, now)
            assert fleet_view.judge(loads, catalog) == listed, "judged from preloaded inputs, it differs"
            listing, model_alone = paired(
                lambda: fleet_view.fleet_vials(conn, catalog, now),
                lambda: fleet_view.judge(loads, catalog),
                repeats,
            )
    return [
        figure(
            f"central's fleet vial list, {sites} sites of 4 vials",
            ours,
            baseline,
            "the same list built one site at a time",
            "s",
            "no slower than a site at a time",
            ours <= baseline * 1.05,
        ),
        figure(
            f"central's fleet vial list, {sites} sites of 4 vials, against the model alone",
            listing,
            model_alone,
            "the same vials judged from inputs loaded beforehand",
            "s",
            "the reads at most one and a half times the model's work",
            listing <= model_alone * 2.5,
        ),
        figure(
            f"its reads of {sites} sites' configuration",
            config,
            config_baseline,
            "three statements a site",
            "s",
            "a tenth of the reads a site at a time",
            config <= config_baseline / 10,
        ),
    ]


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    for f in run(smoke="--smoke" in sys.argv):
        print(f)  # run alone, the figures on the terminal
