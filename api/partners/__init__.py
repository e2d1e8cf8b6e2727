"""The partner API: agencies pull the cases referred to them, acknowledge them and report actions."""
