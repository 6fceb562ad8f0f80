"""The project's one error base, the exit codes the CLI maps errors to, and what keeps tokens out of messages.

A base module: it imports only `scan.inputs` (which imports nothing of ours), to show paths safely, and the
core's fingerprint when a message holds a token.
"""

from __future__ import annotations

import re
from enum import IntEnum

# A token, whole or in part, as a user may type it where a path or a value was expected: `eyJ` (a JSON
# object, base64url-encoded) and every dot-separated segment after it.
_JWT_LIKE = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_=-]*)*")
# A signature, a key or an opaque token on its own: 43 characters (256 bits) or more of base64 or base64url.
_SECRET_RUN = re.compile(r"(?<![A-Za-z0-9_+-])[A-Za-z0-9_+-]{43,}=*")
_UPPER, _LOWER = re.compile(r"[A-Z]"), re.compile(r"[a-z]")


class ExitCode(IntEnum):
    """Process exit codes, as the contract lists them."""

    OK = 0
    FAIL_ABOVE = 1
    USAGE = 2
    NOTHING_READ = 3
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)
    TERMINATED = 143  # SIGTERM (128 + SIGTERM)


class AnalyzerError(Exception):
    """Base of every error that is the user's to fix (bad option, bad config)."""

    exit_code: ExitCode = ExitCode.USAGE


class ConfigError(AnalyzerError):
    """The config file or an option cannot be used."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        from analyzer.scan.inputs import shown

        return f"{shown(self.path)}: {self.message}" if self.path else self.message


class InputNotFoundError(AnalyzerError):
    """Inputs that name nothing: a path that does not exist, or a glob that matches no file."""

    def __init__(self, missing: list[str], out_dir: str) -> None:
        super().__init__(", ".join(missing))
        self.missing = missing
        self.out_dir = out_dir

    def __str__(self) -> str:
        what = "input" if len(self.missing) == 1 else "inputs"
        return (f"{what} not found: {', '.join(self.missing)}; nothing was read and {self.out_dir} "
                "was left as it was")


def redact_secrets(text: str) -> str:
    """`text` with every token and signature-like run replaced by a short marker: the one filter every line
    the CLI writes to stderr passes through (its own errors, Click's usage errors, tracebacks).

    Broader than the scan's token grammar (`_core.redact`) on purpose: a message may hold a truncated token,
    a signature alone or a token that the grammar would not accept, and none of it may be shown. A token
    keeps its fingerprint (the `token_fp` of the outputs and of `inspect`), so the user can tell which it was.
    A long run is taken for a secret only when it mixes upper and lower case: file names in words, hex
    digests and UUIDs stay readable.
    """
    if "eyJ" in text:
        text = _JWT_LIKE.sub(_token_marker, text)
    return _SECRET_RUN.sub(_run_marker, text)


def _token_marker(m: re.Match[str]) -> str:
    from analyzer import _core

    return f"eyJ…(token, {len(m[0])} chars, fp {_core.fingerprint(m[0].encode())})"


def _run_marker(m: re.Match[str]) -> str:
    run = m[0]
    if _UPPER.search(run) and _LOWER.search(run):
        return f"…({len(run)} chars, not shown)"
    return run
