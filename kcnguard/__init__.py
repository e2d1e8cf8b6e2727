"""KCN Guard's shared package: record schemas, topic names, the bus, the store, settings."""

__version__ = "0.1.0"
