"""The officers' decisions, one module per capability: officer groups, cases, decisions on an
enterprise, compliance classification."""
