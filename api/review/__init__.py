"""The inspectors' review queue: flagged listings and received reports, listing detail, decisions."""
