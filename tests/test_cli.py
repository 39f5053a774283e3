import json

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.support import SMALL_KB, seed_embeddings, write_tree


@pytest.fixture
def runner():
    return CliRunner()


def test_index_then_search_from_the_command_line(runner, small_index):
    _, index, _ = small_index
    result = runner.invoke(cli, ["search", "ошибка 502", "--index", str(index)])
    assert result.exit_code == 0, result.output
    assert "language: ru" in result.output and "(cdn-502#" in result.output


def test_search_json_has_the_documented_result_objects(runner, small_index):
    result = runner.invoke(cli, ["search", "password reset", "--index", str(small_index[1]), "--json", "--k", "2"])
    data = json.loads(result.output)
    assert data["results"][0]["id"] == "account-reset-password"
    assert {"id", "lang", "title", "section", "score", "snippet"} <= set(data["results"][0])
    assert len(data["results"]) <= 2


def test_internal_flag_is_needed_to_see_internal_articles(runner, small_index):
    args = ["search", "nimbus-edgectl trace", "--index", str(small_index[1]), "--json"]
    public = json.loads(runner.invoke(cli, args).output)
    agent = json.loads(runner.invoke(cli, args + ["--internal"]).output)
    assert "internal-edgectl" not in [r["id"] for r in public["results"]]
    assert agent["results"][0]["id"] == "internal-edgectl"


def test_batch_search_prints_one_json_line_per_query(runner, small_index, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "a", "text": "wifi 密码"}\n{"id": "b", "text": "OBS 推流", "lang": "zh"}\n', encoding="utf-8")
    result = runner.invoke(cli, ["search", "--queries", str(queries), "--index", str(small_index[1])])
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    assert lines[1]["results"][0]["id"] == "live-obs"


def test_eval_prints_metrics_per_mode_and_language(runner, small_index, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "1", "text": "502 bad gateway", "lang": "en"}\n{"id": "2", "text": "OBS 推流密钥", "lang": "zh"}\n')
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("1\tcdn-502\t1\n2\tlive-obs\t1\n")
    result = runner.invoke(cli, ["eval", "--queries", str(queries), "--qrels", str(qrels), "--index",
                                 str(small_index[1]), "--json"])
    out = json.loads(result.output)
    table = out["retrieval"]
    assert set(table) == {"keyword", "dense", "hybrid"}
    assert table["hybrid"]["all"]["queries"] == 2 and table["hybrid"]["all"]["mrr@10"] == 1.0
    assert set(table["dense"]) == {"all", "en", "zh"}
    assert out["answered"]["hybrid"]["answerable"]["queries"] == 2


def test_eval_reports_answered_and_refused_rates_by_kind_of_query(runner, small_index, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "1", "text": "502 bad gateway", "relevant": ["cdn-502"]}\n'
                       '{"id": "2", "text": "how do I renew my passport at the embassy"}\n'
                       '{"id": "3", "text": "qwzx vbnmkj", "kind": "offdomain"}\n', encoding="utf-8")
    result = runner.invoke(cli, ["eval", "--queries", str(queries), "--index", str(small_index[1]), "--json",
                                 "--mode", "hybrid"])
    rates = json.loads(result.output)["answered"]["hybrid"]
    assert {k: (v["queries"], v["measures"]) for k, v in rates.items()} == {
        "answerable": (1, "answered"), "unanswerable": (1, "refused"), "offdomain": (1, "refused")}
    assert rates["answerable"]["rate"] == 1.0 and rates["offdomain"]["rate"] == 1.0


def test_errors_are_one_line_without_traceback(runner, tmp_path):
    result = runner.invoke(cli, ["search", "x", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    [line] = result.output.strip().splitlines()  # click puts its own prefix before the message
    assert line.endswith(f"no index in {tmp_path / 'none'}: build one with `kb index --index {tmp_path / 'none'}`")


def test_lint_exits_non_zero_on_errors_and_with_strict_on_warnings(runner, tmp_path):
    ok = write_tree(tmp_path / "ok", {k: v for k, v in SMALL_KB.items() if "502.zh" not in k})
    assert runner.invoke(cli, ["lint", "--articles", str(ok)]).exit_code == 0
    bad = write_tree(tmp_path / "bad", {"x.md": "---\nid: x\nlang: en\nvisibility: secret\n---\nbody\n"})
    result = runner.invoke(cli, ["lint", "--articles", str(bad)])
    assert result.exit_code == 1 and "x.md:4: error: 'visibility' must be one of" in result.output
    warn = write_tree(tmp_path / "warn", {"y.md": "---\nid: y\nlang: en\n---\nbody\n"})
    assert runner.invoke(cli, ["lint", "--articles", str(warn)]).exit_code == 0
    assert runner.invoke(cli, ["lint", "--articles", str(warn), "--strict"]).exit_code == 1


def test_hash_prints_the_body_hash_for_source_hash(runner, tmp_path):
    f = write_tree(tmp_path, {"a.md": "---\nid: a\nlang: en\n---\nBody\n"}) / "a.md"
    from kb.articles.model import content_hash

    result = runner.invoke(cli, ["hash", str(f)])
    assert result.output.split()[0] == content_hash("Body")


def test_search_with_articles_indexes_them_first_when_there_is_no_index(runner, tmp_path, embed_cache):
    articles = write_tree(tmp_path / "a", {k: v for k, v in SMALL_KB.items() if k.startswith("live/")})
    index = seed_embeddings(tmp_path / "i", embed_cache)
    result = runner.invoke(cli, ["search", "OBS 推流", "--articles", str(articles), "--index", str(index), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output[result.output.index("{"):])["results"][0]["id"] == "live-obs"


def test_index_lists_each_warning_with_its_file_and_line(runner, tmp_path, fake_model):
    articles = write_tree(tmp_path / "articles", {
        "a.en.md": "---\nid: a\nlang: en\ntitle: A\nowner: ana\n---\nSee [the other one](missing-article).\n\nText.\n"})
    result = runner.invoke(cli, ["index", "--articles", str(articles), "--index", str(tmp_path / "index"),
                                 "--model", fake_model])
    assert result.exit_code == 0, result.output
    listed = [line for line in result.stderr.splitlines() if line.startswith("a.en.md:")]
    assert listed and all(": warning: " in line for line in listed)
    assert any(line.startswith("a.en.md:7: warning: ") and "missing-article" in line for line in listed)
    assert f"{len(listed)} warnings" in result.stdout
    quiet = runner.invoke(cli, ["index", "--articles", str(articles), "--index", str(tmp_path / "index"),
                                "--model", fake_model, "-q"])
    assert "warning:" not in quiet.stderr


def test_readme_documents_every_option_of_the_account_commands():
    from cli.accounts import user
    from tests.support import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("add", "passwd"):
        for param in user.commands[name].params:
            for flag in getattr(param, "opts", []):
                if flag.startswith("--") and flag not in ("--index",):
                    assert f"kb user {name}" in readme and flag in readme, f"README misses `kb user {name} {flag}`"
    assert "--password-stdin" in readme


def test_report_stale_reads_the_articles_folder_alone_with_no_index_built(runner, tmp_path, monkeypatch):
    """It needs front matter only: before, `--articles` meant "index it first" (every embedding, the model loaded)."""
    from tests.support import article

    import indexer.job

    monkeypatch.setattr(indexer.job, "run", lambda *a, **k: pytest.fail("kb report stale built an index"))
    articles = write_tree(tmp_path / "articles", {
        "old.en.md": article("old", "en", "Old", "Old text.\n", reviewed="2024-01-01", review_every=90),
        "fresh.en.md": article("fresh", "en", "Fresh", "Fresh text.\n", reviewed="2099-01-01"),
        "broken.en.md": "no front matter\n",
    })
    index = tmp_path / "no-index"
    result = runner.invoke(cli, ["report", "stale", "--articles", str(articles), "--index", str(index),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["id"], r["status"], r["due"]) for r in rows] == [("old", "overdue", "2024-03-31")]
    assert "skipped: " in result.stderr and "broken.en.md" in result.stderr
    assert not index.exists()


def test_report_without_an_index_says_how_to_get_one(runner, tmp_path):
    result = runner.invoke(cli, ["report", "stale", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no index in" in result.output and "kb report stale --articles DIR" in result.output
    result = runner.invoke(cli, ["report", "links", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1 and "pass --articles DIR to index that folder first" in result.output
