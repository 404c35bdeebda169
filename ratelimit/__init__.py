"""Rate limiting in Redis: one atomic Lua script, DRF throttles, headers.

``limiter`` holds the algorithm (GCRA) and the only Redis call,
``throttles`` the DRF classes by scope, ``identity`` who is charged,
``headers`` and ``middleware`` the RateLimit header fields, ``checks``
the system checks. The app imports no other app of the project.
"""
