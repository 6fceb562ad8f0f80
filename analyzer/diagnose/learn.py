"""Expectations inferred for hosts without an `[[api]]` entry: what each host accepted with 2xx."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analyzer import schema as S
from analyzer.config import ApiExpectation
from analyzer.frames import among, missing, numbers

# ----------------------------------------------------------------------------- inferred expectations


def default_scope(audiences: tuple[str, ...] | list[str]) -> str:
    """The scope a client requests for a token to these audiences (an app ID URI's `/.default`)."""
    uri = next((a for a in audiences if "://" in a), audiences[0] if audiences else "api://<your-api>")
    # An audience configured as a scope (`api://orders/.default`) must not become `…/.default/.default`.
    return uri.rstrip("/").removesuffix("/.default") + "/.default"



def path_key(path: str | None) -> str:
    """The path prefix expectations are learned per: the first segment (`/v1/orders/42` -> `/v1`).

    One host often serves an API and a web app (or two API versions) under different first segments;
    deeper segments are usually ids. A prefix without accepted tokens falls back to the whole host.
    """
    if not path or path == "/":
        return "/"
    seg = path.split("?", 1)[0].lstrip("/").split("/", 1)[0]
    return "/" + seg if seg else "/"


HOST_WIDE = "*"  # the path key of a host's union over all its prefixes


@dataclass
class Inferred:
    """What one host (and path prefix) accepts, learned from its 2xx answers."""

    host: str
    prefix: str
    support: int = 0  # unique accepted tokens
    audiences: Counter[str] = field(default_factory=Counter)
    issuers: Counter[str] = field(default_factory=Counter)
    versions: Counter[str] = field(default_factory=Counter)
    tenants: Counter[str] = field(default_factory=Counter)

    def api(self) -> ApiExpectation:
        """As an expectation the checks can use."""
        return ApiExpectation(
            f"inferred:{self.host}{'' if self.prefix == HOST_WIDE else self.prefix}",
            hosts=(self.host,),
            audiences=tuple(sorted(self.audiences)),
            issuers=tuple(sorted(self.issuers)),
        )

    def as_json(self) -> dict[str, Any]:
        """For run.json: every value with its support."""

        def values(c: Counter[str]) -> list[dict[str, Any]]:
            return [{"value": v, "support": n} for v, n in c.most_common()]

        return {
            "host": self.host,
            "path_prefix": "/" if self.prefix == HOST_WIDE else self.prefix,
            "support": self.support,
            "audiences": values(self.audiences),
            "issuers": values(self.issuers),
            "versions": values(self.versions),
            "tenants": values(self.tenants),
            "checks": "inferred" if self.support else "skipped",
        }


class ExpectationLearner:
    """Counts, per (host, path prefix) without config, the claims of the unique tokens it accepted."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str, str]] = set()
        self.learned: dict[tuple[str, str], Inferred] = {}

    @staticmethod
    def accepted(ev: pd.DataFrame) -> list[tuple[Any, ...]]:
        """(host, prefix, token, audience, issuer, version, tenant) of a batch's accepted tokens at hosts
        without an [[api]] entry: the first row per (host, prefix, token), in row order."""
        no_api = missing(ev["api"])
        if not no_api.any():  # most batches: every host has its [[api]] entry
            return []
        status = numbers(ev["status"])
        # Only tokens that pass every other check count: an endpoint that answers 2xx to an expired or
        # forged token does not check tokens at all (a health probe), and must not teach us anything.
        sel = (
            no_api
            & ~missing(ev["host"])
            & (status >= 200) & (status <= 299)
            & among(ev["cause"], (S.OK,))
            & among(ev["token_kind"], (S.KIND_ACCESS, S.KIND_UNKNOWN))
        )
        if not sel.any():
            return []
        acc = ev.loc[sel, ["host", "path", "token_fp", "audience", "issuer", "version", "tenant_id"]]
        acc = acc.assign(
            host=acc["host"].astype("string").str.lower(),
            prefix=[path_key(p) for p in acc["path"].astype("object").where(acc["path"].notna(), None)],
        )
        acc = acc.drop_duplicates(["host", "prefix", "token_fp"])
        return list(acc[["host", "prefix", "token_fp", "audience", "issuer", "version", "tenant_id"]]
                    .itertuples(index=False, name=None))

    def add(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Fold in accepted tokens (as `accepted` gives them), in the order they were seen."""
        for host, prefix, fp, aud, iss, ver, tid in rows:
            if (host, prefix, fp) in self._seen:
                continue
            self._seen.add((host, prefix, fp))
            for key in ((host, prefix), (host, HOST_WIDE)):
                inf = self.learned.setdefault(key, Inferred(host, key[1]))
                if key[1] == HOST_WIDE and (host, HOST_WIDE, fp) in self._seen:
                    continue
                inf.support += 1
                for a in str(aud).split(",") if isinstance(aud, str) and aud else ():
                    inf.audiences[a] += 1
                for counter, value in ((inf.issuers, iss), (inf.versions, ver), (inf.tenants, tid)):
                    if isinstance(value, str) and value:
                        counter[value] += 1
            self._seen.add((host, HOST_WIDE, fp))

    def lookup(self, host: str, path: str | None) -> Inferred | None:
        """The expectation for one request: its prefix's, else its host's, else None."""
        h = host.lower()
        return self.learned.get((h, path_key(path))) or self.learned.get((h, HOST_WIDE))
