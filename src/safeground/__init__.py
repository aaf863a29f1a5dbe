"""SafeGround: an open-source mine action information system."""

import os as _os

# pandas keeps text columns in Arrow arrays; Arrow's default allocator (mimalloc) holds on to the memory they
# freed, so a long report's resident memory only grew (about 30 MB on a national land release report). The
# C library's allocator gives it back (``compute.release_memory``). Set before pandas loads Arrow; a value the
# user set wins.
_os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

__version__ = "0.1.0"
