"""The indexing job; see job.py."""
