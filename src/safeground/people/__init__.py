"""The people behind the figures: victim assistance for survivors and families, and the missing.

* :mod:`safeground.people.assistance`: needs and services per victim in the Landmine Monitor / CRPD
  categories, and the figures a victims' association defends (public only aggregated, small cells
  suppressed);
* :mod:`safeground.people.missing`: human remains finds ranked against the missing-persons registry,
  with each factor's contribution and the reasons; a person confirms; handovers.
"""
