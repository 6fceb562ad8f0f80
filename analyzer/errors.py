"""The project's one error base, and the exit codes the CLI maps errors to.

A base module: it imports only `scan.inputs` (which imports nothing of ours), to show paths safely.
"""

from __future__ import annotations

from enum import IntEnum


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
