"""Loaded by .ci/api-contract (SCHEMATHESIS_HOOKS): schemathesis has no serializer for the raw
file bodies docs/openapi.json declares beside application/octet-stream — a DER TimeStampReq
(`POST /api/v1/tsa`), a PDF or OFD to stamp — so it sends them as it sends octet-stream: bytes."""

import schemathesis

schemathesis.serializer.alias(["application/timestamp-query", "application/pdf", "application/ofd"],
                              "application/octet-stream")
