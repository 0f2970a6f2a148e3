"""``python -m bench.hotspots DIR [PATTERN]``: summarise ``--profile`` output.

py-spy's raw format is one collapsed stack per line followed by its sample count. This
prints, per scenario file group, the share of samples each frame is on the stack
(inclusive) for frames from Killick, and the top frames where time is spent (self).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path


def summarise(files: list[Path], top: int = 15) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for path in files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            samples = int(count)
            frames = stack.split(";")
            total += samples
            own[frames[-1]] += samples
            for frame in set(frames):
                if "killick/" in frame or "bench/" in frame:
                    inclusive[frame] += samples
    if not total:
        return "  (no samples)\n"
    out = [f"  {total} samples"]
    out.append("  Killick frames on the stack (inclusive):")
    out += [f"    {n / total:6.1%}  {f}" for f, n in inclusive.most_common(top)]
    out.append("  where the time is spent (self):")
    out += [f"    {n / total:6.1%}  {f}" for f, n in own.most_common(top)]
    return "\n".join(out) + "\n"


def main() -> None:
    folder = Path(sys.argv[1])
    pattern = sys.argv[2] if len(sys.argv) > 2 else ""
    groups: dict[str, list[Path]] = {}
    for path in sorted(folder.glob("*.txt")):
        if pattern in path.name:
            groups.setdefault(path.stem.rsplit("-", 1)[0], []).append(path)
    for name, files in groups.items():
        print(f"{name}:")
        print(summarise(files))


if __name__ == "__main__":
    main()
