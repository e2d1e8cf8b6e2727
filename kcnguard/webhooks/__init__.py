"""What the API's webhook registration and the webhook delivery service share: the webhook and delivery
records and their collections, the URL checks, and signing."""

# kcnguard.store.schema lists the collections declared in kcnguard.webhooks.collections; loading the store
# first lets either module be imported first without a half-initialised cycle.
import kcnguard.store  # noqa: F401
