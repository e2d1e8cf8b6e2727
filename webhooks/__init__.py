"""The webhook delivery service (`kcnguard webhooks`): case events in, signed POSTs to partner agencies out."""
