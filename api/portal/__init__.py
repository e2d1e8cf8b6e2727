"""The small server-rendered portal where inspectors and enterprises read flagged listings."""
