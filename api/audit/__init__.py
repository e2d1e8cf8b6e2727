"""The append-only, hash-chained log of every decision and case change."""
