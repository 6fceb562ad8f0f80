"""What a report shows, read back from an output directory and reduced to a small cube.

The events dataset is read with only the columns a report needs and at once folded into one row
per (period, client, audience, host, API, issuer, tenant, cause), so a report over a million
occurrences holds thousands of rows, not millions. The period is the hour, or the day over a
dataset that spans more than `charts.HOURLY_DAYS` days (its timeline is drawn per day or week anyway): the
cube then grows with the days, not the hours, of a long archive. A report for one owner is the same data
filtered to that owner's rows (`ReportData.only`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analyzer import schema as S
from analyzer.outputs.aggregate import EXAMPLE_COLUMNS, iter_event_frames, token_codes
from analyzer.outputs.write import date_partitions
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
        since_us: int | None = None,
        until_us: int | None = None,
    ) -> ReportData:
        """Read an output directory (run.json unless given, events/, examples.json)."""
        if run is None:
            run = json.loads((directory / "run.json").read_text(encoding="utf-8"))
        if not isinstance(run, dict):
            raise ValueError("run.json does not hold a JSON object")
        ex_path = directory / "examples.json"
        examples = json.loads(ex_path.read_text(encoding="utf-8")) if ex_path.exists() else {}
        scan = _scan_events(directory, since_us, until_us)
        data = cls(
            run=run,
            cube=scan.cube,
            grain=scan.grain,
            unique_tokens=scan.unique_tokens,
            examples=examples,
            client_names=dict(run.get("expectations", {}).get("clients", {})),
            unique_by=scan.unique_by,
        )
        if samples:
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


def build_cube(events: pd.DataFrame, grain: str = "h") -> pd.DataFrame:
    """Occurrences, first and last seen per (period, dimensions, cause); the period is the hour or the day."""
    keys = ["period", *DIMENSIONS, "cause"]
    ev = events.assign(period=events["ts"].dt.floor(grain))
    for col in (*DIMENSIONS, "cause"):
        if not isinstance(ev[col].dtype, pd.CategoricalDtype):
            ev[col] = ev[col].astype("category")
    cube = (
        ev.groupby(keys, observed=True, dropna=False, sort=False)["ts"]
        .agg(occurrences="size", first_seen="min", last_seen="max")
        .reset_index()
    )
    cube["occurrences"] = cube["occurrences"].astype("int64")
    return cube


_CUBE_KEYS = ["period", *DIMENSIONS, "cause"]
_FOLD_EVERY = 16  # batches whose partial cubes are folded together


def _fold_cube(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Partial cubes (of record batches, with the same categories) summed into one."""
    out = (pd.concat(parts, ignore_index=True).groupby(_CUBE_KEYS, observed=True, dropna=False, sort=False)
           .agg(occurrences=("occurrences", "sum"), first_seen=("first_seen", "min"), last_seen=("last_seen", "max"))
           .reset_index())
    out["occurrences"] = out["occurrences"].astype("int64")
    return out


@dataclass
class _Scan:
    """What one pass over the events dataset gives a report."""

    cube: pd.DataFrame
    grain: str  # the cube's period
    unique_tokens: int
    unique_by: dict[str, pd.Series]  # per client (audience): its distinct tokens
    sample_tokens: set[str]  # the first few tokens per (client, cause) and (audience, cause)


class _Categories:
    """Categories that only grow, shared by the frames of every batch.

    Frames whose categoricals share categories concatenate and group as integer codes; with
    differing categories pandas falls back to Python strings, and memory grows with the data.
    """

    def __init__(self, columns: tuple[str, ...]) -> None:
        self._known: dict[str, pd.Index] = {c: pd.Index([], dtype="str") for c in columns}

    def unify(self, df: pd.DataFrame) -> pd.DataFrame:
        """The frame with its categoricals on the shared categories (extended by its new values)."""
        for col, known in self._known.items():
            have = df[col].cat.categories
            if have.equals(known):
                continue
            new = have.difference(known, sort=False)
            if len(new):
                known = self._known[col] = known.append(new)
            df[col] = df[col].cat.set_categories(known)
        return df

    def values(self, column: str, codes: np.ndarray) -> pd.Index:
        """The values of codes (-1 as None)."""
        return pd.Index(np.array([*self._known[column], None], dtype=object)[codes])

    def final(self, df: pd.DataFrame) -> pd.DataFrame:
        """Only the categories in use, in sorted order."""
        for col in self._known:
            if col in df.columns:
                used = df[col].cat.remove_unused_categories()
                df[col] = used.cat.reorder_categories(sorted(used.cat.categories))
        return df


def _scan_events(directory: Path, since_us: int | None, until_us: int | None) -> _Scan:
    """The cube, the distinct-token counts and the tokens to sample, in one pass batch by batch.

    Memory is bounded by the cube's groups and the distinct (client, audience, token) triples
    (16 bytes each), not by the occurrences: a nightly dataset of billions of rows folds through
    record batches.
    """
    columns = ["ts", "token_fp", "cause", *DIMENSIONS]
    grain = _grain(directory / "events", since_us, until_us)
    cats = _Categories((*DIMENSIONS, "cause"))
    cubes: list[pd.DataFrame] = []
    triples: list[pd.DataFrame] = []  # distinct (client, audience, token) as integers
    firsts: dict[tuple[str, Any, Any], list[str | None]] = {}  # (dimension, value, cause) -> first tokens
    for frame in iter_event_frames(directory / "events", columns, since_us, until_us):
        df = cats.unify(_typed(frame, columns))
        cubes.append(build_cube(df, grain))
        token, has_token = token_codes(df["token_fp"])
        triples.append(pd.DataFrame({"client_id": df["client_id"].cat.codes.to_numpy(),
                                     "audience": df["audience"].cat.codes.to_numpy(),
                                     "token": token, "has_token": has_token}).drop_duplicates())
        for dim in SPLIT_DIMENSIONS.values():
            # The first tokens of a group overall are among the first ones of the batch that has them.
            head = (df[[dim, "cause", "token_fp"]].drop_duplicates()
                    .groupby([dim, "cause"], observed=True, dropna=False, sort=False).head(S.EXAMPLES_PER_CAUSE))
            for value, cause, fp in head.itertuples(index=False):
                have = firsts.setdefault((dim, _none(value), _none(cause)), [])
                if len(have) < S.EXAMPLES_PER_CAUSE and _none(fp) not in have:
                    have.append(_none(fp))
        if len(cubes) >= _FOLD_EVERY:
            cubes = [_fold_cube([cats.unify(c) for c in cubes])]
            triples = [pd.concat(triples, ignore_index=True).drop_duplicates()]
    if not cubes:
        cubes = [build_cube(cats.unify(_typed(pd.DataFrame({c: [] for c in columns}), columns)), grain)]
    cube = cats.final(_fold_cube([cats.unify(c) for c in cubes]))
    known = pd.concat(triples or [_NO_TRIPLES], ignore_index=True).drop_duplicates()
    known = known[known["has_token"]]
    unique_by = {}
    for dim in SPLIT_DIMENSIONS.values():
        per = known.groupby(dim, sort=False)["token"].nunique()
        unique_by[dim] = pd.Series(per.to_numpy(), index=cats.values(dim, per.index.to_numpy()), name="token_fp")
    return _Scan(cube, grain, int(known["token"].nunique()), unique_by,
                 {t for tokens in firsts.values() for t in tokens if t is not None})


def _grain(events: Path, since_us: int | None, until_us: int | None) -> str:
    """The cube's period for the dataset's days (its `date=` partitions, within the window): hours, or days."""
    days = [pd.Timestamp(day) for day, _ in date_partitions(events)]
    if since_us is not None:
        days = [d for d in days if d >= pd.Timestamp(since_us, unit="us").floor("D")]
    if until_us is not None:
        days = [d for d in days if d < pd.Timestamp(until_us, unit="us")]
    return "h" if not days or days[-1] - days[0] <= pd.Timedelta(days=HOURLY_DAYS) else "D"


_NO_TRIPLES = pd.DataFrame({"client_id": np.array([], np.int8), "audience": np.array([], np.int8),
                            "token": np.array([], np.uint64), "has_token": np.array([], bool)})


def _none(value: Any) -> Any:
    """A missing value (NaN of a categorical) as None, which compares equal to itself."""
    return None if pd.isna(value) else value


def _typed(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Missing columns added, strings as categoricals, ts as UTC timestamps."""
    for c in columns:
        if c not in df.columns:
            df[c] = pd.Series([None] * len(df), dtype="category")
        elif c != "ts" and not isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype("category")
    if not isinstance(df["ts"].dtype, pd.DatetimeTZDtype):
        df["ts"] = pd.to_datetime(df["ts"], utc=True)
    return df


def _sample_events(directory: Path, fps: set[str]) -> pd.DataFrame:
    """Whole rows of the chosen tokens: examples for per-owner reports.

    The first row of each (token, cause) of the tokens, in dataset order. Only `token_fp` and
    `cause` are read everywhere; the other columns only of the row groups that hold a row to
    keep, so the sample costs memory (and time) for the sample, not for the dataset.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    events_dir = directory / "events"
    if not fps or not events_dir.is_dir():
        return pd.DataFrame(columns=list(_SAMPLE_COLUMNS))
    chosen = pa.array(sorted(fps))
    taken: set[tuple[str, Any]] = set()
    parts: list[pd.DataFrame] = []
    for _, d in date_partitions(events_dir):
        for path in sorted(d.glob("*.parquet")):
            pf = pq.ParquetFile(path, pre_buffer=False)
            names = set(pf.schema_arrow.names)
            cols = [c for c in _SAMPLE_COLUMNS if c in names]
            for group in range(pf.num_row_groups):
                keys = pf.read_row_group(group, columns=["token_fp", "cause"], use_threads=False)
                rows = pc.indices_nonzero(pc.is_in(keys.column("token_fp"), value_set=chosen))
                hits = keys.take(rows)
                new = []
                for i, key in zip(rows.to_pylist(), zip(hits.column("token_fp").to_pylist(),
                                                        hits.column("cause").to_pylist(), strict=True), strict=True):
                    if key not in taken:
                        taken.add(key)
                        new.append(i)
                if new:
                    part = pf.read_row_group(group, columns=cols, use_threads=False).take(new).to_pandas()
                    for c in part.columns:
                        if isinstance(part[c].dtype, pd.CategoricalDtype):
                            part[c] = part[c].astype("object")
                    parts.append(part)
    if not parts:
        return pd.DataFrame(columns=list(_SAMPLE_COLUMNS))
    return pd.concat(parts, ignore_index=True)


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


def _present(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and v != v) and v is not pd.NaT and str(v) != ""
