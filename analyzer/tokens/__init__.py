"""Tokens: what one unique token is and whether the identity provider signed it.

- `decode`: a token's facts (the core decodes; Python adds the key-dependent checks), `FactsMemo`;
- `issuers`: issuer shapes (v1/v2, tenant), the `{tenantid}` template, which issuers share keys;
- `keys`: key sets and signature verification (PyJWT algorithm objects, `cryptography`);
- `keystore`: the only module that opens connections (discovery, cached JWKS, key history);
- `privacy`: keyed hashes of personal claims.

Imports `config`, `schema` and the core; nothing of the scan, engine, diagnosis, outputs or report.
"""
