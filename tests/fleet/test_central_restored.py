"""Central's database restored from an older backup: central acknowledges the site behind the point it had
acknowledged. The rows in between were deleted at the site on that acknowledgement and cannot come back;
the site raises its new-epoch alert saying how many central lost, and sends every row it still holds
again under a new epoch, which central takes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from fleet.engines.mosquitto import PrivateMosquitto
from fleet.engines.postgres import PrivatePostgres
from fleet.protocol import Ack, ack_topic, encode_ack
from hardware.clock import ManualClock
from monitor.config import Settings
from monitor.model.profiles import Catalog
from monitor.store import alerts as alert_store
from monitor.store.database import transaction
from tests.fleet.fleet_system import (
    Central,
    central_readings,
    create_database,
    drop_database,
    site_count,
    site_readings,
    stop,
    wait_for,
)
from tests.fleet.test_restored_database import SITE, drained, epoch_alerts, simulate, uplinked_site, uplinking

pytestmark = pytest.mark.slow

NAME = "t_central_restored"
BACKUP = "t_central_restored_backup"


def copy_database(cluster: PrivatePostgres, source: str, target: str) -> None:
    """``target`` made a copy of ``source`` (no one connected to it): a backup taken, or put back."""
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {target} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {target} TEMPLATE {source}")


def retain_ack(broker: PrivateMosquitto, ack: Ack) -> None:
    """``ack`` made the broker's retained acknowledgement for the site, as a broker restarted from an
    older persistence snapshot would hold it."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        client.publish(ack_topic(SITE), encode_ack(ack), qos=1, retain=True).wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()


def send_all(settings: Settings, config: Path, clock: ManualClock, central: Central, what: str) -> None:
    """The site's uplink runs until central has acknowledged everything the site holds."""
    with uplinking(settings, config, clock):
        wait_for(lambda: drained(settings.db_path, central), 30, f"central to acknowledge {what}")


def acknowledged(central: Central) -> tuple[str, int]:
    """The epoch and the point central has acknowledged of the site."""
    point = central.sites()[SITE]["acknowledged"]
    return str(point["epoch"]), int(point["through"])


def test_central_restored_from_an_older_backup_gets_every_row_the_site_still_holds(
    tmp_path: Path,
    broker: PrivateMosquitto,
    postgres_cluster: PrivatePostgres,
    catalog: Catalog,
    clock: ManualClock,
) -> None:
    """Central restored to a backup taken before it acknowledged the site's second minute: the uplink
    sees central behind, raises the new-epoch alert naming the rows central lost for good, sends the rows
    it still holds (a third minute, never sent) under a new epoch, and the alert ends once a person
    acknowledged it and central caught up."""
    url = create_database(postgres_cluster, NAME)
    config, settings = uplinked_site(tmp_path, broker, catalog, clock, 60)
    db = settings.db_path
    central = Central(url, broker.url, tmp_path)
    try:
        central.start()
        send_all(settings, config, clock, central, "the first minute")
        first_epoch, backed_up = acknowledged(central)
        stop(central.process)
        copy_database(postgres_cluster, NAME, BACKUP)
        central.start()
        simulate(settings, catalog, clock, 60)
        send_all(settings, config, clock, central, "the second minute")
        _, through = acknowledged(central)
        assert through > backed_up
        before = set(central_readings(url, SITE))
        stop(central.process)

        simulate(settings, catalog, clock, 60)  # a third minute, held at the site
        held = site_count(db, "SELECT count(*) FROM uplink_outbox")
        assert held > 0
        copy_database(postgres_cluster, BACKUP, NAME)  # central's database put back to the backup
        lost_readings = before - set(central_readings(url, SITE))
        assert lost_readings, "the backup lacks the second minute"
        central.start()
        with uplinking(settings, config, clock):
            wait_for(lambda: bool(epoch_alerts(db)) and drained(db, central), 30, "the site to send again")
        (alert,) = epoch_alerts(db)
        lost = through - backed_up
        assert alert["state"] == "firing"
        assert f"{lost} rows central had acknowledged were deleted here" in str(alert["message"])
        assert json.loads(str(alert["snapshot"]))["lost_at_central"] == lost
        site = central.sites()[SITE]
        new_epoch = site["acknowledged"]["epoch"]
        assert new_epoch != first_epoch
        (drawn,) = [e for e in site["epochs"] if e["epoch"] == new_epoch]
        assert (drawn["parent"], drawn["base"]) == (first_epoch, through)
        assert f"behind the {through} it had acknowledged" in drawn["reason"]
        # Every reading the site holds is at central but those it lost for good, once each.
        at_central = central_readings(url, SITE)
        assert len(at_central) == len(set(at_central))
        assert set(at_central) == site_readings(db) - lost_readings

        conn = sqlite3.connect(db)
        with transaction(conn):
            alert_store.acknowledge(
                conn, int(str(alert["id"])), "it", "central restored from a backup", clock.wall()
            )
        conn.close()
        with uplinking(settings, config, clock):
            wait_for(lambda: epoch_alerts(db)[0]["state"] == "resolved", 30, "the alert to resolve")
    finally:
        stop(central.process)
        drop_database(postgres_cluster, NAME)
        drop_database(postgres_cluster, BACKUP)


def test_an_older_acknowledgement_the_broker_kept_is_not_central_losing_rows(
    tmp_path: Path,
    broker: PrivateMosquitto,
    postgres_cluster: PrivatePostgres,
    catalog: Catalog,
    clock: ManualClock,
) -> None:
    """A broker restarted from its periodic persistence hands the site an older retained acknowledgement
    than the last it forwarded. Central lost nothing: the uplink keeps its epoch, raises no alert, and
    central's own answer to what it sends next moves the point on."""
    url = create_database(postgres_cluster, NAME)
    config, settings = uplinked_site(tmp_path, broker, catalog, clock, 60)
    db = settings.db_path
    central = Central(url, broker.url, tmp_path)
    try:
        central.start()
        send_all(settings, config, clock, central, "the first minute")
        epoch, older = acknowledged(central)
        simulate(settings, catalog, clock, 60)
        send_all(settings, config, clock, central, "the second minute")
        assert acknowledged(central)[1] > older
        retain_ack(broker, Ack(epoch, older))
        simulate(settings, catalog, clock, 60)
        send_all(settings, config, clock, central, "the third minute")
        assert epoch_alerts(db) == []
        site = central.sites()[SITE]
        assert site["acknowledged"]["epoch"] == epoch
        assert [e["epoch"] for e in site["epochs"]] == [epoch]
        at_central = central_readings(url, SITE)
        assert len(at_central) == len(set(at_central))
        assert set(at_central) == site_readings(db)
    finally:
        stop(central.process)
        drop_database(postgres_cluster, NAME)
