"""Outputs: the only code that creates files in the output directory, and what the run adds up to.

- `write`: Parquet parts, staging and publishing the output directory atomically;
- `state`: the state store of incremental runs (what was read, how far) and the directory lock;
- `aggregate`: a run's counts and examples as batches pass, and the summary from the events dataset.

Imports `schema`, `errors` and the scan layer's `inputs` and `readers`; nothing of the diagnosis, engine, run or report.
Each module imports only the ones listed before it.
"""
