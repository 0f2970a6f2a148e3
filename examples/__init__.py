"""Examples of anchors built on Killick."""
