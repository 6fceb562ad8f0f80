"""The engine: the run's units of work, spread over the cores (or a Dask cluster), outputs in a fixed order.

- `processes`: what every forked helper does first (Arrow pool, inherited lock, dying with the parent), and
  the run's Ctrl-C and SIGTERM (`handle_signals`);
- `plan`: the inputs as units (whole files, byte ranges, compressed-content ranges) and tasks;
- `task`: one task's scan, decode, classification, observation and writing (`scan_task`, `WorkerContext`);
- `keybroker`: kid-miss refreshes asked of the parent, the only process that fetches keys;
- `cluster`: the same tasks on Dask; `workers`: the local worker pool (`run_units`).

Imports the scan, tokens, diagnose and outputs stages; nothing of the run (`run`, `cli`) or the report.
Each module imports only the ones listed before it.
"""
