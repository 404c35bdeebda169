"""A bounded per-process memo for the hot paths."""

from collections.abc import Hashable


class Memo[K: Hashable, V]:
    """Values kept by a key that fully determines them, up to ``size`` of them.

    When full it forgets everything at once: cruder than LRU, but a hit
    costs one dict lookup and nothing else, which is the point on a path
    that runs on every request. Shared by a process's threads; under the
    GIL a race costs at most a value computed twice.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._values.get(key)

    def put(self, key: K, value: V) -> None:
        if len(self._values) >= self.size:
            self._values.clear()
        self._values[key] = value

    def discard(self, key: K) -> None:
        self._values.pop(key, None)

    def clear(self) -> None:
        self._values.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __len__(self) -> int:
        return len(self._values)
