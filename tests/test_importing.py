"""`kb import`: Docusaurus, MkDocs, Hugo sites and HTML exports into articles polykb reads (fixtures: tests/import_sites)."""

import json
import re

import pytest
from click.testing import CliRunner

from cli.main import cli
from indexer.job import scan
from kb.articles import model
from kb.articles.render import render
from kb.importing.common import article_id, lang_code
from kb.importing.run import import_site
from kb.importing.untranslated import own_share
from tests import import_sites as sites
from tests.support import write_tree


def _site(tmp_path, files):
    return write_tree(tmp_path / "site", files)


def _articles(out):
    """(id, lang) -> parsed article of every file the import wrote."""
    found = {}
    for path in model.discover(out):
        art, _ = model.parse(path.read_text(encoding="utf-8"), path.relative_to(out))
        found[(art.id, path.name.split(".")[-2])] = art
    return found


def test_ids_follow_the_documented_rule():
    assert article_id("private-dns/connect-devices/routers/asus.md") == "private-dns-connect-devices-routers-asus"
    assert article_id("Guides/Set Up (Wi-Fi)!.mdx") == "guides-set-up-wi-fi"
    assert article_id("routers/index.md") == article_id("routers/README.md") == article_id("routers/_index.md") == "routers"
    assert article_id("index.md") == "index"
    assert article_id("routers/reset.md", front_id="factory-reset") == "routers-factory-reset"


def test_locales_become_polykb_language_codes():
    assert [lang_code(x) for x in ("zh-CN", "zh-Hans", "zh", "zh-TW", "zh-HK", "pt-BR", "EN-us", "ru", "xx")] == [
        "zh-Hans", "zh-Hans", "zh-Hans", "zh-Hant", "zh-Hant", "pt", "en", "ru", None]


def test_docusaurus_site_becomes_articles_with_translations_links_and_admonitions(tmp_path):
    report = import_site("docusaurus", _site(tmp_path, sites.DOCUSAURUS), tmp_path / "out")
    arts = _articles(tmp_path / "out")
    assert set(arts) == {("intro", "en"), ("routers-setup", "en"), ("routers-setup", "ru"),
                         ("routers-factory-reset", "en"), ("routers-factory-reset", "zh-Hans")}
    setup, ru, zh = arts[("routers-setup", "en")], arts[("routers-setup", "ru")], arts[("routers-factory-reset", "zh-Hans")]
    assert (setup.title, setup.product, setup.lang) == ("Setting up the Lumen router", "routers", "en")
    assert arts[("routers-factory-reset", "en")].tags == ["recovery"]
    assert (ru.translated_from, ru.source_hash) == ("en", setup.content_hash)
    assert zh.translated_from == "en" and zh.title == "恢复出厂设置"
    assert '!!! caution "Power"\n\n    Never unplug' in setup.body and ":::" not in setup.body
    assert "[reset steps](routers-factory-reset)" in setup.body and "[шаги сброса](routers-factory-reset)" in ru.body
    intro = arts[("intro", "en")].body
    assert "[setup](routers-setup#first-boot)" in intro and "[the reset guide](routers-factory-reset)" in intro
    assert "<!--" not in intro and "import " not in intro and "<Tabs>" not in intro and "**Windows**" in intro
    assert "[Tour](https://video.example.org/lumen)" in intro and "track()" not in intro
    assert "**Advanced**" in setup.body and "<details>" not in setup.body
    assert report.converted["admonitions"] == 3 and report.converted["heading ids kept as anchors"] == 2


def test_every_dropped_construct_is_reported_at_its_file_and_line(tmp_path):
    report = import_site("docusaurus", _site(tmp_path, sites.DOCUSAURUS), tmp_path / "out")
    found = {(n.where, n.line, n.code) for n in report.notes}
    assert {("docs/intro.md", 6, "mdx-import"), ("docs/intro.md", 7, "mdx-import"), ("docs/intro.md", 15, "iframe"),
            ("docs/intro.md", 25, "script"), ("docs/routers/setup.md", 9, "unresolved-image")} <= found
    lines = (tmp_path / "site/docs/intro.md").read_text().split("\n")
    assert lines[5].startswith("import Tabs") and lines[14].startswith("<iframe") and lines[24].startswith("<script>")


def test_untranslated_copies_and_orphans_are_reported_per_locale_and_not_imported(tmp_path):
    report = import_site("docusaurus", _site(tmp_path, sites.DOCUSAURUS), tmp_path / "out")
    assert report.untranslated == {"zh-TW": 1}
    assert report.untranslated_files == ["i18n/zh-TW/docusaurus-plugin-content-docs/current/routers/reset.md"]
    assert report.orphans == {"ru": 1}
    assert not list((tmp_path / "out").rglob("*.zh-Hant.md"))
    text = "\n".join(report.lines())
    assert "untranslated copies, not imported" in text and "zh-TW 1" in text


def test_a_translation_keeping_product_names_in_english_is_still_a_translation():
    body = ("Откройте приложение AdGuard VPN и выберите **Settings** → **Advanced**.\n\n"
            "```\nsudo systemctl restart adguard-vpn\n```\n\nЗатем перезапустите `adguard-vpn`.\n")
    assert own_share(body, "ru", "en") == 1.0
    assert own_share("Open the AdGuard VPN app and choose Settings.\n\nThen restart it.", "es", "en") == 0.0


def test_images_are_copied_beside_the_articles_and_the_page_shows_them(tmp_path):
    out = tmp_path / "out"
    report = import_site("docusaurus", _site(tmp_path, sites.DOCUSAURUS), out)
    assert (out / "routers/img/panel.png").read_bytes() == sites.PNG
    assert (out / "_assets/static/img/back.png").is_file() and report.assets == 2
    body = _articles(out)[("routers-setup", "en")].body
    assert "![Back panel](../_assets/static/img/back.png)" in body
    problems = scan(out).problems
    assert [(p.code, p.path) for p in problems if p.code == "broken-image"] == [("broken-image", "routers/setup.en.md")]
    html = render(body, media=lambda src: None if "lost" in src else f"/m/{src}").html
    assert 'src="/m/img/panel.png"' in html and "[Lost]" in html


def test_imported_folder_lints_without_errors_and_anchors_match_custom_ids(tmp_path):
    import_site("docusaurus", _site(tmp_path, sites.DOCUSAURUS), tmp_path / "out")
    result = scan(tmp_path / "out")
    assert not result.errors
    assert not [p for p in result.problems if p.code in ("broken-link", "broken-anchor", "path-link", "html", "jsx")]
    labels = (tmp_path / "out/labels.yml").read_text(encoding="utf-8")
    assert "routers:" in labels and "Роутеры" in labels


def test_rerunning_writes_nothing_when_nothing_changed(tmp_path):
    site = _site(tmp_path, sites.DOCUSAURUS)
    import_site("docusaurus", site, tmp_path / "out")
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*.md")}
    again = import_site("docusaurus", site, tmp_path / "out")
    assert sum(again.written.values()) == 0 and sum(again.unchanged.values()) == 5
    assert before == {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*.md")}


def test_rerun_updates_what_changed_keeps_review_fields_and_the_translations_source_hash(tmp_path):
    site, out = _site(tmp_path, sites.DOCUSAURUS), tmp_path / "out"
    import_site("docusaurus", site, out, owner="docs-team")
    path = out / "routers/setup.en.md"
    path.write_text(path.read_text().replace("owner: docs-team\n", "owner: m.ito\nreviewed: 2026-11-02\n"))
    old_hash = _articles(out)[("routers-setup", "ru")].source_hash
    src = site / "docs/routers/setup.md"
    src.write_text(src.read_text().replace("green light", "steady green light"))
    report = import_site("docusaurus", site, out, owner="docs-team")
    assert dict(report.written) == {"en": 1}
    setup = _articles(out)[("routers-setup", "en")]
    assert "steady green light" in setup.body and setup.owner == "m.ito" and str(setup.reviewed) == "2026-11-02"
    ru = _articles(out)[("routers-setup", "ru")]
    assert ru.source_hash == old_hash != setup.content_hash  # the translation still translates the old source


def test_a_body_edited_in_polykb_and_upstream_is_a_reported_conflict_and_kept(tmp_path):
    site, out = _site(tmp_path, sites.DOCUSAURUS), tmp_path / "out"
    import_site("docusaurus", site, out)
    path = out / "routers/reset.en.md"
    path.write_text(path.read_text().replace("ten seconds", "ten seconds (a pen helps)"))
    src = site / "docs/routers/reset.md"
    src.write_text(src.read_text().replace("ten seconds", "twelve seconds"))
    report = import_site("docusaurus", site, out)
    assert report.conflicts == ["routers/reset.en.md"] and "a pen helps" in path.read_text()
    import_site("docusaurus", site, out, overwrite=True)
    assert "twelve seconds" in path.read_text()


def test_files_removed_upstream_are_reported_then_pruned_on_request(tmp_path):
    site, out = _site(tmp_path, sites.DOCUSAURUS), tmp_path / "out"
    import_site("docusaurus", site, out)
    (site / "docs/intro.md").unlink()
    report = import_site("docusaurus", site, out)
    assert report.removed_upstream == ["intro.en.md"] and (out / "intro.en.md").is_file()
    report = import_site("docusaurus", site, out, prune=True)
    assert report.pruned == ["intro.en.md"] and not (out / "intro.en.md").exists()


@pytest.mark.parametrize("files", [sites.MKDOCS_SUFFIX, sites.MKDOCS_FOLDER], ids=["suffix", "folder"])
def test_mkdocs_i18n_layouts_import_as_translation_groups(tmp_path, files):
    report = import_site("mkdocs", _site(tmp_path, files), tmp_path / "out")
    arts = _articles(tmp_path / "out")
    assert dict(report.written) == {"en": 2, "ru": 1}
    (ru,) = [a for a in arts.values() if a.lang == "ru"]
    assert ru.translated_from == "en" and (ru.id, "en") in arts
    assert re.search(r"\]\((wifi-channels|ports)\)", arts[("index", "en")].body)
    assert "](/" not in arts[("index", "en")].body  # a site URL (/ru/wifi/channels/) is an id link too


def test_mkdocs_tabs_collapsibles_and_snippets(tmp_path):
    report = import_site("mkdocs", _site(tmp_path, sites.MKDOCS_SUFFIX), tmp_path / "out")
    arts = _articles(tmp_path / "out")
    body, ru = arts[("wifi-channels", "en")].body, arts[("wifi-channels", "ru")].body
    assert "**Android**\n\nOpen Settings, then Wi-Fi." in body and '===' not in body and "--8<--" not in body
    assert "!!! tip\n    Каналы" in ru and "???" not in ru
    assert [(n.where, n.line, n.code) for n in report.notes] == [("docs/wifi/channels.md", 14, "snippet-include")]


@pytest.mark.parametrize("files", [sites.HUGO_FOLDERS, sites.HUGO_NAMES], ids=["content-lang", "name-lang"])
def test_hugo_layouts_import_with_shortcodes_as_admonitions(tmp_path, files):
    report = import_site("hugo", _site(tmp_path, files), tmp_path / "out")
    arts = _articles(tmp_path / "out")
    assert report.written["ru"] == 1 and all(a.translated_from == "en" for a in arts.values() if a.lang == "ru")
    assert all("{{" not in a.body for a in arts.values())
    assert any(re.search(r'!!! (warning "Careful"|note)\n    ', a.body) for a in arts.values())


def test_hugo_ref_links_resolve_and_other_shortcodes_are_reported(tmp_path):
    report = import_site("hugo", _site(tmp_path, sites.HUGO_FOLDERS), tmp_path / "out")
    body = _articles(tmp_path / "out")[("docs-firmware", "en")].body
    assert "[the docs](docs)" in body and "**Linux**\nRun the updater as root." in body and "tab" not in body
    assert [(n.where, n.line, n.code) for n in report.notes] == [("content/en/docs/firmware/index.md", 11, "shortcode")]


def test_html_export_becomes_articles_with_links_tables_and_images(tmp_path):
    out = tmp_path / "out"
    import_site("html", _site(tmp_path, sites.HTML_EXPORT), out)
    arts = _articles(out)
    reset = arts[("articles-reset", "en")]
    assert reset.title == "Resetting the router" and "Copyright" not in reset.body and "Home" not in reset.body
    assert "| Green | Ready |" in reset.body and "[ports](articles-ports)" in reset.body
    assert arts[("articles-reset", "ru")].translated_from == "en"
    assert "](../en/img/ports.png)" in arts[("articles-ports", "en")].body and (out / "en/img/ports.png").is_file()


def test_cli_import_prints_the_summary_and_each_warning(tmp_path):
    site = _site(tmp_path, sites.DOCUSAURUS)
    result = CliRunner().invoke(cli, ["import", "docusaurus", str(site), "--to", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "imported 5 articles" in result.output and "docs/intro.md:15: iframe removed" in result.output
    assert "next: kb index --articles" in result.output
    manifest = json.loads((tmp_path / "out/.kb-import.json").read_text())
    assert manifest["files"]["routers/setup.en.md"]["source"] == "docs/routers/setup.md"


def test_cli_import_refuses_a_folder_that_is_not_such_a_site(tmp_path):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["import", "docusaurus", str(tmp_path / "empty"), "--to", str(tmp_path / "o")])
    assert result.exit_code == 1 and "no docusaurus documents found" in result.output and "docs/" in result.output


def test_translated_admonition_kinds_and_control_characters_are_converted(tmp_path):
    files = dict(sites.DOCUSAURUS)
    files["docs/routers/reset.md"] = files["docs/routers/reset.md"].replace("ten seconds", "ten\x00 seconds")
    files["i18n/ru/docusaurus-plugin-content-docs/current/routers/setup.md"] = files[
        "i18n/ru/docusaurus-plugin-content-docs/current/routers/setup.md"].replace(":::note", ":::заметка")
    report = import_site("docusaurus", _site(tmp_path, files), tmp_path / "out")
    arts = _articles(tmp_path / "out")
    assert '!!! note "Заметка"' in arts[("routers-setup", "ru")].body
    assert "\x00" not in arts[("routers-factory-reset", "en")].body
    assert ("docs/routers/reset.md", 7, "control-characters") in {(n.where, n.line, n.code) for n in report.notes}


def test_a_labels_file_edited_in_polykb_is_kept_on_rerun(tmp_path):
    site, out = _site(tmp_path, sites.DOCUSAURUS), tmp_path / "out"
    import_site("docusaurus", site, out)
    (out / "labels.yml").write_text("products:\n  routers: {en: Lumen routers}\n", encoding="utf-8")
    report = import_site("docusaurus", site, out)
    assert "Lumen routers" in (out / "labels.yml").read_text() and "labels-kept" in {n.code for n in report.notes}


def test_github_alerts_and_one_line_hugo_alerts_become_admonitions(tmp_path):
    site = _site(tmp_path, {"config.toml": "defaultContentLanguage = 'en'\n",
                            "content/power.md": "---\ntitle: Power\n---\n\n> [!WARNING]\n> Back up first.\n> Then "
                                                "update.\n\n{{% alert color=\"warning\" %}} Keep it powered. "
                                                "{{% /alert %}}\n\nAfter {{< unknown >}} it.\n"})
    report = import_site("hugo", site, tmp_path / "out")
    body = _articles(tmp_path / "out")[("power", "en")].body
    assert "!!! warning\n    Back up first.\n    Then update." in body
    assert "!!! warning\n    Keep it powered.\n" in body and "{{" not in body
    assert [(n.where, n.line) for n in report.notes] == [("content/power.md", 11)]  # lines still the source's


def test_locales_limits_the_import_and_says_what_it_left_out(tmp_path):
    report = import_site("docusaurus", _site(tmp_path, sites.DOCUSAURUS), tmp_path / "out", locales={"ru"})
    assert {a.lang for a in _articles(tmp_path / "out").values()} == {"en", "ru"}
    assert report.skipped_locales == {"zh-CN": "not among --locales", "zh-TW": "not among --locales"}


def test_two_paths_with_one_id_are_reported_not_imported_twice(tmp_path):
    site = _site(tmp_path, {"mkdocs.yml": "site_name: x\n", "docs/wifi-setup.md": "# Wi-Fi setup\n\nOne.\n",
                            "docs/wifi/setup.md": "# Wi-Fi setup, again\n\nTwo.\n"})
    report = import_site("mkdocs", site, tmp_path / "out")
    assert [a.title for a in _articles(tmp_path / "out").values()] == ["Wi-Fi setup"]  # the first path in order
    assert [(n.where, n.code) for n in report.notes] == [("docs/wifi/setup.md", "duplicate-id")]


def test_link_text_with_inline_code_is_kept_as_written(tmp_path):
    site = _site(tmp_path, {"mkdocs.yml": "site_name: x\n", "docs/a.md": "# A\n\nSee [the `$stealth` options](b.md) "
                            "and `[not](a link)`.\n", "docs/b.md": "# B\n\nText.\n"})
    import_site("mkdocs", site, tmp_path / "out")
    assert "See [the `$stealth` options](b) and `[not](a link)`." in _articles(tmp_path / "out")[("a", "en")].body
