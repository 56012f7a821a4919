"""One module per command group; each exposes ``add_parsers(subparsers)`` registering its commands.

A command's parser sets ``func`` (``args -> exit code``) with ``set_defaults``. Adding a command group is
adding a module here and a line in :data:`vialguard.cli.COMMAND_GROUPS`.
"""
