"""Who is calling: API keys, roles and the scopes each role carries."""
