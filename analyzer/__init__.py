"""analyzer: find out why bearer tokens fail, across whole log archives."""

import os as _os
import sys as _sys

__version__ = "0.1.0"

if _sys.platform == "linux":
    # Arrow's default pool (mimalloc) keeps what it frees, and the Parquet reader allocates from the
    # default pool whatever `pa.set_memory_pool` says later: pick jemalloc before pyarrow is imported,
    # unless the user chose a pool. The peak memory of a 1 GB scan drops by about 8%.
    _os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
