"""Flagged listings and the stored history of each listing."""
