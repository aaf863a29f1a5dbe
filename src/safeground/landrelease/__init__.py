"""Land release: accounting, prioritisation by impact, completion forecast."""
