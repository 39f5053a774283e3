"""`python -m tests.fake_kb ARGS`: the `kb` command with `--model fake` (tests/fake_embedder.py) available, for the
`kb serve` and `kb index` processes that tests/test_replicas.py starts: replication is tested, not meaning."""

from __future__ import annotations

import kb.embeddings
from cli.main import cli
from tests.fake_embedder import FAKE_MODEL, HashEmbedder


def register():
    """Make `--model fake` the hashing embedder in this process."""
    kb.embeddings.BACKENDS[FAKE_MODEL] = lambda arg: HashEmbedder()


if __name__ == "__main__":
    register()
    cli()
