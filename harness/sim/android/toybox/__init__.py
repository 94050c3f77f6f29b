"""Toybox programs the shell runs (``ls``, ``cat``, ``grep``, ``ps`` ...)."""
