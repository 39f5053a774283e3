"""Each save from the editor as a git commit, when the articles folder is in a git repository.

Docs-as-code teams review and revert articles with git; a save in the
browser must show up there as the writer's own commit, touching only the
file saved (whatever else is staged or modified in the working tree is left
alone). The git CLI is used as is (`git commit --only -- PATH`): it is what
those teams run, with their configuration. Hooks are skipped, all of them
(`core.hooksPath` is pointed at nothing; `--no-verify` alone still runs
post-commit): nobody is at a terminal to answer them, and the editor has
linted the file already. Every path is a literal pathspec: a folder named
`:(exclude)x` from the new-article form must stage that file and nothing
else (as a pathspec it committed the developer's other changes). A failed
commit never loses the save (the file is written first), and is reported.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

_LOCK = threading.Lock()  # one commit at a time in this process; git's index.lock covers other processes
_SAFE_NAME = re.compile(r"[^\w .@+-]")
EMAIL_DOMAIN = "users.polykb.invalid"  # accounts have no e-mail address; this domain never resolves
TIMEOUT = 60


@dataclass(frozen=True)
class Commit:
    sha: str | None  # None: not a git repository, or nothing changed
    error: str | None = None  # why the commit failed (the file is saved anyway)


def repository_of(folder: Path) -> Path | None:
    """The top of the git work tree holding `folder`, or None (no git, or not a repository)."""
    if shutil.which("git") is None:
        return None
    out = _git(folder, "rev-parse", "--show-toplevel", check=False)
    if out.returncode != 0:
        return None
    return Path(out.stdout.strip())


def commit(folder: Path, rel: str, message: str, author: str) -> Commit:
    """Commit the file `rel` (inside `folder`) as `author`; a deleted file is committed as a removal."""
    if repository_of(folder) is None:
        return Commit(None)
    name = _SAFE_NAME.sub("", author).strip() or "polykb"
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": f"{name.replace(' ', '.')}@{EMAIL_DOMAIN}",
           "GIT_COMMITTER_NAME": os.environ.get("GIT_COMMITTER_NAME", "polykb"),
           "GIT_COMMITTER_EMAIL": os.environ.get("GIT_COMMITTER_EMAIL", f"polykb@{EMAIL_DOMAIN}")}
    with _LOCK:
        add = _git(folder, "add", "--all", "--", rel, check=False)
        if add.returncode != 0:
            return Commit(None, add.stderr.strip() or "git add failed")
        staged = _git(folder, "diff", "--cached", "--quiet", "--", rel, check=False)
        if staged.returncode == 0:
            return Commit(None)  # the file is as the last commit has it
        done = _git(folder, "commit", "--quiet", "--no-verify", "--only", "-m", message, "--", rel, env=env,
                    check=False)
        if done.returncode != 0:
            return Commit(None, done.stderr.strip() or done.stdout.strip() or "git commit failed")
        return Commit(_git(folder, "rev-parse", "HEAD").stdout.strip())


def _git(cwd: Path, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_LITERAL_PATHSPECS": "1",
                **(env or {})}
    full_env.pop("GIT_GLOB_PATHSPECS", None)  # either would turn the literal paths back into patterns
    full_env.pop("GIT_ICASE_PATHSPECS", None)
    return subprocess.run(["git", "--literal-pathspecs", "-c", f"core.hooksPath={os.devnull}", *args], cwd=cwd,
                          env=full_env, capture_output=True, text=True, timeout=TIMEOUT, check=check)
