"""What a report shows, read back from an output directory and reduced to a small cube.

The events dataset is read with only the columns a report needs and at once folded into one row
per (period, client, audience, host, API, issuer, tenant, cause), so a report over a million
occurrences holds thousands of rows, not millions. The period is the hour, or the day over a
dataset that spans more than `charts.HOURLY_DAYS` days (its timeline is drawn per day or week anyway): the
cube then grows with the days, not the hours, of a long archive. A report for one owner is the same data
filtered to that owner's rows (`ReportData.only`).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analyzer import schema as S
from analyzer.outputs.aggregate import EXAMPLE_COLUMNS, KeyCodes, iter_event_tables
from analyzer.outputs.write import date_partitions, part_files
from analyzer.report.charts import HOURLY_DAYS

DIMENSIONS: tuple[str, ...] = ("client_id", "audience", "host", "api", "issuer", "tenant_id")
SPLIT_DIMENSIONS = {"client": "client_id", "audience": "audience"}
_SAMPLE_COLUMNS = (
    "ts",
    "source",
    "line",
    "format",
    "location",
    "host",
    "method",
    "path",
    "status",
    "client_id",
    "audience",
    "issuer",
    "tenant_id",
    "version",
    "scopes",
    "roles",
    "token_fp",
    "token_kind",
    "alg",
    "kid",
    "typ",
    "exp",
    "nbf",
    "iat",
    "detail",
    "cause",
)


@dataclass(frozen=True)
class Scope:
    """The one owner a report is limited to: a dimension and its value (None: tokens without one)."""

    dimension: str
    value: str | None

    def label(self) -> str:
        """How the scope reads in a heading."""
        what = "client" if self.dimension == "client_id" else "audience"
        return f"{what} {self.value if self.value is not None else '(none)'}"


@dataclass
class ReportData:
    """Everything `report.render` needs; nothing more."""

    run: dict[str, Any]
    cube: pd.DataFrame
    unique_tokens: int
    grain: str = "h"  # the cube's period: "h" (hours) or "D" (days), as pandas' frequency aliases
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    client_names: dict[str, str] = field(default_factory=dict)
    scope: Scope | None = None
    unique_by: dict[str, pd.Series] = field(default_factory=dict)
    samples: pd.DataFrame | None = None

    @classmethod
    def load(
        cls,
        directory: Path,
        run: dict[str, Any] | None = None,
        *,
        samples: bool = True,
        examples: dict[str, list[dict[str, Any]]] | None = None,
        since_us: int | None = None,
        until_us: int | None = None,
        scanned: _Scan | None = None,
    ) -> ReportData:
        """Read an output directory (run.json unless given, events/, examples.json unless given).

        A run passes its own `examples` (examples.json is still the previous run's then); its report is
        never split by owner, so the sample rows are read only when a cause has no example that shows
        its token, which is all that report can use them for. It passes the events' `EventsScan` too,
        folded on the summary's pass (`scanned`): the events are then not read again here.
        """
        if run is None:
            run = json.loads((directory / "run.json").read_text(encoding="utf-8"))
        if not isinstance(run, dict):
            raise ValueError("run.json does not hold a JSON object")
        split = examples is None
        if examples is None:
            ex_path = directory / "examples.json"
            examples = json.loads(ex_path.read_text(encoding="utf-8")) if ex_path.exists() else {}
        scan = scanned if scanned is not None else _scan_events(directory, since_us, until_us)
        data = cls(
            run=run,
            cube=scan.cube,
            grain=scan.grain,
            unique_tokens=scan.unique_tokens,
            examples=examples,
            client_names=dict(run.get("expectations", {}).get("clients", {})),
            unique_by=scan.unique_by if split else {},  # what only a split's reports use
        )
        if samples and (split or any(not shows_token(data.cause_examples(c)) for c in data.failing_causes())):
            data.samples = _sample_events(directory, scan.sample_tokens)
        return data

    def with_run(self, run: dict[str, Any]) -> ReportData:
        """The same data with this run summary (loaded before the summary was written)."""
        return replace(self, run=run, client_names=dict(run.get("expectations", {}).get("clients", {})))

    def only(self, dimension: str, value: str | None) -> ReportData:
        """The same data limited to one client (or audience): nothing of the others is kept."""
        mask = self.cube[dimension].isna() if value is None else self.cube[dimension] == value
        cube = self.cube[mask.fillna(False).to_numpy()].reset_index(drop=True)
        for col in DIMENSIONS:
            cube[col] = cube[col].cat.remove_unused_categories()
        uniq = self.unique_by.get(dimension)
        n_unique = 0
        if uniq is not None:
            hit = uniq[uniq.index.isna()] if value is None else uniq[uniq.index == value]
            n_unique = int(hit.sum())
        examples = {c: [e for e in exs if e.get(dimension) == value] for c, exs in self.examples.items()}
        samples = None
        if self.samples is not None:
            s = self.samples
            samples = s[(s[dimension].isna() if value is None else s[dimension] == value).to_numpy()]
        names = {
            k: v for k, v in self.client_names.items() if k in set(cube["client_id"].dropna().astype(str))
        }
        return replace(
            self,
            cube=cube,
            unique_tokens=n_unique,
            examples=examples,
            client_names=names,
            scope=Scope(dimension, value),
            unique_by={},
            samples=samples,
        )

    def owners(self, dimension: str) -> list[tuple[str | None, int, int]]:
        """Every value of a dimension with its occurrences and failing occurrences, most failing first."""
        c = self.cube.assign(failing=self.cube["occurrences"].where(self.cube["cause"] != S.OK, 0))
        g = c.groupby(dimension, observed=True, dropna=False)[["occurrences", "failing"]].sum()
        g = g.sort_values(["failing", "occurrences"], ascending=False)
        return [(None if pd.isna(k) else str(k), int(r.occurrences), int(r.failing)) for k, r in g.iterrows()]

    @property
    def occurrences(self) -> int:
        """Token occurrences in scope."""
        return int(self.cube["occurrences"].sum())

    @property
    def failing(self) -> int:
        """Occurrences whose cause is not ok."""
        return int(self.cube.loc[self.cube["cause"] != S.OK, "occurrences"].sum())

    def by_cause(self) -> pd.Series:
        """Occurrences per cause: failures most first, then ok."""
        s = self.cube.groupby("cause", observed=True)["occurrences"].sum()
        s = s[s > 0].sort_values(ascending=False, kind="stable")
        return pd.concat([s[s.index != S.OK], s[s.index == S.OK]])

    def failing_causes(self) -> list[str]:
        """The causes other than ok, as `by_cause` orders them."""
        return [str(c) for c in self.by_cause().index if c != S.OK]

    def cause_examples(self, cause: str) -> list[dict[str, Any]]:
        """The examples of one cause the report shows (before any sample rows stand in for them)."""
        return [e for e in self.examples.get(cause, []) if isinstance(e, dict)][:S.EXAMPLES_PER_CAUSE]

    def period(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """First and last request time in scope."""
        if self.cube.empty:
            return None, None
        first, last = self.cube["first_seen"].min(), self.cube["last_seen"].max()
        return (None if pd.isna(first) else first), (None if pd.isna(last) else last)


def history(out_dir: Path, keep: int = 20) -> list[dict[str, Any]]:
    """Headline numbers of the previous runs into this directory, oldest first (for the trend)."""
    try:
        prev = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
        # The dataset's figures, which the report shows, not what that run happened to read: a rerun
        # that read nothing new must not look like a night with no failures.
        tok = prev["dataset"] if "failing" in prev.get("dataset", {}) else prev["tokens"]
        entry: dict[str, Any] = {
            "started_at": prev.get("started_at"),
            "occurrences": int(tok["occurrences"]),
            "failing": int(tok.get("failing", 0)),
            "failure_rate": float(tok["failure_rate"]),
        }
        # What the next report compares with: causes, failing clients and signing-key ids of that run.
        if isinstance(tok.get("by_cause"), dict):
            entry["by_cause"] = {str(k): int(v) for k, v in tok["by_cause"].items()}
        if isinstance(prev.get("clients"), list):
            entry["failing_clients"] = {str(c["client_id"]): int(c.get("failures") or 0)
                                        for c in prev["clients"][:200]
                                        if isinstance(c, dict) and c.get("failures") and c.get("client_id")}
        if isinstance(prev.get("keys"), list):
            entry["kids"] = sorted({str(k) for key in prev["keys"] if isinstance(key, dict)
                                    for k in key.get("kids") or []})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # AttributeError: not a JSON object
        return []
    past = prev.get("history") if isinstance(prev.get("history"), list) else []
    return [*past, entry][-keep:]


def expectations(settings: Any) -> dict[str, Any]:
    """What the config says (client names, what each API accepts), kept in run.json for the report."""
    return {
        "clients": {c.client_id: c.name for c in settings.clients if c.name},
        "apis": [
            {
                "name": a.name,
                "hosts": list(a.hosts),
                "audiences": list(a.audiences),
                "issuers": list(a.issuers),
            }
            for a in settings.apis
        ],
    }


def report_file_name(dimension: str, value: str | None, label: str | None = None) -> str:
    """A safe file name for one owner's report: named after `label` (its config name) when given, else
    the value; no separators, no dot files, unique per value."""
    import hashlib
    import re

    raw = "" if value is None else value
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", label or raw).strip("_")[:48] or "none"
    digest = hashlib.sha256(f"{dimension}\0{raw}\0{value is None}".encode()).hexdigest()[:8]
    prefix = "client" if dimension == "client_id" else "audience"
    return f"{prefix}-{slug}-{digest}.html"


_CUBE_KEYS = ["period", *DIMENSIONS, "cause"]
_FOLD_EVERY = 16  # tables whose partial cubes are folded together
_PERIOD_US = {"h": 3_600_000_000, "D": 86_400_000_000}  # an hour, a day in microseconds


def build_cube(events: pd.DataFrame, grain: str = "h") -> pd.DataFrame:
    """Occurrences, first and last seen per (period, dimensions, cause) of a frame of events; the period
    is the hour ("h") or the day ("D")."""
    columns = ["ts", *DIMENSIONS, "cause"]
    table = pa.Table.from_pandas(events[[c for c in columns if c in events.columns]], preserve_index=False)
    codes = KeyCodes()
    return _cube_frame(_cube_part(table, {k: codes.encode(table, k) for k in _CUBE_KEYS[1:]}, grain), codes)


def _rows(n: int, offset: int) -> pa.Array:
    """Row numbers in the dataset: Arrow's grouping does not keep the order of first appearance, so each
    group carries the number of its first row."""
    return pa.array(np.arange(offset, offset + n, dtype=np.int64))


def _cube_part(table: pa.Table, keys: dict[str, pa.Array], grain: str, offset: int = 0) -> pa.Table:
    """One table's partial cube (its rows numbered from `offset`), by Arrow's hash aggregation over
    the codes of its dimensions and cause."""
    ts = pc.cast(table.column("ts"), pa.timestamp("us", tz="UTC"))
    keyed = pa.table({"period": _floor(ts, _PERIOD_US[grain]), **keys, "ts": ts,
                      "row": _rows(len(table), offset)})
    part = keyed.group_by(_CUBE_KEYS, use_threads=False).aggregate(
        [([], "count_all"), ("ts", "min"), ("ts", "max"), ("row", "min")])
    return part.rename_columns({"count_all": "occurrences", "ts_min": "first_seen", "ts_max": "last_seen",
                                "row_min": "row"})


def _floor(ts: pa.ChunkedArray, step_us: int) -> pa.Array:
    """UTC times floored to a whole number of `step_us` since the epoch, as `pc.floor_temporal` floors them
    to the hour or day in UTC, on integers (about twenty times faster)."""
    us = pc.cast(ts, pa.int64())
    floored = np.floor_divide(pc.fill_null(us, 0).to_numpy(), step_us) * step_us
    missing = pc.is_null(us).to_numpy(zero_copy_only=False)
    return pa.array(floored, pa.timestamp("us", tz="UTC"), mask=missing if missing.any() else None)


def _fold_cube(parts: list[pa.Table]) -> pa.Table:
    """Partial cubes summed into one."""
    out = pa.concat_tables(parts).group_by(_CUBE_KEYS, use_threads=False).aggregate(
        [("occurrences", "sum"), ("first_seen", "min"), ("last_seen", "max"), ("row", "min")])
    return out.rename_columns({"occurrences_sum": "occurrences", "first_seen_min": "first_seen",
                               "last_seen_max": "last_seen", "row_min": "row"})


def _cube_frame(cube: pa.Table, codes: KeyCodes) -> pd.DataFrame:
    """The cube for pandas, groups in the order of their first row; dimensions and cause as categoricals
    of their values in sorted order."""
    cube = cube.sort_by("row")
    df = pd.DataFrame({"period": cube.column("period").to_pandas()})
    for col in (*DIMENSIONS, "cause"):
        df[col] = _categorical(codes, col, cube.column(col))
    df["occurrences"] = cube.column("occurrences").to_numpy().astype("int64")
    df["first_seen"] = cube.column("first_seen").to_pandas()
    df["last_seen"] = cube.column("last_seen").to_pandas()
    return df


def _categorical(codes: KeyCodes, name: str, column: pa.ChunkedArray) -> pd.Categorical:
    """A column of codes as a categorical of its values, its categories the values it holds in sorted order:
    each distinct code is looked up and ranked once, then the rows take their rank."""
    at = pc.fill_null(column, -1).to_numpy()
    present = np.unique(at[at >= 0])
    values = codes.decode(name, pa.array(present, pa.int32()))
    rank = np.argsort(np.argsort(np.array(values, dtype=object), kind="stable"), kind="stable")
    renumber = np.full(int(present.max()) + 2 if len(present) else 1, -1, dtype=np.int64)  # -1 stays missing
    renumber[present] = rank
    return pd.Categorical.from_codes(renumber[at], categories=sorted(values))


_SHARD_ROWS = 1 << 15  # above this many rows, `_distinct` groups by shards of the token
_SHARDS = 8


def _distinct(tables: list[pa.Table], keys: list[str]) -> pa.Table:
    """The distinct key rows of tables that number their rows (`row`), each with its first row's number
    (in no particular order: whoever reads them orders them by that number). `keys` hold `token`.

    Arrow's hash aggregation needs about 120 bytes a row while it runs, and the distinct tokens of a
    report grow with the logs (170,000 rows at 7 GB: 21 MB at once). A large table is grouped in shards
    by its token (`_shards`), each an eighth.
    """
    table = pa.concat_tables(tables)
    if table.num_rows <= _SHARD_ROWS:
        return _group_first(table, keys)
    return pa.concat_tables([_group_first(part, keys) for part in _shards(table)])


def _shards(table: pa.Table) -> list[pa.Table]:
    """A table's rows in _SHARDS parts by the low bits of their `token` (a missing token in the first):
    rows of one token, and so of one key that holds it, are in one part."""
    shard = pc.bit_wise_and(pc.fill_null(table.column("token"), 0), pa.scalar(_SHARDS - 1, pa.uint64()))
    return [table.filter(pc.equal(shard, pa.scalar(i, pa.uint64()))) for i in range(_SHARDS)]


def _group_first(table: pa.Table, keys: list[str]) -> pa.Table:
    """`_distinct` of one table in one aggregation."""
    return table.group_by(keys, use_threads=False).aggregate([("row", "min")]).rename_columns({"row_min": "row"})


@dataclass
class _Scan:
    """What one pass over the events dataset gives a report; what only some reports use is worked out
    from `known` when first asked for."""

    cube: pd.DataFrame
    grain: str  # the cube's period
    unique_tokens: int
    known: pa.Table  # the distinct (client, audience, cause, token) codes, each with its first row
    codes: KeyCodes

    @functools.cached_property
    def unique_by(self) -> dict[str, pd.Series]:
        """Per client (audience): its distinct tokens, in the order of their first row."""
        with_token = self.known.filter(pc.is_valid(self.known.column("token")))
        unique_by = {}
        for dim in SPLIT_DIMENSIONS.values():
            per = (_distinct([with_token.select([dim, "token", "row"])], [dim, "token"])
                   .group_by([dim], use_threads=False).aggregate([("token", "count"), ("row", "min")])
                   .sort_by("row_min"))
            unique_by[dim] = pd.Series(per.column("token_count").to_numpy(),
                                       index=pd.Index(list(self.codes.decode(dim, per.column(dim)))), name="token_fp")
        return unique_by

    @functools.cached_property
    def sample_tokens(self) -> set[int]:
        """The first few tokens (`token_ids`) per (client, cause) and (audience, cause)."""
        return _first_tokens(self.known)


_TOKEN_KEYS = ["client_id", "audience", "cause", "token"]


class EventsScan:
    """The cube, the distinct-token counts and the tokens to sample, folded table by table (a `TableFold`:
    it rides along the summary's pass over the dataset in a run).

    Both are folded by Arrow's hash aggregation over integers as the tables come (`KeyCodes`): the
    cube's groups, and the distinct (client, audience, cause, token) rows with their first row, so
    memory is bounded by the cube's groups and the distinct tokens (about 30 bytes each), not by the
    occurrences.
    """

    columns = ("ts", "token_fp", "cause", *DIMENSIONS)
    coded = _CUBE_KEYS[1:]

    def __init__(self, directory: Path, since_us: int | None, until_us: int | None) -> None:
        self.grain = _grain(directory / "events", since_us, until_us)
        self.codes = KeyCodes()
        self._cubes: list[pa.Table] = []
        # The distinct token rows folded so far, in _SHARDS parts by token (`_shards`): a fold then
        # regroups one part at a time, never a copy of them all (they grow with the logs' tokens).
        self._known: list[pa.Table] = [_NO_TOKENS] * _SHARDS
        self._tokens: list[pa.Table] = []  # the distinct token rows of the tables since the last fold
        self._seen = 0

    def add(self, table: pa.Table, codes: KeyCodes) -> None:
        """Fold in the next table of the dataset (its rows numbered after those of the tables before), its
        columns encoded by `codes`: the same for every table, the pass's."""
        self.codes = codes
        keys = {k: codes.encode(table, k) for k in _CUBE_KEYS[1:]}
        self._cubes.append(_cube_part(table, keys, self.grain, self._seen))
        self._tokens.append(_distinct([pa.table({k: keys[k] for k in _TOKEN_KEYS[:3]} | {
            "token": codes.token_ids(table), "row": _rows(len(table), self._seen)})], _TOKEN_KEYS))
        self._seen += len(table)
        if len(self._cubes) >= _FOLD_EVERY:
            self._cubes = [_fold_cube(self._cubes)]
            self._known, self._tokens = self._folded(), []

    def _folded(self) -> list[pa.Table]:
        """The known parts with the token rows since the last fold in them (the rows before keep their key)."""
        if not self._tokens:
            return self._known
        return [_group_first(pa.concat_tables([known, new]), _TOKEN_KEYS)
                for known, new in zip(self._known, _shards(pa.concat_tables(self._tokens)), strict=True)]

    def result(self) -> _Scan:
        """What the tables folded in so far give a report."""
        codes, cubes = self.codes, self._cubes
        if not cubes:
            empty = pa.table({"ts": pa.array([], pa.timestamp("us", tz="UTC"))})
            cubes = [_cube_part(empty, {k: codes.encode(empty, k) for k in _CUBE_KEYS[1:]}, self.grain)]
        parts = self._folded()
        # A token is in one part: its distinct tokens are counted part by part (a hash table of an eighth).
        unique = sum(len(pc.unique(pc.drop_null(part.column("token")))) for part in parts)
        known = pa.concat_tables(parts)  # side by side, not copied: nothing that reads it needs an order
        return _Scan(_cube_frame(_fold_cube(cubes), codes), self.grain, unique, known, codes)


_NO_TOKENS = pa.table({k: pa.array([], pa.int32()) for k in _TOKEN_KEYS[:3]} |
                      {"token": pa.array([], pa.uint64()), "row": pa.array([], pa.int64())})


def _scan_events(directory: Path, since_us: int | None, until_us: int | None) -> _Scan:
    """The report's `EventsScan` of an output directory's events dataset (or a time window), in one pass."""
    scan = EventsScan(directory, since_us, until_us)
    for _, table in iter_event_tables(directory / "events", scan.columns, since_us, until_us):
        scan.add(table, scan.codes)
    return scan.result()


def _first_tokens(known: pa.Table) -> set[int]:
    """The first distinct tokens (`token_ids`) of each (client, cause) and (audience, cause), up to
    EXAMPLES_PER_CAUSE each, from the distinct (client, audience, cause, token) rows with their first
    row; a missing token takes its place too.

    Worked out in the token's shards (`_shards`), each an eighth of the rows: a token among the first of
    its (client, cause) is among the first of that group in its own shard, so each shard hands on only
    its first few per group."""
    firsts: set[int] = set()
    for dim in SPLIT_DIMENSIONS.values():
        keys = [dim, "cause", "token"]
        heads = [_first_of_groups(_group_first(part, keys), dim) for part in _shards(known.select([*keys, "row"]))]
        firsts.update(_first_of_groups(pa.concat_tables(heads), dim).column("token").drop_null().to_pylist())
    return firsts


def _first_of_groups(distinct: pa.Table, dim: str) -> pa.Table:
    """The first EXAMPLES_PER_CAUSE rows (by `row`) of each (dim, cause) of distinct (dim, cause, token) rows."""
    distinct = distinct.sort_by("row")
    head = (pd.DataFrame({dim: pc.fill_null(distinct.column(dim), -1).to_numpy(),
                          "cause": pc.fill_null(distinct.column("cause"), -1).to_numpy()})
            .groupby([dim, "cause"], sort=False).head(S.EXAMPLES_PER_CAUSE))
    return distinct.take(pa.array(head.index.to_numpy()))


def _grain(events: Path, since_us: int | None, until_us: int | None) -> str:
    """The cube's period for the dataset's days (its `date=` partitions, within the window): hours, or days."""
    days = [pd.Timestamp(day) for day, _ in date_partitions(events)]
    if since_us is not None:
        days = [d for d in days if d >= pd.Timestamp(since_us, unit="us").floor("D")]
    if until_us is not None:
        days = [d for d in days if d < pd.Timestamp(until_us, unit="us")]
    return "h" if not days or days[-1] - days[0] <= pd.Timedelta(days=HOURLY_DAYS) else "D"


def _sample_events(directory: Path, fps: set[int]) -> pd.DataFrame:
    """Whole rows of the chosen tokens (`token_ids`): examples for per-owner reports.

    The first row of each (token, cause) of the tokens, in dataset order. Only `token_fp` and
    `cause` are read everywhere; the other columns only of the row groups that hold a row to
    keep, so the sample costs memory (and time) for the sample, not for the dataset.
    """
    import pyarrow.parquet as pq

    events_dir = directory / "events"
    if not fps or not events_dir.is_dir():
        return pd.DataFrame(columns=list(_SAMPLE_COLUMNS))
    chosen = pa.array(sorted(fps), pa.uint64())
    taken: set[tuple[str, Any]] = set()
    parts: list[pa.Table] = []
    for path in part_files(events_dir):
        pf = pq.ParquetFile(path, pre_buffer=False)
        names = set(pf.schema_arrow.names)
        cols = [c for c in _SAMPLE_COLUMNS if c in names]
        for group in range(pf.num_row_groups):
            keys = pf.read_row_group(group, columns=["token_fp", "cause"], use_threads=False)
            rows = pc.indices_nonzero(pc.is_in(KeyCodes.tokens(keys), value_set=chosen))
            if not len(rows):
                continue
            # The first row of each (token, cause) of the row group; kept if no earlier one had it.
            hits = pa.table({k: pc.cast(keys.column(k).take(rows), pa.string()) for k in ("token_fp", "cause")}
                            | {"row": rows})
            firsts = hits.group_by(["token_fp", "cause"], use_threads=False).aggregate([("row", "min")])
            new = []
            for fp, cause, row in zip(*(firsts.column(c).to_pylist() for c in ("token_fp", "cause", "row_min")),
                                      strict=True):
                if (fp, cause) not in taken:
                    taken.add((fp, cause))
                    new.append(row)
            if new:
                parts.append(pf.read_row_group(group, columns=cols, use_threads=False).take(sorted(new)))
    if not parts:
        return pd.DataFrame(columns=list(_SAMPLE_COLUMNS))
    table = pa.concat_tables(parts, promote_options="permissive")  # an older part file may lack a column
    df = table.to_pandas()
    for c, type_ in zip(table.column_names, table.schema.types, strict=True):
        if pa.types.is_dictionary(type_):
            df[c] = df[c].astype("object")
    return df


def sample_examples(
    samples: pd.DataFrame, cause: str, limit: int = S.EXAMPLES_PER_CAUSE
) -> list[dict[str, Any]]:
    """Examples of one cause built from event rows: the decoded header and claims the events keep."""
    rows = samples[samples["cause"] == cause].head(limit)
    out = []
    for rec in rows.to_dict("records"):
        header = {k: rec.get(k) for k in ("alg", "kid", "typ") if _present(rec.get(k))}
        claims: dict[str, Any] = {}
        for name, col in (
            ("iss", "issuer"),
            ("aud", "audience"),
            ("client_id (appid/azp)", "client_id"),
            ("tid", "tenant_id"),
            ("ver", "version"),
            ("scp", "scopes"),
            ("roles", "roles"),
            ("iat", "iat"),
            ("nbf", "nbf"),
            ("exp", "exp"),
        ):
            if _present(rec.get(col)):
                claims[name] = str(rec[col])
        ex = {
            k: rec.get(k)
            for k in EXAMPLE_COLUMNS
        }
        ex.update(header=header, claims=claims, from_events=True)
        out.append(ex)
    return out


def shows_token(examples: list[dict[str, Any]]) -> bool:
    """Whether any of a cause's examples shows its token's header or claims (else sample rows stand in)."""
    return any(e.get("claims") or e.get("header") for e in examples)


def _present(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and v != v) and v is not pd.NaT and str(v) != ""
