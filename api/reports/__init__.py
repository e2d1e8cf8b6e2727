"""Reports received: suspect listing URLs sent in by enterprises, workers and consumers."""
