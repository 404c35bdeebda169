"""Every Redis access of the leaderboards: keys, Lua scripts, encodings.

Layout (DESIGN.md section 7); all keys of a contest share one hash tag, so
a Redis Cluster keeps them in one slot and one script may touch them all:

- ``{p}:{contest:ID}:all``    sorted set, every participant (admin view)
- ``{p}:{contest:ID}:pub``    sorted set, participants not hidden
- ``{p}:{contest:ID}:meta``   hash, user id -> ``version|member|hidden``;
                              its ``_built`` field marks a complete board
- ``{p}:{contest:ID}:names``  hash, user id -> display name
- ``{p}:{contest:ID}:frozen`` sorted set, the public board at the freeze
- ``{p}:{contest:ID}:fmeta``  hash, like ``meta`` for the frozen board
- ``{p}:{contest:ID}:lock``   rebuild lock
- ``{p}:{contest:ID}:seq``    counter: the id of the next live event
- ``{p}:{contest:ID}:events`` pub/sub channel of the live events

Ordering. Redis orders equal scores by member, byte by byte, and every
read here walks a set from its lowest score. So the stored score is the
score negated when higher wins (``desc``), and the member is
``<reached_at in µs, 17 digits>:<user id, 12 digits>``: equal scores then
rank by who reached them first, then by user id, and ZRANK is the rank
under ``ties=earliest``. Under ``ties=shared`` the rank is one plus the
number of strictly better scores (ZCOUNT), O(log N) too. Scores stay exact
because contest bounds and totals are kept within ±2**53.

A board exists only when its ``meta`` hash has ``_built``: a flushed or
expired Redis reads as "missing", never as an empty or partial board.
Rebuilds write into temporary keys and rename them over the live ones.
"""

import json
import logging
import secrets
from collections.abc import Buffer, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, cast

import hiredis
from django.conf import settings
from django.db import connection
from django_redis import get_redis_connection
from redis import Redis
from redis.commands.core import Script

from contestplatform.memo import Memo
from contests.models import Contest, Order, State, Ties

logger = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MEMBER_TIME_DIGITS = 17
MEMBER_USER_DIGITS = 12
BUILT = "_built"
# The longest retention a contest may have (see ContestSerializer).
MAX_RETENTION = timedelta(days=365)

# Shared by the scripts: the rank of a member of a sorted set, or false.
_RANK_FN = """
local function rank_of(key, member, shared)
  local score = redis.call('ZSCORE', key, member)
  if not score then return false end
  if shared == '1' then
    return redis.call('ZCOUNT', key, '-inf', '(' .. score) + 1
  end
  return redis.call('ZRANK', key, member) + 1
end
local function member_of(value)
  local first = string.find(value, '|', 1, true)
  local second = string.find(value, '|', first + 1, true)
  return string.sub(value, first + 1, second - 1), string.sub(value, second + 1)
end
-- Event ids: a counter that starts at Redis' clock in microseconds, so ids
-- keep growing across a restart that lost the counter.
local function next_id(key)
  if redis.call('EXISTS', key) == 0 then
    local now = redis.call('TIME')
    local base = tonumber(now[1]) * 1000000 + tonumber(now[2])
    redis.call('SET', key, string.format('%.0f', base))
  end
  return redis.call('INCR', key)
end
-- cjson writes numbers with 14 significant digits; ids and scores need
-- all of theirs, so integers are written as text.
local function int_json(n)
  if n then return string.format('%.0f', n) end
  return 'null'
end
local function names_of(names_key, rows)
  local ids = {}
  for i = 1, #rows, 2 do
    ids[#ids + 1] = tostring(tonumber(string.sub(rows[i], %d)))
  end
  if #ids == 0 then return {} end
  return redis.call('HMGET', names_key, unpack(ids))
end
""".replace("%d", str(MEMBER_TIME_DIGITS + 2))

# KEYS: all, pub, meta, names, seq
# ARGV: user id, version, member, stored score, hidden (0|1), display name,
#       expire-at (unix s), shared ties (0|1), events channel, frozen (0|1),
#       score, reached_at (ISO 8601)
# Returns {applied (1) | stale (0) | missing board (-1), public rank, total,
# event id or false}. A visible change is published on the channel, with
# an id from the contest's sequence, in the same atomic step.
_APPLY = (
    _RANK_FN
    + """
if redis.call('HEXISTS', KEYS[3], '_built') == 0 then return {-1, false, 0, false} end
local current = redis.call('HGET', KEYS[3], ARGV[1])
local member = ARGV[3]
local old_rank, old_hidden, old_score = false, nil, nil
if current then
  local sep = string.find(current, '|', 1, true)
  local old
  old, old_hidden = member_of(current)
  if tonumber(string.sub(current, 1, sep - 1)) >= tonumber(ARGV[2]) then
    return {0, rank_of(KEYS[2], old, ARGV[8]), redis.call('ZCARD', KEYS[2]), false}
  end
  old_rank = rank_of(KEYS[2], old, ARGV[8])
  old_score = redis.call('ZSCORE', KEYS[1], old)
  if old ~= member then
    redis.call('ZREM', KEYS[1], old)
    redis.call('ZREM', KEYS[2], old)
  end
end
redis.call('ZADD', KEYS[1], ARGV[4], member)
if ARGV[5] == '0' then
  redis.call('ZADD', KEYS[2], ARGV[4], member)
else
  redis.call('ZREM', KEYS[2], member)
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2] .. '|' .. member .. '|' .. ARGV[5])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[6])
for i = 1, 4 do redis.call('EXPIREAT', KEYS[i], ARGV[7]) end
local rank = rank_of(KEYS[2], member, ARGV[8])
local total = redis.call('ZCARD', KEYS[2])
local visible = (not current) or old_hidden ~= ARGV[5] or old_rank ~= rank
  or tonumber(old_score) ~= tonumber(ARGV[4])
if not visible then return {1, rank, total, false} end
local id = next_id(KEYS[5])
redis.call('EXPIREAT', KEYS[5], ARGV[7])
redis.call('PUBLISH', ARGV[9], '{"id":' .. int_json(id) .. ',"type":"change"'
  .. ',"user_id":' .. ARGV[1] .. ',"display_name":' .. cjson.encode(ARGV[6])
  .. ',"score":' .. ARGV[11] .. ',"reached_at":' .. cjson.encode(ARGV[12])
  .. ',"rank":' .. int_json(rank) .. ',"old_rank":' .. int_json(old_rank)
  .. ',"total":' .. int_json(total)
  .. ',"hidden":' .. (ARGV[5] == '1' and 'true' or 'false')
  .. ',"frozen":' .. (ARGV[10] == '1' and 'true' or 'false') .. '}')
return {1, rank, total, id}
"""
)

# KEYS: board, names, meta.  ARGV: offset, limit, shared (0|1)
# Returns false for a missing board, else {total, first rank, rows, names}.
_PAGE = (
    _RANK_FN
    + """
if redis.call('HEXISTS', KEYS[3], '_built') == 0 then return false end
local total = redis.call('ZCARD', KEYS[1])
local first = tonumber(ARGV[1])
local rows = redis.call('ZRANGE', KEYS[1], first, first + tonumber(ARGV[2]) - 1,
                        'WITHSCORES')
local first_rank = first + 1
if ARGV[3] == '1' and #rows > 0 then
  first_rank = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. rows[2]) + 1
end
return {total, first_rank, rows, names_of(KEYS[2], rows)}
"""
)

# KEYS: board, names, meta.  ARGV: user id, neighbours, shared (0|1)
# Returns false for a missing board; {total} when the user is not on it;
# else {total, offset of the first row, first rank, rows, names, own rank}.
_AROUND = (
    _RANK_FN
    + """
if redis.call('HEXISTS', KEYS[3], '_built') == 0 then return false end
local total = redis.call('ZCARD', KEYS[1])
local current = redis.call('HGET', KEYS[3], ARGV[1])
if not current then return {total} end
local member = member_of(current)
local position = redis.call('ZRANK', KEYS[1], member)
if not position then return {total} end
local k = tonumber(ARGV[2])
local low = position - k
if low < 0 then low = 0 end
local rows = redis.call('ZRANGE', KEYS[1], low, position + k, 'WITHSCORES')
local first_rank = low + 1
if ARGV[3] == '1' then
  first_rank = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. rows[2]) + 1
end
return {total, low, first_rank, rows, names_of(KEYS[2], rows),
        rank_of(KEYS[1], member, ARGV[3])}
"""
)

# KEYS: board, names, meta.  ARGV: shared (0|1), user ids...
# Returns false for a missing board, else {total, rows, ranks, names} with
# only the users that are on the board.
_USERS = (
    _RANK_FN
    + """
if redis.call('HEXISTS', KEYS[3], '_built') == 0 then return false end
local rows, ranks = {}, {}
for i = 2, #ARGV do
  local current = redis.call('HGET', KEYS[3], ARGV[i])
  if current then
    local member = member_of(current)
    local rank = rank_of(KEYS[1], member, ARGV[1])
    if rank then
      rows[#rows + 1] = member
      rows[#rows + 1] = redis.call('ZSCORE', KEYS[1], member)
      ranks[#ranks + 1] = rank
    end
  end
end
return {redis.call('ZCARD', KEYS[1]), rows, ranks, names_of(KEYS[2], rows)}
"""
)

# Rename each temporary key over its live one; a temporary key that does
# not exist (an empty set) deletes the live key instead. The old board is
# UNLINKed first: RENAME over it, or DEL, would free 10^6 members inside
# this script and block Redis past the clients' socket timeout; UNLINK
# frees them in a background thread.
# KEYS: tmp1, live1, tmp2, live2, ...
_SWAP = """
for i = 1, #KEYS, 2 do
  redis.call('UNLINK', KEYS[i + 1])
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('RENAME', KEYS[i], KEYS[i + 1])
  end
end
return 1
"""

# KEYS: seq.  ARGV: channel, event (a non-empty JSON object, no id),
# expire-at. The id is spliced in as text (see int_json).
_PUBLISH = (
    _RANK_FN
    + """
local id = next_id(KEYS[1])
redis.call('EXPIREAT', KEYS[1], ARGV[3])
local body = string.sub(ARGV[2], 2)
redis.call('PUBLISH', ARGV[1], '{"id":' .. int_json(id) .. ',' .. body)
return id
"""
)

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def client() -> Redis:
    return get_redis_connection("default")  # type: ignore[no-any-return]


class _Scripts:
    """The Lua scripts, registered once per process (EVALSHA, NOSCRIPT-safe)."""

    def __init__(self) -> None:
        self._scripts: dict[str, Script] = {}

    def __call__(self, name: str, source: str) -> Script:
        script = self._scripts.get(name)
        if script is None:
            script = client().register_script(source)
            self._scripts[name] = script
        return script


_scripts = _Scripts()


@dataclass(frozen=True)
class Keys:
    all: str
    pub: str
    meta: str
    names: str
    frozen: str
    fmeta: str
    lock: str
    frozen_lock: str
    seq: str
    events: str

    @classmethod
    def of(cls, contest_id: int) -> "Keys":
        base = f"{settings.REDIS_KEY_PREFIX}:{{contest:{contest_id}}}"
        return cls(
            all=f"{base}:all",
            pub=f"{base}:pub",
            meta=f"{base}:meta",
            names=f"{base}:names",
            frozen=f"{base}:frozen",
            fmeta=f"{base}:fmeta",
            lock=f"{base}:lock",
            frozen_lock=f"{base}:flock",
            seq=f"{base}:seq",
            events=f"{base}:events",
        )


@dataclass(frozen=True)
class Row:
    user_id: int
    score: int
    reached_at: datetime
    rank: int
    display_name: str

    @cached_property
    def reached_at_text(self) -> str:
        """``reached_at`` as the API writes times: ISO 8601, UTC as ``Z``.

        Worked out once per row: the rows of a popular page are decoded
        once and served many times (see ``_rows``).
        """
        return iso_utc(self.reached_at)


def iso_utc(moment: datetime) -> str:
    """Format a time as DRF's DateTimeField does: ISO 8601, UTC as ``Z``."""
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@dataclass(frozen=True)
class Page:
    total: int
    rows: list[Row]


@dataclass(frozen=True)
class Around:
    total: int
    rank: int | None
    rows: list[Row]


@dataclass(frozen=True)
class BoardEntry:
    """What the board needs of an Entry to place it."""

    user_id: int
    score: int
    reached_at: datetime
    version: int
    hidden: bool
    display_name: str


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def member(*, user_id: int, reached_at: datetime) -> str:
    return (
        f"{micros(reached_at):0{MEMBER_TIME_DIGITS}d}:{user_id:0{MEMBER_USER_DIGITS}d}"
    )


def stored_score(contest: Contest, score: int) -> int:
    return -score if contest.order == Order.DESC else score


def _decode_member(raw: bytes | str) -> tuple[int, datetime]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    time_part, user_part = text.split(":")
    reached_at = EPOCH + timedelta(microseconds=int(time_part))
    return int(user_part), reached_at


def _shared(contest: Contest) -> str:
    return "1" if contest.ties == Ties.SHARED else "0"


# Decoded rows per process, by the exact reply they came from. Reads of a
# popular page return the same reply until the board changes, and decoding
# 50 members costs several times the round trip that fetched them.
_decoded: Memo[tuple[Any, ...], tuple[Row, ...]] = Memo(512)


def _rows(
    contest: Contest,
    raw: Sequence[Any],
    names: Sequence[Any],
    first_rank: int,
    offset: int,
) -> list[Row]:
    """Decode ZRANGE WITHSCORES output into ranked rows."""
    key = (contest.order, contest.ties, first_rank, offset, tuple(raw), tuple(names))
    kept = _decoded.get(key)
    if kept is not None:
        return list(kept)
    rows: list[Row] = []
    previous: int | None = None
    for index in range(0, len(raw), 2):
        user_id, reached_at = _decode_member(raw[index])
        score = int(float(raw[index + 1]))
        score = -score if contest.order == Order.DESC else score
        position = offset + index // 2
        if not rows:
            rank = first_rank
        elif contest.ties == Ties.SHARED and score == previous:
            rank = rows[-1].rank
        else:
            rank = position + 1
        name = names[index // 2] if index // 2 < len(names) else None
        rows.append(
            Row(
                user_id=user_id,
                score=score,
                reached_at=reached_at,
                rank=rank,
                display_name=name.decode()
                if isinstance(name, bytes)
                else str(name or ""),
            )
        )
        previous = score
    _decoded.put(key, tuple(rows))
    return rows


def _expire_at(contest: Contest) -> int:
    return int(contest.board_expires_at.timestamp())


@dataclass(frozen=True)
class Applied:
    status: int  # 1 applied, 0 stale (nothing changed), -1 board missing
    rank: int | None
    total: int


def apply(contest: Contest, entry: BoardEntry) -> Applied:
    """Apply an entry's new state to the live board, if its version is newer.

    A visible change (rank, score or hidden flag) is published for the live
    streams in the same script, so an event never describes a board that
    did not exist.
    """
    keys = Keys.of(contest.pk)
    status, rank, total, _event = _scripts("apply", _APPLY)(
        keys=[keys.all, keys.pub, keys.meta, keys.names, keys.seq],
        args=[
            entry.user_id,
            entry.version,
            member(user_id=entry.user_id, reached_at=entry.reached_at),
            stored_score(contest, entry.score),
            int(entry.hidden),
            entry.display_name,
            _expire_at(contest),
            _shared(contest),
            keys.events,
            int(contest.state == State.FROZEN),
            entry.score,
            entry.reached_at.isoformat().replace("+00:00", "Z"),
        ],
    )
    return Applied(
        status=int(status), rank=int(rank) if rank else None, total=int(total)
    )


def publish(contest: Contest, event: dict[str, Any]) -> None:
    """Publish a board-wide event (reset, final) with the next id."""
    keys = Keys.of(contest.pk)
    _scripts("publish", _PUBLISH)(
        keys=[keys.seq], args=[keys.events, json.dumps(event), _expire_at(contest)]
    )


def _board_keys(contest: Contest, *, frozen: bool, everyone: bool) -> list[str]:
    keys = Keys.of(contest.pk)
    if frozen:
        return [keys.frozen, keys.names, keys.fmeta]
    return [keys.all if everyone else keys.pub, keys.names, keys.meta]


def page(
    contest: Contest,
    *,
    offset: int,
    limit: int,
    frozen: bool = False,
    everyone: bool = False,
) -> Page | None:
    """Return a page of the board, or None when the board is missing."""
    result = _scripts("page", _PAGE)(
        keys=_board_keys(contest, frozen=frozen, everyone=everyone),
        args=[offset, limit, _shared(contest)],
    )
    if not result:
        return None
    total, first_rank, raw, names = result
    return Page(
        total=int(total), rows=_rows(contest, raw, names, int(first_rank), offset)
    )


def around(
    contest: Contest,
    *,
    user_id: int,
    neighbours: int,
    frozen: bool = False,
    everyone: bool = False,
) -> Around | None:
    """Return a user's rank with up to ``neighbours`` rows above and below."""
    result = _scripts("around", _AROUND)(
        keys=_board_keys(contest, frozen=frozen, everyone=everyone),
        args=[user_id, neighbours, _shared(contest)],
    )
    if not result:
        return None
    if len(result) == 1:
        return Around(total=int(result[0]), rank=None, rows=[])
    total, low, first_rank, raw, names, rank = result
    rows = _rows(contest, raw, names, int(first_rank), int(low))
    return Around(total=int(total), rank=int(rank), rows=rows)


def users(
    contest: Contest,
    *,
    user_ids: Iterable[int],
    frozen: bool = False,
    everyone: bool = False,
) -> Page | None:
    """Return the given users that are on the board, with their ranks."""
    result = _scripts("users", _USERS)(
        keys=_board_keys(contest, frozen=frozen, everyone=everyone),
        args=[_shared(contest), *user_ids],
    )
    if not result:
        return None
    total, raw, ranks, names = result
    rows = _rows(contest, raw, names, 1, 0)
    ranked = [
        Row(r.user_id, r.score, r.reached_at, int(rank), r.display_name)
        for r, rank in zip(rows, ranks, strict=True)
    ]
    return Page(total=int(total), rows=ranked)


def is_built(contest: Contest, *, frozen: bool = False) -> bool:
    keys = Keys.of(contest.pk)
    return bool(client().hexists(keys.fmeta if frozen else keys.meta, BUILT))


class Lock:
    """A Redis lock with an owner token, released only by its owner."""

    def __init__(self, key: str, *, ttl_ms: int = 120_000) -> None:
        self.key = key
        self.ttl_ms = ttl_ms
        self.token = secrets.token_hex(8)

    def acquire(self) -> bool:
        return bool(client().set(self.key, self.token, nx=True, px=self.ttl_ms))

    def release(self) -> None:
        _scripts("release", _RELEASE)(keys=[self.key], args=[self.token])


CHUNK = 5_000
# A row as the board writer takes it, every value already in its Redis
# form: user id, stored score, member, version, hidden, display name.
type Text = str | bytes
type BoardRow = tuple[Text, Text, Text, Text, bool, Text]


def write_board(
    contest: Contest, entries: Iterable[BoardEntry], *, frozen: bool = False
) -> int:
    """Replace the live (or frozen) board with ``entries``; see ``_write_rows``."""
    rows = (
        (
            str(entry.user_id),
            str(stored_score(contest, entry.score)),
            member(user_id=entry.user_id, reached_at=entry.reached_at),
            str(entry.version),
            entry.hidden,
            entry.display_name,
        )
        for entry in entries
    )
    return _write_rows(contest, rows, frozen=frozen)


def write_board_query(
    contest: Contest, sql: str, params: Sequence[Any], *, frozen: bool = False
) -> int:
    """Replace the board with the rows of a query, streamed out of PostgreSQL.

    ``sql`` selects ``user_id, score, reached_at, version, hidden,
    display_name``. PostgreSQL formats each row the way the board stores
    it (the member string included) and sends it with COPY, so Python only
    moves strings: at 10^6 entries this is several times faster than
    building an object per entry.
    """
    with connection.cursor() as cursor:
        statement = f"COPY ({_board_rows_sql(contest, sql)}) TO STDOUT"
        with cursor.cursor.copy(statement, params) as copy:
            return _write_rows(contest, _copy_rows(copy), frozen=frozen)


def _copy_rows(copy: Iterable[Buffer]) -> Iterator[BoardRow]:
    """Split COPY's text output into rows, as bytes, without decoding them.

    Only the display name (last) can hold a character COPY escapes; every
    other column is digits, signs and colons.
    """
    rest = b""
    for block in copy:
        lines = (rest + bytes(block)).split(b"\n")
        rest = lines.pop()
        for line in lines:
            user_id, score, name, version, hidden, display_name = line.split(b"\t")
            if b"\\" in display_name:
                display_name = _unescape(display_name)
            yield user_id, score, name, version, hidden == b"t", display_name


def _unescape(value: bytes) -> bytes:
    # COPY's text format escapes a backslash, tab, newline or carriage
    # return in a value with a backslash.
    return value.decode("unicode_escape").encode("latin-1")


def _board_rows_sql(contest: Contest, sql: str) -> str:
    # The member as ``member()`` writes it: EXTRACT(EPOCH) is an exact
    # numeric, so the microseconds match Python's to the last digit. Rows
    # come in board order: Redis inserts into a sorted set about twice as
    # fast in order as at random (measured at 10^6), for a sort here.
    sign = "-" if contest.order == Order.DESC else ""
    return f"""
        SELECT q.user_id, {sign}q.score,
               lpad((extract(epoch FROM q.reached_at) * 1000000)::bigint::text,
                    {MEMBER_TIME_DIGITS}, '0')
               || ':' || lpad(q.user_id::text, {MEMBER_USER_DIGITS}, '0'),
               q.version, q.hidden, q.display_name
        FROM ({sql}) AS q (user_id, score, reached_at, version, hidden,
                            display_name)
        ORDER BY 2, 3
    """  # noqa: S608 - only fixed fragments are interpolated


def _write_rows(contest: Contest, rows: Iterable[BoardRow], *, frozen: bool) -> int:
    """Write ``rows`` into temporary keys, then swap them over the live ones.

    One command per key and chunk of rows, then one script renames the
    keys: readers see the old board or the new one, never a half-written
    one. Returns the count.
    """
    keys = Keys.of(contest.pk)
    suffix = f"~{secrets.token_hex(4)}"
    if frozen:
        live = [keys.frozen, keys.fmeta, keys.names]
    else:
        live = [keys.all, keys.pub, keys.meta, keys.names]
    tmp = {key: key + suffix for key in live}
    redis = client()
    count = 0
    try:
        for chunk in _chunked(rows):
            count += len(chunk)
            _write_chunk(redis, chunk, tmp, keys, frozen=frozen)
        pipe = redis.pipeline(transaction=False)
        marker = tmp[keys.fmeta if frozen else keys.meta]
        pipe.hset(marker, BUILT, micros(datetime.now(UTC)))
        for key in tmp.values():
            pipe.expireat(key, _expire_at(contest))
        pipe.execute()
        if frozen:
            # Names are shared with the live board: the frozen build adds to
            # them, only a live rebuild replaces them.
            _merge_names(redis, tmp[keys.names], keys.names, contest)
            swap = [keys.frozen, keys.fmeta]
        else:
            swap = [keys.all, keys.pub, keys.meta, keys.names]
        _scripts("swap", _SWAP)(
            keys=[k for key in swap for k in (tmp[key], key)], args=[]
        )
    finally:
        redis.unlink(*tmp.values())
    return count


def _chunked(rows: Iterable[BoardRow]) -> Iterator[list[BoardRow]]:
    chunk: list[BoardRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _write_chunk(
    redis: Redis,
    chunk: list[BoardRow],
    tmp: dict[str, str],
    keys: Keys,
    *,
    frozen: bool,
) -> None:
    """Send one chunk of rows: one command per key."""
    scored: list[Text] = []
    public: list[Text] = []
    meta: list[Text] = []
    names: list[Text] = []
    for user_id, score, name, version, hidden, display_name in chunk:
        names += (user_id, display_name)
        if not hidden:
            public += (score, name)
        if frozen:
            if not hidden:
                meta += (user_id, _meta(b"0", name, False))
            continue
        scored += (score, name)
        meta += (user_id, _meta(version, name, hidden))
    # The public set is sent a second time, not copied from the full one
    # inside Redis: a COPY of 10^6 members blocked Redis for longer than
    # the clients' socket timeout (docs/performance.md).
    commands: list[tuple[Text, ...]] = [("HSET", tmp[keys.names], *names)]
    if frozen:
        if public:
            commands.append(("ZADD", tmp[keys.frozen], *public))
            commands.append(("HSET", tmp[keys.fmeta], *meta))
    else:
        commands.append(("ZADD", tmp[keys.all], *scored))
        if public:
            commands.append(("ZADD", tmp[keys.pub], *public))
        commands.append(("HSET", tmp[keys.meta], *meta))
    _send(redis, commands)


def _meta(version: Text, name: Text, hidden: bool) -> bytes:
    """The ``meta`` hash value: ``version|member|hidden``."""
    version = version.encode() if isinstance(version, str) else version
    name = name.encode() if isinstance(name, str) else name
    return b"%s|%s|%s" % (version, name, b"1" if hidden else b"0")


def _send(redis: Redis, commands: list[tuple[Text, ...]]) -> None:
    """Pipeline flat commands, packed by hiredis, on one pooled connection.

    redis-py's pipeline checks every argument in Python before hiredis
    packs it; at 10^6 entries (6 * 10^6 arguments) that was a third of the
    rebuild. Replies are read all the same, so an error reply raises.
    """
    pool = redis.connection_pool
    conn = cast(Any, pool.get_connection())
    try:
        packed = [hiredis.pack_command(cast(Any, command)) for command in commands]
        conn.send_packed_command(packed)
        for _ in commands:
            conn.read_response()
    except BaseException:
        # A half-read pipeline must not go back to the pool.
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


def _merge_names(redis: Redis, source: str, target: str, contest: Contest) -> None:
    names = redis.hgetall(source)
    if names:
        redis.hset(target, mapping=names)  # type: ignore[arg-type]
        redis.expireat(target, _expire_at(contest))


def drop_frozen(contest: Contest) -> None:
    """Forget the frozen board; the next public read rebuilds it."""
    keys = Keys.of(contest.pk)
    client().unlink(keys.frozen, keys.fmeta)


def drop(contest: Contest) -> None:
    keys = Keys.of(contest.pk)
    client().unlink(keys.all, keys.pub, keys.meta, keys.names, keys.frozen, keys.fmeta)


def set_name(contest_ids: Iterable[int], *, user_id: int, display_name: str) -> None:
    """Update a renamed user's display name on the live boards that have it."""
    pipe = client().pipeline(transaction=False)
    for contest_id in contest_ids:
        keys = Keys.of(contest_id)
        # HSETEX would be neater, but only an existing hash may be touched:
        # a name written into a missing board would outlive its TTL.
        pipe.eval(
            "if redis.call('EXISTS', KEYS[1]) == 1 then "
            "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end return 1",
            1,
            keys.names,
            user_id,
            display_name,
        )
    pipe.execute()


def board_snapshot(contest: Contest) -> dict[int, tuple[int, datetime, bool]]:
    """Read the whole live board: user id -> (score, reached_at, hidden)."""
    keys = Keys.of(contest.pk)
    redis = client()
    result: dict[int, tuple[int, datetime, bool]] = {}
    start = 0
    while True:
        chunk = redis.zrange(keys.all, start, start + CHUNK - 1, withscores=True)
        for raw_member, raw_score in cast(list[tuple[bytes, float]], chunk):
            user_id, reached_at = _decode_member(raw_member)
            score = int(raw_score)
            result[user_id] = (
                -score if contest.order == Order.DESC else score,
                reached_at,
                False,
            )
        if len(chunk) < CHUNK:
            break
        start += CHUNK
    for field, value in redis.hscan_iter(keys.meta, count=CHUNK):
        text = value.decode() if isinstance(value, bytes) else str(value)
        if text.endswith("|1"):
            user_id = int(field)
            if user_id in result:
                score, reached_at, _ = result[user_id]
                result[user_id] = (score, reached_at, True)
    return result
