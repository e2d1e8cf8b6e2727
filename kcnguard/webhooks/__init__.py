"""What the API's webhook registration and the webhook delivery service share: the webhook and delivery
records and their collections, the URL checks, and signing."""
