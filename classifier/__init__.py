"""The classifier service: scores raw listings against the registered brands and opens cases."""
