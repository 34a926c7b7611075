"""Seeds, ids and hashes derived from names, never from Python's salted ``hash()``.

Every random stream in the simulation is keyed by what it describes (a person, a repo), so the
same (seed, scale, anchor, history_days) always yields the same company, and generating more days
never re-rolls days already generated.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random


def derive_seed(*parts: object) -> int:
    """A 64-bit seed from any parts; stable across processes and Python versions."""
    text = "\x1f".join(str(part) for part in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def rng_for(*parts: object) -> random.Random:
    """An independent random stream for one entity."""
    return random.Random(derive_seed(*parts))


def fake_sha(*parts: object) -> str:
    """A deterministic 40-hex git-like sha."""
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def random_sha(rng: random.Random) -> str:
    """A 40-hex sha drawn from a stream (cheaper than hashing when a stream is at hand)."""
    return f"{rng.getrandbits(160):040x}"


def legacy_node_id(type_name: str, object_id: int) -> str:
    """GitHub's legacy global node id, e.g. ``MDQ6VXNlcjE=`` for User 1 (base64 of ``04:User1``)."""
    raw = f"0{len(type_name)}:{type_name}{object_id}"
    return base64.b64encode(raw.encode("ascii")).decode("ascii")


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's Poisson sampler; means here are small (a few events per day)."""
    if mean <= 0:
        return 0
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
