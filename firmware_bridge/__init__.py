"""vialguard: firmware_bridge."""
