"""Webhooks to partner agencies: registration (admin), signing, and the delivery service."""
