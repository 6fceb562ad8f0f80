"""Diagnosis across the whole population: inferred expectations, the server's own errors, clocks, clients.

- `codes`: the IDX/AADSTS codes validators log, what each means, which causes agree;
- `learn`: what a host without an `[[api]]` entry accepts, learned from its 2xx answers;
- `observe`: what the diagnosis keeps of classified rows (mergeable across workers), held-back rows;
- `diagnoser`: the run-wide `Diagnoser` (prepare, merge, finish, report) and its findings.

Imports `clocks`, `advice`, `config` and `schema`; nothing of the scan, engine, outputs or report.
Modules import down this list only.
"""
