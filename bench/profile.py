"""Summarize a py-spy collapsed-stack profile (`--py-spy`): where the server's CPU goes.

python -m bench.profile var/bench/profile-ingest-sqlite.txt
"""

from __future__ import annotations

import sys
from collections import Counter

WATCH = [
    ("create_batch", "the batch route, end to end (thread pool)"),
    ("ingest_batch", "EventService.ingest_batch"),
    ("parse_event", "validation + payload hash"),
    ("canonical", "canonical JSON for the hash"),
    ("find_many", "dedup lookup (SELECT … IN)"),
    ("add_many", "events insert"),
    ("to_row", "shallow field copy per row"),
    ("_compile_w_cache", "SQL compilation"),
    ("commit", "COMMIT"),
    ("authenticate", "API-key lookup"),
    ("serializers.event", "response serialization"),
    ("render", "response JSON"),
    ("loads", "request JSON parse"),
]


def summarize(path: str, top: int = 15) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            n = int(count)
            total += n
            names = [frame.split(" (")[0] for frame in stack.split(";")]
            for name in set(names):
                inclusive[name] += n
            own[names[-1]] += n
    lines = [f"{total} samples (all threads, idle included)", "inclusive:"]
    for name, what in WATCH:
        hits = sum(c for k, c in inclusive.items() if k == name or k.endswith("." + name))
        if hits:
            lines.append(f"  {100 * hits / total:5.1f}%  {name:20s} {what}")
    lines.append("self:")
    lines += [f"  {100 * c / total:5.1f}%  {k}" for k, c in own.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(summarize(sys.argv[1]))
