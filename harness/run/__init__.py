"""Running scenarios: what happens around the steps (interrupts, the state ledger)."""
