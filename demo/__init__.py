"""The demo around the sample knowledge base: simulated traffic so a fresh `make run` has charts."""
