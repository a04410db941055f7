"""What is already known of quota use and of sold-out festival items, shared by every worker,
so that a refusal that is certain is answered before the database is asked.

In a flash sale three posts in four are refused: the buyer or the chain has used its quota, or
the allocation is gone. Each order placed (and each refusal counted in the database) leaves
behind what it found: the use of every rule it counted, for the buyer or the chain, and whether
the item is sold out. Use only grows until something is given back, so a remembered use is a
lower bound of the real one, and a purchase it already rules out is ruled out for certain.

Giving back (an order cancelled, expired or refunded; units returned to an allocation) bumps a
generation of the buyer, the chain's employee and the festival item once it commits. What was
learnt under an older generation no longer counts, also when it is written after the bump:
it carries the generation read before the database was. An unpaid order passing its deadline
gives back by the clock alone, with no event; ``KNOWN_USE_SECONDS`` (default 3) bounds how long
what is known lives, so such use is forgotten within those seconds.

The store is Redis (``REDIS_URL``: every worker shares it) or, without it, this process's
memory. 0 seconds (as in tests) turns it off. If Redis cannot be reached nothing is known, and
every purchase is checked in the database as before.

Placing an order never trusts any of this: it always counts use and takes stock under its locks.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cachetools import TTLCache
from flask import current_app, has_app_context

from shop.database import after_commit
from shop.quotas.models import Scope, Window
from shop.quotas.windows import window_bounds

logger = logging.getLogger(__name__)

GENERATION_SECONDS = 3_600  # far beyond any entry's life, so a generation never falls back under one


def _seconds() -> int:
    return current_app.config.get("KNOWN_USE_SECONDS", 0) if has_app_context() else 0


def enabled() -> bool:
    return _seconds() > 0


# ---- the store: Redis, or this process's memory ------------------------------------------------


class _MemoryStore:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries: TTLCache = TTLCache(maxsize=200_000, ttl=GENERATION_SECONDS)  # each entry has its own end
        self._generations: TTLCache = TTLCache(maxsize=200_000, ttl=GENERATION_SECONDS)

    def read(self, keys: Sequence[str], generation_keys: Sequence[str]) -> tuple[list, list]:
        now = time.monotonic()
        with self._lock:
            found = []
            for key in keys:
                held = self._entries.get(key)
                found.append(held[1] if held is not None and held[0] > now else None)
            return found, [self._generations.get(key) for key in generation_keys]

    def write(self, entries: Mapping[str, str], seconds: int) -> None:
        until = time.monotonic() + seconds
        with self._lock:
            for key, value in entries.items():
                self._entries[key] = (until, value)

    def bump(self, generation_keys: Iterable[str]) -> None:
        with self._lock:
            for key in generation_keys:
                self._generations[key] = int(self._generations.get(key) or 0) + 1


# SET every key of KEYS to the value of ARGV at the same position, all expiring in ARGV's last.
_SET_ALL = """
local seconds = ARGV[#ARGV]
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[i], 'EX', seconds)
end
"""


class _RedisStore:
    def __init__(self, url: str):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # A connection the server closed (Redis restarted) is opened again once, at once; a
        # timeout is not retried: nothing known is better than a post kept waiting.
        self._redis = redis.Redis.from_url(
            url,
            socket_timeout=0.25,
            socket_connect_timeout=0.25,
            decode_responses=True,
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        )
        self._thread = threading.local()
        self._set_all_sha = hashlib.sha1(_SET_ALL.encode()).hexdigest()  # noqa: S324 -- Redis names scripts so

    def _reader(self):
        """This thread's client, holding one of the pool's connections for as long as the thread
        lives (given back when it ends). Every post reads: through the pool, each read would
        take a connection, check it for stray data with a system call and give it back, a
        third of the read's CPU."""
        client = getattr(self._thread, "client", None)
        if client is None:
            import redis

            client = redis.Redis(connection_pool=self._redis.connection_pool, single_connection_client=True)
            self._thread.client = client
        return client

    def _call(self, *command):
        """One command on this thread's connection, sent and read without the client's layers
        (its retry wrapper, lock and reply callbacks cost more CPU than the round trip). As the
        client does: a connection the server closed (Redis restarted) is opened again once, at
        once; any other failure is not retried (nothing known is better than a post kept
        waiting)."""
        import redis

        connection = self._reader().connection
        try:
            return _round_trip(connection, command)
        except redis.ConnectionError:
            return _round_trip(connection, command)

    def read(self, keys: Sequence[str], generation_keys: Sequence[str]) -> tuple[list, list]:
        values = self._call("MGET", *keys, *generation_keys)
        return values[: len(keys)], values[len(keys) :]

    def write(self, entries: Mapping[str, str], seconds: int) -> None:
        """Every entry in one command (every order writes once: a pipeline took a pooled
        connection and packed a command per key). The script is loaded again if Redis forgot it."""
        import redis

        command = ("EVALSHA", self._set_all_sha, len(entries), *entries, *entries.values(), seconds)
        try:
            self._call(*command)
        except redis.exceptions.NoScriptError:
            self._call("SCRIPT", "LOAD", _SET_ALL)
            self._call(*command)

    def bump(self, generation_keys: Iterable[str]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for key in generation_keys:
            pipe.incr(key)
            pipe.expire(key, GENERATION_SECONDS)
        pipe.execute()


def _round_trip(connection, command: tuple):
    """Send ``command`` and read its reply. A failure closes the connection, so nothing stale is
    ever read from it (the next command opens it again); an error reply leaves it as it is."""
    import redis

    try:
        connection.send_command(*command)
        return connection.read_response()
    except redis.ResponseError:
        raise
    except BaseException:
        connection.disconnect()
        raise


_stores: dict[str | None, object] = {}
_stores_lock = threading.Lock()


def _store():
    url = current_app.config.get("REDIS_URL")
    store = _stores.get(url)
    if store is None:
        with _stores_lock:
            store = _stores.get(url) or (_RedisStore(url) if url else _MemoryStore())
            _stores[url] = store
    return store


def _safely(action, default):
    try:
        return action()
    except Exception:  # Redis away: nothing is known, and the database decides as before
        logger.warning("known quota use: the store failed; checking in the database instead", exc_info=True)
        return default


# ---- keys -------------------------------------------------------------------------------------


def _prefix() -> str:
    """Keys name rows by id, so they are kept apart per database: two deployments (or a
    benchmark's scratch databases) sharing one Redis never read each other's."""
    prefix = current_app.extensions.get("known_use_prefix")
    if prefix is None:
        database = str(current_app.config.get("SQLALCHEMY_DATABASE_URI", ""))
        prefix = f"neigou:known:{zlib.crc32(database.encode()):08x}:"
        current_app.extensions["known_use_prefix"] = prefix
    return prefix


def _user_generation(user_id: int) -> str:
    return f"{_prefix()}gen:user:{user_id}"


def _item_generation(item_id: int) -> str:
    return f"{_prefix()}gen:item:{item_id}"


_shape_tags: dict[tuple, int] = {}


def _shape_tag(rule) -> int:
    """Changes whenever what the rule counts changes (never with its limit): a rule edited into
    another shape starts from nothing known. Worked out once per shape."""
    from shop.quotas.engine import rule_shape

    shape = rule_shape(rule)
    tag = _shape_tags.get(shape)
    if tag is None:
        if len(_shape_tags) >= 1024:
            _shape_tags.clear()
        tag = _shape_tags[shape] = zlib.crc32(repr(shape).encode())
    return tag


def _use_key(rule, subject: int, variant_id: int | None, now) -> str:
    window = "festival" if rule.window == Window.festival else int(window_bounds(rule.window, now)[0].timestamp())
    return f"{_prefix()}use:{rule.id}:{_shape_tag(rule)}:{subject}:{variant_id or 0}:{window}"


def _sold_out_key(item_id: int) -> str:
    return f"{_prefix()}soldout:{item_id}"


# ---- what one purchase can know --------------------------------------------------------------


@dataclass
class Known:
    """What was known when a purchase began: use by (rule id, variant id or None), the sold-out
    items, and the generations read with them (what is learnt later is written under these)."""

    generations: dict[str, int] = field(default_factory=dict)
    use: dict[tuple[int, int | None], int] = field(default_factory=dict)
    sold_out: set[int] = field(default_factory=set)

    def used(self, rule_id: int, variant_id: int | None) -> int | None:
        return self.use.get((rule_id, variant_id))

    def generation_of(self, user_id: int) -> int:
        return self.generations.get(_user_generation(user_id), 0)

    def holds(self, facts) -> bool:
        """Whether facts about a buyer (shop.accounts.session.BuyerFacts), kept under some
        generation, are still current: nothing about the buyer changed since."""
        key = _user_generation(facts.id)
        return key in self.generations and self.generations[key] == facts.generation


def _subject(rule, buyer_id: int, root_id: int) -> int:
    return root_id if rule.scope == Scope.chain else buyer_id


def _counted(rules) -> list:
    return [rule for rule in rules if rule.window != Window.order]


def _use_entries(rules, takes, buyer_id: int, root_id: int, now) -> list[tuple[str, object, int | None]]:
    from shop.quotas.engine import wanted_by

    entries = []
    for rule in _counted(rules):
        for variant_id in wanted_by(rule, takes):
            entries.append((_use_key(rule, _subject(rule, buyer_id, root_id), variant_id, now), rule, variant_id))
    return entries


def look(rules, takes, *, buyer_id: int, root_id: int, item_ids: Iterable[int], now) -> Known:
    """What is known of ``rules`` (the ones that apply to ``takes``) for this buyer and chain,
    and of the items, in one round trip. Nothing is known when the store is off or away."""
    if not enabled():
        return Known()
    item_ids = sorted(set(item_ids))
    entries = _use_entries(rules, takes, buyer_id, root_id, now)
    generation_keys = sorted(
        {_user_generation(buyer_id), _user_generation(root_id), *(_item_generation(item_id) for item_id in item_ids)}
    )
    keys = [key for key, _rule, _variant in entries] + [_sold_out_key(item_id) for item_id in item_ids]
    found, generations = _safely(lambda: _store().read(keys, generation_keys), (None, None))
    if found is None:
        return Known()
    known = Known(generations={key: int(value or 0) for key, value in zip(generation_keys, generations, strict=True)})
    for (_key, rule, variant_id), value in zip(entries, found, strict=False):
        subject = _subject(rule, buyer_id, root_id)
        if value is not None:
            generation, used = value.split(":")
            if int(generation) == known.generations[_user_generation(subject)]:
                known.use[(rule.id, variant_id)] = int(used)
    for item_id, value in zip(item_ids, found[len(entries) :], strict=True):
        if value is not None and int(value) == known.generations[_item_generation(item_id)]:
            known.sold_out.add(item_id)
    return known


def user_generation(user_id: int) -> int | None:
    """The current generation of what is known about this user; None when nothing can be known."""
    if not enabled():
        return None
    key = _user_generation(user_id)
    _found, generations = _safely(lambda: _store().read([], [key]), (None, None))
    return None if generations is None else int(generations[0] or 0)


def _entries(
    known: Known,
    *,
    buyer_id: int,
    root_id: int,
    use: Mapping[tuple[object, int | None], int],
    sold_out: Iterable[int],
    now,
) -> dict[str, str]:
    entries = {}
    for (rule, variant_id), used in use.items():
        if rule.window == Window.order:
            continue
        subject = _subject(rule, buyer_id, root_id)
        generation = known.generations.get(_user_generation(subject))
        if generation is not None:
            entries[_use_key(rule, subject, variant_id, now)] = f"{generation}:{used}"
    for item_id in sold_out:
        generation = known.generations.get(_item_generation(item_id))
        if generation is not None:
            entries[_sold_out_key(item_id)] = str(generation)
    return entries


def learn(
    known: Known,
    *,
    buyer_id: int,
    root_id: int,
    use: Mapping[tuple[object, int | None], int],
    sold_out: Iterable[int] = (),
    now,
    after_commit_only: bool = False,
) -> None:
    """Remember ``use`` ({(rule, variant id or None): use}) and the ``sold_out`` item ids,
    found after ``known`` was read, under the generations read with it. With
    ``after_commit_only`` (an order's own use exists only once it commits) they are written
    when the current transaction commits, and dropped if it rolls back."""
    if not enabled() or not known.generations:
        return
    entries = _entries(known, buyer_id=buyer_id, root_id=root_id, use=use, sold_out=sold_out, now=now)
    if not entries:
        return
    store, seconds = _store(), _seconds()
    if after_commit_only:
        after_commit(lambda: _safely(lambda: store.write(entries, seconds), None))
    else:
        _safely(lambda: store.write(entries, seconds), None)


def gave_back(*, user_ids: Iterable[int] = (), item_ids: Iterable[int] = ()) -> None:
    """Use of these buyers and chains, or units of these festival items, come back when the
    current transaction commits: forget what is known of them then."""
    if not enabled():
        return
    keys = {_user_generation(user_id) for user_id in user_ids if user_id is not None}
    keys |= {_item_generation(item_id) for item_id in item_ids if item_id is not None}
    if keys:
        store = _store()
        after_commit(lambda: _safely(lambda: store.bump(sorted(keys)), None))
