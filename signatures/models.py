# Trusted issuers, certificates, declarations and signature records arrive with their issues
# (DESIGN §4); the app exists from the start so the layering of DESIGN §3 holds.
