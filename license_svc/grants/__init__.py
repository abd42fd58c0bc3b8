"""Holder authorisation for 免证办 (issue 6): grants, retrieval under a grant or a legal basis,
the holder's access log and the auditor's search — every change and every retrieval, refusals
included, audited in the same transaction (docs/authorisation.md).

Modules: `models` (the grants table), `fields` (shared request checks), `grants` (create, list,
revoke, the atomic use counter), `retrieval` (the department's retrieval), `access_log` (the
holder's view with inclusion proofs, the auditor's search), `auditing` (the audited
transaction: 503 when the entry cannot be written), `errors`, `demo`.
"""
