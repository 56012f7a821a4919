"""The store interface (:class:`monitor.store.ports.Store`) for one site, over central's PostgreSQL copy of
it: what lets central serve the site's own API (:func:`api.app.create_app`) unchanged, answering as the
site answers (:mod:`fleet.central.site_apps` mounts it).

Three parts, as the site's store is built of its own: the site's records with its own ids, so
``/api/v1/vials/3`` is the site's vial 3 (:class:`fleet.central.site_records.SiteRecords`); the views
computed from them, a vial's potency, verdict and curve, a location's conditions, the excursions and the
PDF reports' contents, by central's reads and the site's own model and assembly
(:class:`fleet.central.site_store_views.SiteViews`); and here the alert feed
(:mod:`fleet.central.site_alerts`), the audit chain and central's operator tokens
(:mod:`fleet.central.operators`). Where central cannot answer as the site would, it says why rather than
answer otherwise. Writes and the views central lacks the data for raise, each naming why and what to do
instead (:mod:`fleet.central.site_refusals`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fleet.central import operators, site_alerts
from fleet.central.site_records import Connection, translated
from fleet.central.site_refusals import Refusals
from fleet.central.site_store_views import SiteViews
from monitor.alerts.vocabulary import AlertState, Severity
from monitor.audit import AuditRow, ChainCheck, verify
from monitor.store.alerts import AlertEvent, AlertFilter, AlertRecord
from monitor.store.tokens import TokenRecord

__all__ = ["Connection", "SiteStore", "translated"]


class SiteStore(SiteViews, Refusals):
    """The store interface for ``site`` over one connection to central's database."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # Nothing is written here: every write of the interface refuses (site_refusals), inside this block.
        yield

    # Alerts
    def latest_alert_seq(self) -> int:
        with translated():
            return site_alerts.latest_seq(self.conn, self.site)

    def alerts_changed_since(self, cursor: int, where: AlertFilter, limit: int) -> list[AlertRecord]:
        with translated():
            ids = site_alerts.key_names(self.conn, self.site)
            return site_alerts.changed_since(self.conn, self.site, cursor, where, limit, ids)

    def alert(self, alert_id: int) -> AlertRecord:
        with translated():
            return site_alerts.alert(self.conn, self.site, alert_id, self.key_names())

    def alert_events(self, alert_id: int) -> list[AlertEvent]:
        with translated():
            return site_alerts.events(self.conn, self.site, alert_id)

    def alert_counts(self) -> dict[tuple[AlertState, Severity], int]:
        with translated():
            return site_alerts.counts(self.conn, self.site)

    # Audit: the site's chain as central mirrors it, verified here with the site's own code
    def _audit(self, after_id: int, limit: int | None) -> list[AuditRow]:
        rows = self._rows(
            "SELECT record FROM site_records WHERE site = %s AND kind = 'audit'"
            " AND (record->>'id')::int8 > %s ORDER BY (record->>'id')::int8 LIMIT %s",
            after_id,
            limit,
        )
        fields = ("id", "ts", "actor", "action", "subject", "detail", "prev_hash", "hash")
        return [AuditRow(*(r[0][f] for f in fields)) for r in rows]

    def audit_entries(self, after_id: int, limit: int) -> list[AuditRow]:
        return self._audit(after_id, limit)

    def check_audit(self) -> ChainCheck:
        rows = self._audit(0, None)
        found = verify(rows, rows[-1].id if rows else 0)
        refused = self._rows("SELECT problem FROM audit_heads WHERE site = %s AND problem IS NOT NULL")
        return ChainCheck(found.rows, found.head_hash, found.problems + tuple(str(p) for (p,) in refused))

    # The system's own state: central's clock is its own (token expiry reads the real time there)
    def real_high_water(self) -> float | None:
        return None

    # Tokens: central's operators'
    def authenticate_token(self, text: str, now: float) -> TokenRecord | None:
        with translated():
            found = operators.authenticate(self.conn, text, now)
        if found is None:
            return None
        # id: the site's token table has one; an operator token is named by token_id alone.
        return TokenRecord(
            0, found.token_id, found.name, found.scope, found.created_ts, found.revoked_ts, found.expires_ts
        )
