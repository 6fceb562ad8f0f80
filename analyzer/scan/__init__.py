"""The scan layer: log files in, occurrence batches out, around the compiled core (`analyzer._core`).

- `inputs`: paths, directories and globs into the files to read (key material and docs skipped);
- `readers`: plain and compressed files and byte ranges into line-aligned chunks;
- `chunks`: a file's chunks through the core's `LineScanner` into Arrow batches (`scan_file`);
- `formats`, `timeparse`, `extract`: the Python faces of the core's format detection and line
  parser, time parser and token finder (for detection, `--since`/`--at`, `inspect` and the tests).

Nothing here imports the run's later stages (engine, pipeline, diagnosis, outputs, report).
"""
