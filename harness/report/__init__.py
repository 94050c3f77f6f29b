"""Reports of a run: the console summary, JSON results (JUnit goes through pytest's own)."""
