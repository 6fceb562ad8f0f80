"""Names vulture cannot see used (`vulture analyzer tests benchmarks scripts fuzz vulture_whitelist.py`).

Each is used by something outside the Python call graph. Not imported by anything.
"""
# ruff: noqa
# mypy: ignore-errors

_ = object()

# Click reads these when it renders help (analyzer/cli.py `_as_typed`).
_.metavar
_.display_type_rich
# Typer calls the app callback (analyzer/cli.py).
_root
# Token fields copied by name (analyzer/tokens/check.py, getattr) into the events columns.
typ
scopes
# requests reads it (analyzer/tokens/keystore.py): no proxy or .netrc.
_.trust_env
# The io protocol: readers' file objects are wrapped by io.BufferedReader / TextIOWrapper, which call it.
_.readable
# Read by the report templates (analyzer/templates/macros.html.j2).
href
widths
# pytest: autouse fixtures and module marks.
_isolated_user_dirs
_strict_report_templates
_no_config_here
pytestmark
_let_workers_go  # tests/outputs/test_state.py: by name, in usefixtures
small_tables  # tests/report/test_data.py: by name, in usefixtures
# pytest-httpserver calls it as its serving thread's target (tests/local_server.py).
_.thread_target

# formats.LineFields mirrors the core's fields; `query_span` is read by the core itself (lines.rs), and by tests.
query_span

# pyarrow's ParquetWriter reads it when collected (tests/outputs/test_write_open_dates.py: a failed close not run again).
_.is_open
