"""bgtest: prove that mobile background work runs under Doze, saver, force-stop, reboot.

The import package is ``harness``; the distribution and command are ``bgtest``.
"""

__version__ = "0.1.0"
