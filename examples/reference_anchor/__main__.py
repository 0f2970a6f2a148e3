"""``python -m examples.reference_anchor arrive <transaction id> [--amount N]``: the
operator's way to say a deposit's bank transfer arrived (LOCAL_MODE only)."""

from __future__ import annotations

import argparse
import sys

from killick.money import parse_amount
from killick.settings import load_settings

from . import store


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.reference_anchor")
    commands = parser.add_subparsers(dest="command", required=True)
    arrive = commands.add_parser("arrive", help="a deposit's bank transfer arrived")
    arrive.add_argument("transaction_id")
    arrive.add_argument("--amount", default=None)
    args = parser.parse_args()
    if not load_settings().LOCAL_MODE:
        print("the simulated bank only runs with LOCAL_MODE=1", file=sys.stderr)
        return 2
    amount = parse_amount(args.amount) if args.amount else None
    store.mark_deposit_arrived(args.transaction_id, amount)
    print(f"deposit {args.transaction_id}: bank transfer arrived")
    return 0


if __name__ == "__main__":
    sys.exit(main())
