"""Errors the core raises: each says what went wrong, where, and what to do.

Only the CLI and the web layer translate these into exit codes or HTTP answers;
the core never prints.
"""


class KBError(Exception):
    """Base class: a problem the user can fix; the message is shown as is."""


class ConfigError(KBError):
    """A setting or option has a value we cannot use."""


class ArticleError(KBError):
    """An article file cannot be indexed; carries path and line for `path:line: message`."""

    def __init__(self, path, line, message):
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")


class IndexMissingError(KBError):
    """No published index exists yet in the index folder."""


class IndexCorruptError(KBError):
    """A published index failed its integrity check."""


class ModelMismatchError(KBError):
    """The query embedder differs from the one that built the index."""


class QueryError(KBError):
    """A search request is malformed (empty, too long, bad language, bad k)."""


class BusyError(KBError):
    """Every embedding slot stayed taken for the bounded wait: come back in `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int = 2):
        self.retry_after = retry_after
        super().__init__(message)
