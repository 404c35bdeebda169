"""The bounded per-process memo of the hot paths."""

from contestplatform.memo import Memo


def test_it_keeps_values_until_it_is_full_then_forgets_them_all() -> None:
    memo: Memo[str, int] = Memo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert (memo.get("a"), memo.get("b"), len(memo)) == (1, 2, 2)

    memo.put("c", 3)

    assert "a" not in memo
    assert memo.get("b") is None
    assert (memo.get("c"), len(memo)) == (3, 1)


def test_a_value_can_be_dropped_or_replaced() -> None:
    memo: Memo[str, int] = Memo(10)
    memo.put("a", 1)
    memo.put("a", 2)
    assert memo.get("a") == 2

    memo.discard("a")
    memo.discard("never there")

    assert "a" not in memo
    assert len(memo) == 0
