"""What producing and checking share: the bottom layer below `signing` and `verification`.

A signature is made by one side and checked by the other, so everything both must agree on to the
byte lives here, once: the algorithm layer and OIDs, DER and certificate loading, the GB/T 38540
seal schema and reader, COSE and the QR claims, canonical JSON and the signed envelope, and the
transparency-log hashing.  Nothing here holds policy (what to trust, what time it is, what a
verdict is), a key store, a database or I/O; `signing` and `verification` import this package
and never each other (tests/test_architecture.py).

Importing it changes no library: asn1crypto learns the GM/T OIDs when the program calls
`formats.libraries.install()` at start-up (see that module for the list and for why).
"""
