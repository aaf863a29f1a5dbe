"""Quality management: QA/QC inspections of activities and residual contamination investigations.

``inspections`` records, lists and closes inspections and their non-conformities;
``residual`` finds accidents and finds inside land released before them and opens the
investigation IMAS 07.11 requires, once per event.
"""
