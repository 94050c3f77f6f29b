"""Device drivers: the only code that knows platform commands."""
