"""Cross-region trust (docs/federation.md): this node's signed trust list and, in development, the signed
federation list of lists (`publish`); fetching and checking peers' lists, keeping the last good
one, and what may be trusted from them (`sync`); syncing by itself in the background
(`autosync`); one-region development key stores and node processes (`dev`).  The checks
themselves are pure functions in `verification.trustlist`."""
