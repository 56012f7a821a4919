"""Private Mosquitto and PostgreSQL servers from Debian's packages, on loopback ports under a directory."""
