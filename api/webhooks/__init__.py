"""Webhooks to partner agencies: registration and the deliveries list (admin). Delivery runs in webhooks/."""
