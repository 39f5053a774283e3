import pytest

from indexer import job
from kb.index import format as index_format
from kb.errors import IndexCorruptError, KBError
from kb.search.searcher import Searcher
from tests.killed_kb import run_killed
from tests.support import SMALL_KB, article, write_tree


def test_index_reports_articles_by_language_and_skipped_files(make_index):
    files = dict(SMALL_KB, **{"bad.md": "---\nid: x\n", "empty.en.md": "---\nid: e\nlang: en\n---\n"})
    _, index, summary = make_index(files)
    assert summary.by_language == {"en": 3, "zh": 2, "ru": 1}
    assert summary.internal == 1
    assert sorted(p.path for p in summary.skipped) == ["bad.md", "empty.en.md"]
    assert summary.chunks_total == summary.chunks_embedded + summary.chunks_reused > 0
    assert (index / "CURRENT").read_text().strip() == summary.generation


def test_reindexing_unchanged_content_embeds_nothing(make_fake_index):
    articles, index, first = make_fake_index(SMALL_KB)
    again = job.run(articles, index, progress=False)
    assert again.chunks_embedded == 0 and again.articles_changed == 0
    assert again.chunks_total == first.chunks_total


def test_incremental_reindex_handles_change_add_and_delete(make_index):
    articles, index, first = make_index(SMALL_KB)
    (articles / "account/reset.en.md").write_text(article(
        "account-reset-password", "en", "Reset your console password",
        "Forgot your password? Use the reset link on the login page.\n\n## Reset steps\nThe link now expires after 10 minutes."))
    write_tree(articles, {"cdn/new.en.md": article("cdn-purge", "en", "Purge the CDN cache", "Use the purge button.")})
    (articles / "billing/invoice.ru.md").unlink()
    summary = job.run(articles, index, progress=False)
    assert summary.articles_changed == 2 and summary.articles_deleted == 1
    # only the changed section and the new article are embedded; the rest comes from the index or cache
    assert summary.chunks_embedded == 2
    s = Searcher(index)
    assert s.versions("billing-invoices") == []
    assert [r.id for r in s.search("purge cdn cache", k=1).results] == ["cdn-purge"]
    assert "10 minutes" in s.article("account-reset-password", "en")[1]


def test_failed_indexing_leaves_the_served_index_intact(make_fake_index, monkeypatch):
    articles, index, _ = make_fake_index(SMALL_KB)
    before = (index / "CURRENT").read_text()
    s = Searcher(index)
    write_tree(articles, {"cdn/new.en.md": article("cdn-purge", "en", "Purge", "Use the purge button.")})

    def boom(*a, **kw):
        raise KeyboardInterrupt  # Ctrl-C in the middle of embedding

    monkeypatch.setattr(job.CachedEmbedder, "embed_passages", boom)
    with pytest.raises(KeyboardInterrupt):
        job.run(articles, index, progress=False)
    assert (index / "CURRENT").read_text() == before
    assert not list(index.glob("build-*"))
    assert s.search("502 bad gateway").results[0].id == "cdn-502"


def test_indexing_killed_while_embedding_is_recovered_by_the_next_run_which_keeps_what_was_embedded(make_index):
    """The real model in a real `kb index` process, killed once it has embedded one batch of 16 passages."""
    articles, index, _ = make_index(SMALL_KB)
    before = (index / "CURRENT").read_text()
    write_tree(articles, {f"bulk/{i}.en.md": article(f"bulk-{i}", "en", f"Bulk {i}", f"Text number {i} " * 40)
                          for i in range(20)})
    run_killed("embed:16", articles, index, model=None)
    assert (index / "CURRENT").read_text() == before and len(list(index.glob("build-*"))) == 1
    assert Searcher(index).search("502 bad gateway").results[0].id == "cdn-502"  # still served
    summary = job.run(articles, index, progress=False)
    assert summary.chunks_embedded == 4  # the killed run's 16 came from the embedding cache
    assert summary.by_language["en"] == 23 and not list(index.glob("build-*"))


def test_strict_refuses_to_index_with_problems(tmp_path):
    articles = write_tree(tmp_path / "a", {"x.md": "no front matter"})
    with pytest.raises(KBError, match="--strict"):
        job.run(articles, tmp_path / "i", strict=True, progress=False)
    assert not (tmp_path / "i" / "CURRENT").exists()


def test_a_second_indexer_on_the_same_folder_is_refused(tmp_path):
    with index_format.build_lock(tmp_path):
        with pytest.raises(KBError, match="another `kb index` is running"):
            with index_format.build_lock(tmp_path):
                pass


def test_corrupted_index_file_is_detected_with_a_hint(make_fake_index):
    _, index, _ = make_fake_index(SMALL_KB)
    gen = index_format.current_generation(index)
    data = (gen / "all.faiss").read_bytes()
    (gen / "all.faiss").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorruptError, match="truncated.*re-index"):
        Searcher(index)


def test_large_collections_use_hnsw_and_still_find_the_answer(make_index, monkeypatch):
    from kb.index import vectors

    monkeypatch.setattr(vectors, "HNSW_THRESHOLD", 5)
    _, index, _ = make_index(SMALL_KB, name="hnsw")
    s = Searcher(index)
    import faiss

    assert isinstance(faiss.downcast_index(s.generation().all.index), faiss.IndexHNSWFlat)
    assert s.search("OBS 推流密钥").results[0].id == "live-obs"


def test_a_symlinked_article_leaving_the_folder_is_refused(make_fake_index, tmp_path):
    """The editor refused it, the indexer published it (issue #24): a file outside the folder, on every page."""
    articles, index, _ = make_fake_index(SMALL_KB)
    outside = tmp_path / "secret.md"
    outside.write_text(article("leaked", "en", "Leaked", "Text from outside the articles folder."))
    (articles / "cdn" / "leaked.en.md").symlink_to(outside)
    summary = job.run(articles, index, progress=False)
    [refused] = [p for p in summary.skipped if p.path == "cdn/leaked.en.md"]
    assert refused.code == "symlink-outside" and "outside the articles folder" in refused.message
    assert Searcher(index).versions("leaked", "internal") == []
