"""An imported site indexed and served: admonitions labelled per reader, images served with their article only."""

import pytest

from indexer import job
from kb.importing.run import import_site
from kb.search.searcher import Searcher
from tests import import_sites as sites
from tests.support import index_tree, write_tree
from web import create_app


@pytest.fixture
def imported(tmp_path):
    site = write_tree(tmp_path / "site", sites.DOCUSAURUS)
    import_site("docusaurus", site, tmp_path / "articles")
    return tmp_path / "articles"


def _client(articles, index, **config):
    app = create_app({"TESTING": True, "INDEX": str(index), "ARTICLES": str(articles), "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "test-secret", **config})
    return app.test_client()


def test_an_imported_article_page_shows_labelled_admonitions_and_its_images(imported, tmp_path, fake_default_model):
    job.run(imported, tmp_path / "index", progress=False)
    client = _client(imported, tmp_path / "index")
    page = client.get("/en/article/routers-setup").get_data(as_text=True)
    assert '<div class="admonition note">' in page and '<p class="admonition-title">Note</p>' in page
    assert 'src="/en/article/routers-setup/files/routers/img/panel.png"' in page
    assert 'src="/en/article/routers-setup/files/_assets/static/img/back.png"' in page
    assert "[Lost]" in page and ":::" not in page and "# this is a comment" in page
    ru = client.get("/ru/article/routers-setup").get_data(as_text=True)
    assert '<p class="admonition-title">Примечание</p>' in ru and 'id="first-boot"' in ru
    image = client.get("/en/article/routers-setup/files/routers/img/panel.png")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == sites.PNG
    assert "sandbox" in image.headers["Content-Security-Policy"]
    image.close()


def test_readers_of_an_untranslated_copys_language_get_the_source_labelled(imported, tmp_path, fake_default_model):
    """A page with no version in the reader's language (an untranslated copy is not imported as one) is shown in
    its source language, with the notice saying so."""
    job.run(imported, tmp_path / "index", progress=False)
    page = _client(imported, tmp_path / "index").get("/zh/article/routers-setup").get_data(as_text=True)
    assert "notice-lang" in page and "Setting up the Lumen router" in page


def test_only_files_an_article_links_to_are_served_under_it(imported, tmp_path, fake_default_model):
    job.run(imported, tmp_path / "index", progress=False)
    client = _client(imported, tmp_path / "index")
    for path in ("labels.yml", "routers/setup.en.md", "routers/img/lost.png", "../secret"):
        assert client.get(f"/en/article/routers-setup/files/{path}").status_code == 404, path
    assert client.get("/en/article/intro/files/routers/img/panel.png").status_code == 404


def test_without_an_articles_folder_images_show_their_alt_text(imported, tmp_path, fake_default_model):
    job.run(imported, tmp_path / "index", progress=False)
    page = _client(None, tmp_path / "index").get("/en/article/routers-setup").get_data(as_text=True)
    assert "[Front panel]" in page and "<img" not in page.split('class="prose"')[1].split("</div>")[0]


@pytest.mark.slow
def test_an_imported_site_is_found_by_meaning_with_the_real_model(imported, tmp_path, embed_cache):
    index_tree(imported, tmp_path / "index", embed_cache)
    searcher = Searcher(tmp_path / "index")
    found = searcher.search("how do I restore factory settings", ui_lang="en", k=3).results
    assert found[0].id == "routers-factory-reset"
    zh = searcher.search("如何恢复出厂设置", ui_lang="zh", k=3).results
    assert zh[0].id == "routers-factory-reset" and zh[0].lang.startswith("zh")
    ru = searcher.search("первое включение роутера", ui_lang="ru", k=3).results
    assert ru[0].id == "routers-setup" and ru[0].lang == "ru" and ru[0].anchor == "first-boot"
