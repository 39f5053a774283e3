"""polykb: a multilingual knowledge base with hybrid semantic search for technical support."""

__version__ = "0.1.0"
