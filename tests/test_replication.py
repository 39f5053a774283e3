"""Generations published through the shared database to replicas that share no disk (kb/index/replication.py).

Logic on a SQLite database of its own (outside every index folder), which the
code treats as it treats PostgreSQL; tests/test_replicas.py runs the same path
on a real PostgreSQL behind nginx, and the last test here with the real model.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from indexer import job
from kb import settings
from kb.index import format as index_format, replication
from kb.errors import ConfigError, IndexCorruptError, IndexMissingError
from kb.search.searcher import Searcher
from kb.storage import open_database, sqlite_url
from kb.storage.generations import Generations
from kb.storage.schema import embeddings, generation_files, generations
from tests.killed_kb import run_killed
from tests.support import SMALL_KB, article, copy_index, wait_until, write_tree


@pytest.fixture
def shared(tmp_path, monkeypatch):
    """KB_DATABASE_URL: a database shared by the indexer and the replicas (not inside any index folder)."""
    url = sqlite_url(tmp_path / "shared" / "kb.sqlite")
    (tmp_path / "shared").mkdir()
    monkeypatch.setenv("KB_DATABASE_URL", url)
    db = open_database(url)
    yield db
    db.close()


def index(articles, index_dir, **kw):
    return job.run(articles, index_dir, progress=False, **kw)


def test_kb_index_publishes_each_generation_and_a_replica_downloads_verifies_and_serves_it(
        tmp_path, shared, fake_default_model):
    articles = write_tree(tmp_path / "articles", SMALL_KB)
    summary = index(articles, tmp_path / "indexer")
    assert summary.published_to == shared.name and summary.generation == "gen-000001"
    assert any("replicas switch to it" in line for line in summary.lines())
    replica = tmp_path / "replica"
    assert replication.sync(shared, replica) == "gen-000001"
    assert index_format.current_token(replica) == "gen-000001"
    for name in index_format.FILES:  # the same bytes as the indexer's, checked against the manifest on the way
        assert (replica / "gen-000001" / name).read_bytes() == (tmp_path / "indexer" / "gen-000001" / name).read_bytes()
    assert Searcher(replica).search("502 bad gateway", lang="en").results[0].id == "cdn-502"
    assert replication.sync(shared, replica) is None  # nothing new: nothing downloaded
    assert not list(replica.glob("download-*"))


def test_a_generation_that_fails_its_checksums_is_never_served_and_the_next_good_one_is(
        tmp_path, shared, fake_default_model):
    articles = write_tree(tmp_path / "articles", SMALL_KB)
    index(articles, tmp_path / "indexer")
    replica = tmp_path / "replica"
    replication.sync(shared, replica)
    write_tree(articles, {"new.en.md": article("new-one", "en", "Quasar flux capacitor", "Recalibrate the quasar.")})
    index(articles, tmp_path / "indexer")
    with shared.write() as c:  # one byte of the new kb.sqlite damaged in the database
        c.execute(update(generation_files).where(generation_files.c.generation == "gen-000002",
                                                 generation_files.c.file == "kb.sqlite", generation_files.c.part == 0)
                  .values(data=b"\0" * 16 + b"x" * 100))
    with pytest.raises(IndexCorruptError, match="gen-000002 downloaded from .* does not match its checksums"):
        replication.sync(shared, replica)
    assert index_format.current_token(replica) == "gen-000001"  # still serving the last good one
    assert not (replica / "gen-000002").exists() and not list(replica.glob("download-*"))
    index(articles, tmp_path / "indexer")  # the indexer runs again: gen-000003 is intact
    assert replication.sync(shared, replica) == "gen-000003"
    assert Searcher(replica).search("quasar", lang="en").results[0].id == "new-one"


def test_a_generation_listing_other_files_is_refused_before_anything_is_written(tmp_path, shared, fake_default_model):
    index(write_tree(tmp_path / "articles", SMALL_KB), tmp_path / "indexer")
    with shared.write() as c:
        manifest = json.loads(c.execute(select(generations.c.manifest)).scalar())
        manifest["files"]["../../escaped"] = manifest["files"].pop("all.faiss")
        c.execute(update(generations).values(manifest=json.dumps(manifest)))
    with pytest.raises(IndexCorruptError, match=r"lists files \['../../escaped'"):
        replication.sync(shared, tmp_path / "replica" / "index")
    assert not (tmp_path / "escaped").exists() and index_format.current_token(tmp_path / "replica" / "index") is None


@pytest.mark.parametrize("point", ["upload", "upload-part"])
def test_indexing_killed_on_its_way_to_the_database_leaves_the_replicas_on_the_old_generation(
        tmp_path, shared, fake_default_model, point):
    """Killed before its upload, or with the upload's transaction half written (tests/killed_kb.py)."""
    articles = write_tree(tmp_path / "articles", SMALL_KB)
    index(articles, tmp_path / "indexer")
    replica = tmp_path / "replica"
    assert replication.sync(shared, replica) == "gen-000001"
    write_tree(articles, {"new.en.md": article("new-one", "en", "Quasar flux capacitor", "Recalibrate the quasar.")})
    run_killed(point, articles, tmp_path / "indexer")  # KB_DATABASE_URL: the shared database
    assert index_format.current_token(tmp_path / "indexer") == "gen-000002"  # published on its own disk, then died
    assert Generations(shared).names() == ["gen-000001"]
    with shared.read() as c:  # no part of gen-000002 outlived the transaction
        assert set(c.execute(select(generation_files.c.generation)).scalars()) == {"gen-000001"}
    assert replication.sync(shared, replica) is None
    index_format.read_manifest(index_format.current_generation(replica), verify=True)
    s = Searcher(replica)
    assert s.generation().name == "gen-000001" and s.versions("new-one") == []
    assert s.search("502 bad gateway", lang="en").results[0].id == "cdn-502"
    assert index(articles, tmp_path / "indexer").generation == "gen-000003"  # the next run publishes
    assert replication.sync(shared, replica) == "gen-000003"
    assert Searcher(replica).search("quasar", lang="en").results[0].id == "new-one"


def test_the_database_and_each_replica_keep_only_the_newest_generations(tmp_path, shared, fake_default_model,
                                                                        monkeypatch):
    monkeypatch.setenv("KB_KEEP_GENERATIONS", "2")
    articles = write_tree(tmp_path / "articles", SMALL_KB)
    replica = tmp_path / "replica"
    for i in range(4):
        write_tree(articles, {"n.en.md": article("n", "en", f"Version {i}", f"Body number {i}.")})
        index(articles, tmp_path / "indexer")
        replication.sync(shared, replica)
    assert Generations(shared).names() == ["gen-000003", "gen-000004"]
    assert sorted(p.name for p in replica.glob("gen-*")) == ["gen-000003", "gen-000004"]
    with shared.read() as c:
        assert {r[0] for r in c.execute(generation_files.select().with_only_columns(generation_files.c.generation))} \
            == {"gen-000003", "gen-000004"}


def test_the_embedding_cache_lives_in_the_shared_database_so_another_machine_embeds_only_what_changed(
        tmp_path, shared, fake_default_model):
    articles = write_tree(tmp_path / "articles", SMALL_KB)
    first = index(articles, tmp_path / "machine-a")
    assert first.chunks_embedded == first.chunks_total > 0
    with shared.read() as c:
        assert c.execute(embeddings.select()).first() is not None
    write_tree(articles, {"new.en.md": article("new-one", "en", "Quasar flux", "Recalibrate the quasar.")})
    second = index(articles, tmp_path / "machine-b")  # an empty index folder on another machine
    assert 0 < second.chunks_embedded < 3 and second.chunks_reused == second.chunks_total - second.chunks_embedded
    assert not (tmp_path / "machine-b" / "embeddings.sqlite").exists()
    assert second.generation == "gen-000002"  # numbered by the database, not by the empty folder


def test_a_replica_follows_new_generations_by_itself(tmp_path, shared, fake_default_model, monkeypatch):
    articles = write_tree(tmp_path / "articles", SMALL_KB)
    index(articles, tmp_path / "indexer")
    replica = tmp_path / "replica"
    monkeypatch.setenv("KB_SYNC_SECONDS", "0.05")  # from its first wait (setting `seconds` after the start waited 2 s)
    follower = replication.start_replica(shared, replica)
    try:
        searcher = Searcher(replica, recheck_seconds=0)
        write_tree(articles, {"new.en.md": article("new-one", "en", "Quasar flux", "Recalibrate the quasar.")})
        index(articles, tmp_path / "indexer")
        wait_until(lambda: searcher.generation().name == "gen-000002", 30, "the replica to serve gen-000002")
        assert searcher.search("quasar", lang="en").results[0].id == "new-one"
    finally:
        follower.stop()


def test_an_app_sharing_a_database_downloads_at_start_and_needs_a_shared_secret(tmp_path, shared, fake_default_model):
    from web import create_app

    empty = tmp_path / "replica"
    with pytest.raises(IndexMissingError, match="no index generation is published in .* yet: run `kb index`"):
        create_app({"TESTING": True, "INDEX": str(empty), "SECRET_KEY": "s"})
    index(write_tree(tmp_path / "articles", SMALL_KB), tmp_path / "indexer")
    with pytest.raises(ConfigError, match="KB_SECRET_KEY is not set, and this replica shares"):
        create_app({"TESTING": True, "INDEX": str(empty)})
    app = create_app({"TESTING": True, "INDEX": str(empty), "SECRET_KEY": "s", "REPLICA_NAME": "kb-a",
                      "RATELIMIT_ENABLED": False})
    try:
        resp = app.test_client().get("/api/search?q=502+bad+gateway&lang=en")
        assert resp.status_code == 200 and resp.json["results"][0]["id"] == "cdn-502"
        assert resp.headers["X-KB-Replica"] == "kb-a"
    finally:
        app.extensions["polykb"]["follower"].stop()


def test_sync_settings_say_what_is_wrong(monkeypatch, shared, tmp_path):
    monkeypatch.setenv("KB_SYNC_SECONDS", "soon")
    with pytest.raises(ConfigError, match="KB_SYNC_SECONDS='soon': expected a number above 0"):
        replication.Follower(shared, tmp_path)
    monkeypatch.setenv("KB_SYNC_SECONDS", "0.5")
    assert replication.Follower(shared, tmp_path).seconds == 0.5
    monkeypatch.setenv("KB_KEEP_GENERATIONS", "0")  # used by the test above (2); checked with every other setting
    with pytest.raises(ConfigError, match="KB_KEEP_GENERATIONS='0': expected a whole number of 1 or more"):
        settings.current()


@pytest.mark.slow
def test_the_real_models_sample_index_travels_through_the_database_and_answers_the_same(tmp_path, shared, web_index):
    """The real model's generation, published as `kb index` publishes, served by a replica that downloaded it."""
    source = copy_index(web_index, tmp_path / "indexer")
    published = replication.publish(shared, index_format.current_generation(source))
    replica = tmp_path / "replica"
    assert replication.sync(shared, replica) == published.name
    there, here = (Searcher(d).search("I forgot my console password", lang="en") for d in (web_index, replica))
    assert here.results[0].id == "account-reset-password" and here.answered
    assert [r.id for r in here.results] == [r.id for r in there.results]
