"""Disputes (异议处理): a relying department at any node disputes a licence of any region; the
issuing organisation answers at its own node; the outcome travels back (docs/api.md
"Disputes", docs/federation.md "Disputes between nodes")."""
