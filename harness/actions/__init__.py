"""The actions a scenario step can take, one module per family (``app``, ``power``,
``network``, ``system``, ``tasks``, ``flow``); :mod:`harness.actions.registry` lists them.

Nothing is imported here, so ``harness.actions.base`` stays cheap for the drivers' typing.
"""
