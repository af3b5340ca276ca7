"""National-scale data for benchmarks (DESIGN §10 ``seed_scale``): run from a checkout, never
shipped in the wheel.

Builds enterprises, brokers with their licences and agents, staff, certificates with custodians,
mandates, declarations with their signature records, a year of sign-ins and the audit trail, on
PostgreSQL with ``COPY``. Row by row through the services this would take days; the services'
rules are still what the rows look like (one certificate per organisation, broker signatures
with the broker's own certificate under an active mandate, refused attempts kept with their
reason, every sign-in and signature in the audit trail).

Two shortcuts, both deliberate:

* The stored detached signatures are stand-ins of the size of an ECDSA signature value, not
  verifiable CMS: nothing reads them back on the pages measured, and producing a million real
  ones would cost an hour of CPU.
* The audit trail's events are loaded with ``COPY`` and then sealed by the one sealer,
  ``audit.services.sealing.audit_seal``, as the site seals its own: chain positions in time
  order, the hash chain, the RFC 6962 leaves, the stored subtree nodes and a checkpoint every
  ``AUDIT_CHECKPOINT_EVENTS`` events signed with the server's key (and one at the end), so
  ``verify_audit`` checks it and receipts can be built.

Refuses any database that is not PostgreSQL with "scale" or "bench" in its name: it empties the
tables it fills (``TRUNCATE``, with the triggers turned off for it: bench/truncate.py).

``bench.seed.scale.seed_scale`` runs it; ``manage.py seed_scale`` is a thin command over it.
"""
