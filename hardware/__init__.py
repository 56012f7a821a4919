"""Sensor drivers, emulated chips and the simulated pharmacy fridge.

This package imports nothing else of vialguard's: it is the device library, the other packages are its users.
"""
