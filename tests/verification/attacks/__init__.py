"""Attack PDFs generated from genuine signed licences (never third-party files), and the
test-only PKI and licence page they start from."""
