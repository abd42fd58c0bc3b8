"""Producing side of license-svc: keys, SM2/SM3 and RSA, certificates, seals, PDFs, QR codes.

No web and no database here; `license_svc` drives these functions.  Importing the package
changes no library: a program using it calls `formats.libraries.install()` once at start-up,
which teaches asn1crypto the GM/T OIDs (without them no SM2 key or signature can be encoded).
"""
