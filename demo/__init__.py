"""An offline demo marketplace with fictional KCN brands, served locally for demos and tests."""
