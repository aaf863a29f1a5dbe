"""Who may read what: the audience an output is made for, and the one policy every output applies.

``Audience`` (:mod:`safeground.access.audience`) is passed to every service that
returns stored data; :func:`safeground.access.policy.view` gives a layer as that
audience may read it (fields left out, positions generalised, victims
k-anonymous). The command line, the reports, the maps and the server all go
through it.
"""

from safeground.access.audience import ROLE_AUDIENCE, Audience
from safeground.access.policy import POLICY, FieldRule, RestrictedLayer, Treatment, View, view

__all__ = ["POLICY", "ROLE_AUDIENCE", "Audience", "FieldRule", "RestrictedLayer", "Treatment", "View", "view"]
