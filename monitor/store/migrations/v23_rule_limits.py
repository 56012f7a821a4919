"""23: the site's alert limits travel with its settings. ``site_model_settings`` keeps the ``[rules]``
numbers besides the verdict's thresholds (light and temperature limits, hold times) as ``rule_limits``,
and the settings row the uplink queues carries them (:mod:`monitor.store.config_mirror`), so central
serves the site's dashboard and reports with the site's own limits rather than its defaults.

A database migrated here holds no limits until its next start writes them (``sync_site``), which queues
the row; until then central says it lacks them.
"""

from __future__ import annotations

from monitor.store.config_mirror import MIGRATION_23 as SQL

__all__ = ["SQL"]
