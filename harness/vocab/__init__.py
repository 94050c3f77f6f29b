"""Task-event vocabularies as data files (`*.yaml`), read by `harness.logs.vocab`."""
