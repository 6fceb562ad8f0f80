"""Diagnosis across the whole population: inferred expectations, the server's own errors, clocks, clients.

- `codes`: the IDX/AADSTS codes validators log, what each means, which causes agree;
- `clocks`: each host's clock offset from when tokens were first used against when they were minted;
- `learn`: what a host without an `[[api]]` entry accepts, learned from its 2xx answers;
- `observe`: what the diagnosis keeps of classified rows (mergeable across workers), held-back rows;
- `diagnoser`: the run-wide `Diagnoser` (prepare, merge, finish, report) and its findings;
- `unverified`: the `ok` rows whose signature could not be checked, by issuer and why (run.json, CLI).

Imports `tokens`, `outputs.write` (held-back rows spill to Parquet) and the base modules; nothing of
the engine, report or run. Each module imports only the ones listed before it.
"""
