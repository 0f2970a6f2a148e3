"""How the memory scenario reads an RSS trace (synthetic traces; nothing is timed)."""

from __future__ import annotations

from bench.stellar import memory_verdict

Trace = list[tuple[float, float, int, int]]


def trace(rss_of_work: list[float], step: int = 1000) -> Trace:
    """Samples 5 s apart; the worker hands ``step`` deposits to the hook per sample."""
    return [(i * 5.0, mb, (i + 1) * step, 0) for i, mb in enumerate(rss_of_work)]


def test_warm_up_then_level_is_flat() -> None:
    rss = [150 + min(i, 10) * 5 for i in range(40)]  # +50 MB over the first 10k, then level
    verdict = memory_verdict(trace(rss))
    assert verdict["flat"] is True
    assert verdict["growth_second_half_mb"] == 0


def test_growth_in_proportion_to_work_is_a_leak() -> None:
    rss = [150 + i * 1.0 for i in range(40)]  # 1 MB per 1,000 deposits, all along
    verdict = memory_verdict(trace(rss))
    assert verdict["flat"] is False
    assert verdict["shape"] == "grows with the work done (leak?)"


def test_growth_slowing_down_is_warm_up_not_yet_over() -> None:
    rss = [150 + 60 * (1 - 0.93**i) for i in range(40)]
    verdict = memory_verdict(trace(rss))
    assert verdict["flat"] is False
    assert verdict["shape"] == "still warming up (growth slowing down)"


def test_one_transient_peak_decides_nothing() -> None:
    rss = [200.0] * 40
    rss[35] = 260.0
    assert memory_verdict(trace(rss))["flat"] is True


def test_a_worker_that_does_no_work_gets_no_verdict() -> None:
    stalled = [(i * 5.0, 150.0 + i, 0, 0) for i in range(40)]
    assert memory_verdict(stalled)["flat"] is None
    little = [(i * 5.0, 150.0, 10 * i, 0) for i in range(1, 40)]
    assert memory_verdict(little)["flat"] is None
