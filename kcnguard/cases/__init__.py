"""The one case flow: opening, re-scoring and moving a case, with its audit entry and its case event.

The classifier (which opens and re-scores cases) and the API (which moves them) both go
through kcnguard.cases.flow, so a case change made anywhere is audited and announced the same way.
"""
