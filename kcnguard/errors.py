"""Errors that cross module boundaries, split by what the caller should do about them."""


class KcnGuardError(Exception):
    """Base of the project's own errors."""


class TransientError(KcnGuardError):
    """Worth retrying with backoff: a server is down or busy. Never a reason to drop a record."""


class BusUnavailable(TransientError):
    pass


class StoreUnavailable(TransientError):
    pass


class ConflictError(KcnGuardError):
    """A write lost a race: the document changed (or exists) since the caller read it."""


class NotFound(KcnGuardError):
    pass


class InvalidRecord(KcnGuardError):
    """A record that cannot be decoded or validated; it goes to the dead-letter topic."""


class RebalancedError(TransientError):
    """A consumer lost a partition to another group member before it could commit."""
