"""pytest plugin (entry point ``pytest11: bgtest``): scenario files become test items.

Placeholder until ``bgtest run`` lands: registering nothing keeps pytest unaffected.
"""
