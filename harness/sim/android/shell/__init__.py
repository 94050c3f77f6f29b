"""The device shell: ``/system/bin/sh`` (parser, expansions, redirections, built-ins)."""
