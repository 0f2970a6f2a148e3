"""Killick's benchmark harness (issue 11): ``python -m bench`` or ``make bench``.

Starts what it needs on 127.0.0.1 (sandbox network, ``killick serve --workers 2``,
databases), measures every hot path against the HTTP stack's own floor, prints a table
and writes ``bench/results/latest.md`` and ``latest.json``. See docs/benchmarks.md.
"""
