"""Device logs: records, parsers (logcat, unified log), the per-device journal, vocabularies
that turn lines into task events, and the expectation engine that judges them."""
