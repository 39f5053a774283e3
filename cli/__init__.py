"""The `kb` command: a thin click layer on top of kb, indexer and web; nothing imports it."""
