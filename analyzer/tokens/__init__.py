"""Tokens: what one unique token is, whether the identity provider signed it, and how each use of it fares.

- `issuers`: issuer shapes (v1/v2, tenant), the `{tenantid}` template, which issuers share keys;
- `shared`: signature verdicts a run's forked workers share (a lossy table in shared memory);
- `keys`: key sets and signature verification (PyJWT algorithm objects, `cryptography`);
- `keystore`: the only module that opens connections (discovery, cached JWKS, key history);
- `privacy`: keyed hashes of personal claims, and values made safe to show;
- `decode`: a token's facts (the core decodes; Python adds the key-dependent checks), `FactsMemo`;
- `columns`: the facts classification needs of each token as numpy columns, read once per process (`TokenColumns`);
- `check`: classification of every occurrence, the token's facts joined with its request, as column operations.

Imports only the base modules (`config`, `errors`, `frames`, `schema`) and the core; nothing of the
scan, outputs, diagnosis, report, engine or run. Each module imports only the ones listed before it.
"""
