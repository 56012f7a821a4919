"""vialguard's composition layer: the command line, and the supervisor of the bridge and API processes.

The only package that imports all four of ``hardware``, ``firmware_bridge``, ``monitor`` and ``api``.
"""
