"""vialguard: vialguard."""
