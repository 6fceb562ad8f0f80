"""The scan layer: log files in, occurrence batches out, around the compiled core (`analyzer._core`).

- `inputs`: paths, directories and globs into the files to read (key material and docs skipped);
- `timeparse`, `formats`, `extract`: the Python faces of the core's time parser, format detection and
  line parser, and token finder (for detection, `--since`/`--at`, `inspect` and the tests);
- `codecs`: compression by magic bytes, decompression member by member that keeps what came before
  damage, and UTF-16 text as UTF-8;
- `readers`: plain and compressed files and byte ranges into line-aligned chunks;
- `chunks`: a file's chunks through the core's `LineScanner` into Arrow batches (`scan_file`), each
  new distinct token decoded once (`tokens.decode`).

Imports `tokens` (decoding) and the base modules; nothing of outputs, diagnose, report, engine or run.
Each module imports only the ones listed before it. `inputs` and `timeparse` import nothing of ours, so
the base modules (`config`, `errors`) may use them.
"""
