"""Settings packages: ``base`` holds everything, the others set defaults.

Every environment reads the same variables (see ``.env.example``); the
modules beside ``base`` only choose safe defaults for where they run.
"""
