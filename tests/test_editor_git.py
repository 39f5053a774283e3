"""A save from the editor commits the saved file and nothing else, whatever the folder name a writer typed,
and runs none of the repository's hooks (issue #24: a folder named `:(exclude)gx` committed a developer's
uncommitted README.md and untracked files; post-commit hooks ran)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kb.articles import git as article_git, source as article_source
from tests.editing_support import client_as
from tests.support import article, csrf_token, write_tree

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=setup", "-c", "user.email=s@x", *args], cwd=repo, check=True,
                          capture_output=True, text=True).stdout


def developer_repo(repo: Path) -> None:
    """A repository with the articles in a subfolder, a modified README.md and untracked files beside them."""
    git(repo, "init", "-q")
    (repo / "README.md").write_text("committed\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-qm", "start")
    (repo / "README.md").write_text("a developer's uncommitted change\n")
    (repo / "gx").write_text("untracked\n")
    (repo / "code").mkdir()
    (repo / "code" / "secrets.txt").write_text("untracked secret\n")


def committed_files(repo: Path) -> list[str]:
    return git(repo, "log", "--name-only", "--format=").split()


@pytest.fixture
def repo_folder(tmp_path):
    write_tree(tmp_path / "articles", {"cdn/purge.en.md": article("cdn-purge", "en", "Purge", "Purge it.")})
    developer_repo(tmp_path)
    return article_source.Folder(tmp_path / "articles")


def test_a_path_with_pathspec_magic_commits_that_file_only(repo_folder):
    rel = ":(top,exclude)zz/x.en.md"  # a literal folder name, if one was ever made on disk
    path = repo_folder.root / rel
    path.parent.mkdir()
    path.write_text(article("x", "en", "X", "Text."))
    done = article_git.commit(repo_folder.root, rel, "Create x (en)", "maria.k")
    assert done.sha and done.error is None
    assert committed_files(repo_folder.root.parent) == [f"articles/{rel}", "README.md"]
    status = git(repo_folder.root.parent, "status", "--porcelain", "--untracked-files=all")
    assert " M README.md" in status and "?? gx" in status and "?? code/secrets.txt" in status


def test_no_hook_runs_on_a_save(repo_folder):
    repo = repo_folder.root.parent
    marker = repo / "hook-ran"
    for hook in ("pre-commit", "post-commit", "commit-msg", "post-index-change"):
        script = repo / ".git" / "hooks" / hook
        script.write_text(f"#!/bin/sh\necho {hook} >> '{marker}'\n")
        script.chmod(0o755)
    src = repo_folder.read("cdn-purge", "en")
    repo_folder.write(src.rel, src.text.replace("Purge it.", "Purge it now."), src.etag, "cdn-purge", "en")
    assert article_git.commit(repo_folder.root, src.rel, "Edit", "maria.k").sha
    assert not marker.exists()


@pytest.mark.parametrize("folder, says", [
    (":(exclude)gx", "':'"), (":(top,exclude)zz", "':'"), (":!gx", "':'"), ("cdn/*", "'*'"), ("faq[1]", "'['"),
    ("x" * 256, "256 bytes"), ("é" * 128, "256 bytes"), ("README.md", "is a file"), ("cdn/purge.en.md", "is a file"),
    ("notes.md", "is a file"),
])
def test_the_new_article_form_refuses_folder_names_git_or_the_disk_cannot_take(edit_app, kb_copy, folder, says):
    articles = kb_copy[0]
    repo = articles.parent
    (articles / "README.md").write_text("the folder's readme\n")
    developer_repo(repo)
    writer = client_as(edit_app, "writer")
    text = "---\nid: evil\nlang: en\ntitle: Evil\n---\nText\n"
    r = writer.post("/writers/edit/new", data={"id": "evil", "lang": "en", "folder": folder, "text": text,
                                               "csrf_token": csrf_token(writer, "/writers/edit/new")})
    assert r.status_code == 400 and says in r.get_data(as_text=True).replace("&#39;", "'")
    assert committed_files(repo) == ["README.md"]
    assert not list(articles.rglob("evil.en.md"))
