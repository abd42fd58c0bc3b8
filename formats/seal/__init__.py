"""The GB/T 38540 / GM/T 0031 seal format: one ASN.1 schema and one reader.

Both the seal maker (`signing.seal`) and the verifier (`verification.seal`) work on these
structures; keeping them below both means neither has to import the other, and a producer and a
verifier cannot drift apart on a tag or a field order.  Reading is not judging: the reader turns
DER into `Seal` / `SealSignature` or raises `SealFormatError`; whether a seal is valid is
`verification.seal`'s question.
"""
