"""Opaque, time-sortable string ids (ULID layout) for every public object.

Sorting by id sorts by creation time, which keeps cursor pagination on a single unique column.
Within one process the ids are strictly increasing (monotonic ULIDs): two made in the same
millisecond (an event and the next one of the same change) sort in the order they were made.
"""

import os
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
_RANDOM_BITS = 80
_lock = threading.Lock()
_last = 0


def new_id() -> str:
    """Return a 26-character id: 48 bits of milliseconds then 80 random bits; one made in the
    same millisecond as this process's previous id (or with the clock set back) is that id + 1."""
    global _last
    value = (int(time.time() * 1000) << _RANDOM_BITS) | int.from_bytes(os.urandom(10), "big")
    with _lock:
        if value >> _RANDOM_BITS <= _last >> _RANDOM_BITS:
            value = _last + 1
        _last = value
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))
