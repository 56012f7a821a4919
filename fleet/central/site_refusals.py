"""What the site's API served at central refuses, and why: the writes the site owns, and the views built
from data central does not hold. Each is a method of the store interface that raises, never a silent
no-op, so a client learns what to do instead.

Two kinds, each declaring its HTTP status (:mod:`fleet.central.site_apps` answers them as problem
details; elsewhere they are :class:`~monitor.errors.InvalidRequest`, a 422)::

    InvalidRequest
     +-- CentralRefusal          base: ``status`` and ``error`` declared per kind
          +-- SiteOwnsIt         409: a write; central mirrors the site, the site owns it; names the
          |                      central command route to use where there is one
          +-- CentralLacksIt     501: a view computed from what the site keeps to itself (spectral
                                 ledgers, heartbeat, silences, serial links, webhooks; the
                                 dashboard and reports of a site that has not sent its light and
                                 temperature limits), or from history central does not hold (a
                                 report's period before the first reading central holds)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, NoReturn

from monitor.errors import InvalidRequest
from monitor.lifecycle import NewEvent
from monitor.model.profiles import Catalog
from monitor.model.verdict import Thresholds
from monitor.store.health import Heartbeat
from monitor.store.runs import SystemEvent
from monitor.store.serial_links import BootRecord, RejectCount
from monitor.store.silences import SilenceRecord
from monitor.store.sites import FaultCount
from monitor.store.tokens import TokenRecord
from monitor.store.vials import VialRecord
from monitor.store.webhooks import EndpointState
from monitor.system_checks import Finding, SystemLimits
from monitor.tokens import Scope


class CentralRefusal(InvalidRequest):
    """A request the site's API at central refuses; ``status`` and ``error`` are its HTTP answer."""

    status: ClassVar[int] = 422
    error: ClassVar[str] = "invalid request"


class SiteOwnsIt(CentralRefusal):
    """A write: central holds a mirror of the site; the site owns the record."""

    status = 409
    error = "conflict"


class CentralLacksIt(CentralRefusal):
    """A view central cannot give as the site would: it lacks the data."""

    status = 501
    error = "not implemented"


def site_owns(site: str, what: str, instead: str) -> NoReturn:
    raise SiteOwnsIt(f"central mirrors site {site!r} and cannot {what}: the site owns it. {instead}")


def central_lacks(site: str, what: str, because: str) -> NoReturn:
    raise CentralLacksIt(f"central cannot give the site's {what} for {site!r} because {because}")


_SITE_API = "the site's own API"


class Refusals:
    """The store interface's methods central refuses, for :class:`fleet.central.site_store.SiteStore`."""

    site: str

    # Writes the site owns. The three with a command at central name its route.
    def acknowledge_alert(self, alert_id: int, by: str, comment: str, ts: float, actor: str) -> NoReturn:
        site_owns(
            self.site,
            "acknowledge the alert here",
            f"Send the command instead (202, applied by the site, then mirrored back):"
            f" POST /api/v1/fleet/sites/{self.site}/alerts/{alert_id}/acknowledge with an operator's"
            " write token and an Idempotency-Key header",
        )

    def create_silence(
        self,
        matchers: dict[str, str],
        starts_ts: float,
        ends_ts: float,
        created_by: str,
        comment: str,
        now: float,
        actor: str,
    ) -> NoReturn:
        site_owns(
            self.site,
            "create a silence here",
            f"Send the command instead: POST /api/v1/fleet/sites/{self.site}/silences with an operator's"
            " write token and an Idempotency-Key header",
        )

    def expire_silence(self, silence_id: int, by: str, now: float, actor: str) -> NoReturn:
        site_owns(
            self.site,
            "expire a silence here",
            f"Send the command instead: POST /api/v1/fleet/sites/{self.site}/silences/{silence_id}/expire"
            " with an operator's write token and an Idempotency-Key header",
        )

    def hand_over_vial(
        self,
        catalog: Catalog,
        vial: VialRecord,
        *,
        from_site: str,
        to_site: str,
        ts: float,
        now: float,
        thresholds: Thresholds,
        actor: str,
    ) -> NoReturn:
        site_owns(
            self.site,
            "hand a vial over here",
            f"Send the command instead: POST /api/v1/fleet/vials/{vial.key}/hand-over (central relays the"
            " receipt to the receiving site)",
        )

    def receive_vial(
        self,
        catalog: Catalog,
        document: Mapping[str, Any],
        *,
        site: str,
        location: str,
        now: float,
        actor: str,
    ) -> NoReturn:
        site_owns(
            self.site,
            "receive a vial here",
            "A hand-over sent through POST /api/v1/fleet/vials/{key}/hand-over is received by central's"
            f" relay; a document in hand is received through {_SITE_API}",
        )

    def register_vial(self, **_: Any) -> NoReturn:
        site_owns(self.site, "register a vial", f"Register it with {_SITE_API}")

    def record_vial_event(self, catalog: Catalog, vial: VialRecord, event: NewEvent, now: float) -> NoReturn:
        site_owns(self.site, "record a vial's event", f"Record it with {_SITE_API}")

    def append_audit(
        self, ts: float, actor: str, action: str, subject: str, detail: Mapping[str, Any]
    ) -> NoReturn:
        site_owns(self.site, "append to its audit trail", "Central records its own actions in its own trail")

    def create_token(
        self, name: str, scope: Scope, ts: float, expires_ts: float | None, actor: str
    ) -> NoReturn:
        site_owns(
            self.site,
            "make the site's API tokens",
            "Central's reads and writes take central's operator tokens: vialguard central-token create",
        )

    def revoke_token(self, name: str, ts: float, actor: str) -> NoReturn:
        site_owns(
            self.site,
            "revoke the site's API tokens",
            "Revoke an operator token with vialguard central-token revoke",
        )

    def raise_real_high_water(self, ts: float) -> NoReturn:
        site_owns(self.site, "record the site's clock", "Central serves the site's API without system checks")

    def reconcile_system_alerts(self, findings: list[Finding], limits: SystemLimits, now: float) -> NoReturn:
        site_owns(self.site, "open or resolve system alerts", "The site's own API process checks its system")

    # Reads of what stays at the site.
    def tokens(self) -> list[TokenRecord]:
        central_lacks(
            self.site, "API tokens", "they stay at the site (central's own: vialguard central-token list)"
        )

    def silence(self, silence_id: int) -> SilenceRecord:
        central_lacks(self.site, "silences", "the site does not send its silences (an alert says silenced)")

    def silences(self, active_at: float | None = None) -> list[SilenceRecord]:
        central_lacks(self.site, "silences", "the site does not send its silences (an alert says silenced)")

    def heartbeat(self) -> Heartbeat | None:
        central_lacks(
            self.site,
            "bridge heartbeat",
            "the heartbeat stays at the site; GET /api/v1/sites gives when central last heard from it",
        )

    def sensor_fault_counts(self) -> list[FaultCount]:
        central_lacks(self.site, "refused sensor reads", "the site does not send them")

    def system_events(self, kind: str | None, newest: int) -> list[SystemEvent]:
        central_lacks(self.site, "system events", "the site does not send them")

    def serial_boots(self) -> list[BootRecord]:
        central_lacks(self.site, "serial devices", "the site does not send its serial links' state")

    def serial_rejects(self) -> list[RejectCount]:
        central_lacks(self.site, "serial rejects", "the site does not send its serial links' state")

    def webhook_outbox_size(self) -> int:
        central_lacks(self.site, "webhook outbox", "the site's webhooks deliver from the site")

    def webhook_endpoints(self) -> list[EndpointState]:
        central_lacks(self.site, "webhook receivers", "the site's webhooks deliver from the site")
