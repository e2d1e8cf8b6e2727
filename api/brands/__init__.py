"""Registered brands: the things KCN Guard watches the marketplaces for."""
