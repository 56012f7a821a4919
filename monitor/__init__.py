"""vialguard: monitor."""
