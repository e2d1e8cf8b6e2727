"""The HTTP API and the inspectors' portal: `api.main:create_app(settings)`."""
