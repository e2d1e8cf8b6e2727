"""The registry of KCN enterprises: who owns the brands KCN Guard watches."""
