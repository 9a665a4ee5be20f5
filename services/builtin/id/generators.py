"""Id generators, one function per id type, each returning the id as a string.

Ids of 64 bits or more are returned as decimal strings because JavaScript
numbers lose precision above 2**53.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import threading
import time
import uuid

CROCKFORD_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BASE32_HEX = "0123456789abcdefghijklmnopqrstuv"
URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

# Twitter's snowflake epoch, 2010-11-04T01:42:54.657Z, in milliseconds.
SNOWFLAKE_EPOCH_MS = 1_288_834_974_657
# KSUID's epoch, 2014-05-13T16:53:20Z, in seconds.
KSUID_EPOCH_S = 1_400_000_000

# A machine id derived from the host name, so processes on different hosts
# usually differ. Collisions between hosts are possible because the ids below
# keep only 10 to 48 bits of it.
_MACHINE_HASH = int.from_bytes(hashlib.sha256(socket.gethostname().encode()).digest()[:8], "big")


def _milliseconds() -> int:
    return time.time_ns() // 1_000_000


class _Sequence:
    """A per-millisecond counter that waits for the next millisecond when it overflows."""

    def __init__(self, bits: int) -> None:
        self._max = (1 << bits) - 1
        self._lock = threading.Lock()
        self._last_ms = -1
        self._value = 0

    def next(self) -> tuple[int, int]:
        """Return (milliseconds since the Unix epoch, sequence number within that millisecond)."""
        with self._lock:
            now = _milliseconds()
            if now < self._last_ms:
                # If the clock went back, keep the last timestamp so ids stay ordered.
                now = self._last_ms
            if now == self._last_ms:
                self._value += 1
                if self._value > self._max:
                    # The wait is bounded by one millisecond of clock time.
                    while now <= self._last_ms:
                        now = _milliseconds()
                    self._value = 0
            else:
                self._value = 0
            self._last_ms = now
            return now, self._value


_snowflake_sequence = _Sequence(bits=12)
_bigflake_sequence = _Sequence(bits=16)
_xid_lock = threading.Lock()
_xid_counter = secrets.randbits(24)


def new_uuid() -> str:
    """Return a random (version 4) UUID in its canonical 36-character form."""
    return str(uuid.uuid4())


def new_snowflake() -> str:
    """Return a 64-bit Twitter snowflake: 41 bits of milliseconds, 10 of machine, 12 of sequence."""
    milliseconds, sequence = _snowflake_sequence.next()
    machine = (_MACHINE_HASH ^ os.getpid()) & 0x3FF
    return str(((milliseconds - SNOWFLAKE_EPOCH_MS) << 22) | (machine << 12) | sequence)


def new_bigflake() -> str:
    """Return a 128-bit bigflake: 64 bits of Unix milliseconds, 48 of worker, 16 of sequence."""
    milliseconds, sequence = _bigflake_sequence.next()
    worker = (_MACHINE_HASH ^ os.getpid()) & 0xFFFF_FFFF_FFFF
    return str((milliseconds << 64) | (worker << 16) | sequence)


def new_ulid() -> str:
    """Return a ULID: 48 bits of Unix milliseconds and 80 random bits in 26 Crockford base32 characters."""
    value = (_milliseconds() << 80) | secrets.randbits(80)
    return "".join(CROCKFORD_BASE32[(value >> shift) & 0x1F] for shift in range(125, -1, -5))


def new_ksuid() -> str:
    """Return a KSUID: 32 bits of seconds since 2014-05-13 and 128 random bits in 27 base62 characters."""
    value = ((int(time.time()) - KSUID_EPOCH_S) << 128) | secrets.randbits(128)
    characters = []
    for _ in range(27):
        value, digit = divmod(value, 62)
        characters.append(BASE62[digit])
    return "".join(reversed(characters))


def new_xid() -> str:
    """Return an xid: 4 bytes of Unix seconds, 3 of machine, 2 of process id, 3 of counter, in 20 base32hex characters."""
    global _xid_counter
    with _xid_lock:
        _xid_counter = (_xid_counter + 1) & 0xFFFFFF
        counter = _xid_counter
    raw = (
        int(time.time()).to_bytes(4, "big")
        + (_MACHINE_HASH & 0xFFFFFF).to_bytes(3, "big")
        + (os.getpid() & 0xFFFF).to_bytes(2, "big")
        + counter.to_bytes(3, "big")
    )
    # 96 bits padded to 100 so they split into 20 five-bit groups, as the xid reference encoder does.
    value = int.from_bytes(raw, "big") << 4
    return "".join(BASE32_HEX[(value >> shift) & 0x1F] for shift in range(95, -5, -5))


def new_nanoid() -> str:
    """Return a 21-character Nano ID from the URL-safe alphabet (126 random bits)."""
    return "".join(secrets.choice(URL_SAFE) for _ in range(21))


def new_shortid() -> str:
    """Return a random 10-character id from the URL-safe alphabet.

    NOTE: this is not the teris-io/shortid algorithm that the original M3O
    used, which mixes in a counter and a worker id. It has the same alphabet
    and 60 random bits.
    """
    return "".join(secrets.choice(URL_SAFE) for _ in range(10))


GENERATORS = {
    "uuid": new_uuid,
    "snowflake": new_snowflake,
    "bigflake": new_bigflake,
    "ulid": new_ulid,
    "ksuid": new_ksuid,
    "xid": new_xid,
    "nanoid": new_nanoid,
    "shortid": new_shortid,
}
