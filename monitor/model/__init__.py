"""The potency model, pure: kinetics, ledger, bounds, spectrum factor, profiles, parameters, quantities,
what-if and the verdict. Numbers in, numbers out: nothing here touches a connection, the store or a clock
(``tests/test_architecture.py``)."""
