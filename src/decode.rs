//! Decode unique tokens: header, claims and every fact that needs no key or request (the port of
//! the decoding half of `decode.py`). STUB: owned by the decode helper.
