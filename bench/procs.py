"""Child processes the bench starts (sandbox, ``killick serve``, ``killick worker``):
started on 127.0.0.1, waited for, measured (RSS from /proc) and always stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.machine import REPO


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(settings: dict[str, str]) -> dict[str, str]:
    """The environment for a killick child: ours, the bench package importable, and
    ``settings`` (the children run in a scratch directory, so no stray .env is read)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KILLICK_BENCH_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(settings)
    return env


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{' '.join(map(str, process.args))} exited ({process.returncode})")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up in {seconds:.0f}s")


@contextlib.contextmanager
def python(
    args: list[str], env: dict[str, str], workdir: Path, log_name: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``python ARGS`` (e.g. ``-m killick serve``) in its own process group; SIGTERM
    it (then its group, SIGKILL) on the way out. Output goes to ``workdir/log_name``."""
    log = (workdir / log_name).open("ab")
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, *args],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # our own child's group only
            process.wait(timeout=grace)


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def memory_kb(pid: int, field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of a process in kB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_mb(pid: int) -> dict[str, float]:
    """Peak RSS (VmHWM) of a process tree: the largest single process and the sum."""
    peaks = [memory_kb(p, "VmHWM") for p in descendants(pid)]
    peaks = [p for p in peaks if p]
    return {
        "processes": len(peaks),
        "largest_mb": round(max(peaks, default=0) / 1024, 1),
        "total_mb": round(sum(peaks) / 1024, 1),
    }
