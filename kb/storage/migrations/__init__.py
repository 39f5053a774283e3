"""Alembic's environment and revisions for the shared database (see kb/storage/__init__.py)."""
