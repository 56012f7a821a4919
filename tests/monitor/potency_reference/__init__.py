"""A slow, per-time reference for the potency model: the store read afresh at every time asked.

This is the evaluation vialguard ran before one load fed one vectorised model: each potency at a time
re-reads the ledger values at that stretch's ends, the gaps, the saturated readings and the hourly
maxima with SQL, stretch by stretch. It is kept here, and only here, as the independent reference the
vectorised model (:mod:`monitor.model.evaluation`) is held equal to; nothing in production imports it.
"""
