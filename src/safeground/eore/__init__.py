"""Explosive ordnance risk education: sessions, and which settlements to reach next.

``targeting`` ranks settlements by need with each factor's contribution shown (the pattern of
``landrelease.priority`` for clearance); ``sessions`` reads and summarises the sessions held;
``maps`` draws the ranking.
"""
