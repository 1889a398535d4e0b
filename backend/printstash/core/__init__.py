"""Shared infrastructure: settings, database, storage, errors. Imports no domain."""
