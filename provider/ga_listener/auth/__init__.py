"""Credentials: their types, one module per source, and the chain on top with its entry point."""
