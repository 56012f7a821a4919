"""vialguard: api."""
