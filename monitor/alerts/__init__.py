"""Alerts, pure: their vocabulary, the rule row, the rules' table and the lifecycle. Observations in,
transitions out; the store keeps them (``monitor.store.alerts``)."""
