"""Offline tools over the crawler's parsers: the replay server, `kcnguard extract`, the web-shop evaluation.

Nothing here runs inside the crawler service; the service never imports this package.
"""
