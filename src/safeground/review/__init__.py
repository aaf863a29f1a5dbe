"""Review and approval of incoming data: the national record changes only through a reviewer.

IMSMA NG's Workbench did this as "needs approval → reconcile → approve". Every change that does
not come from a reviewer (an operator's import, a phone report, an API edit) becomes a
*submission*: a change set (:mod:`changeset`) with automatic quality flags (:mod:`flags`), kept
in the store's review queue (:mod:`queue`) until a reviewer reconciles it to existing records,
approves it (applied in one transaction, with history as any write) or rejects it with a reason.
"""
