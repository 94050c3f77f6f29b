"""bgtest: prove that mobile background work runs under Doze, saver, force-stop, reboot.

The import package is ``harness``, the command ``bgtest``; the distribution is ``bgtest-mobile``
(``bgtest`` and ``harness`` are other projects' names on PyPI).
"""

__version__ = "0.1.0"
