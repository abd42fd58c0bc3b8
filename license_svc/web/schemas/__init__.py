"""Request and response models of the HTTP API, one module per route module, for the OpenAPI
document (docs/openapi.json) an approval-system developer generates a client from.

Why the routes mostly *declare* these models (`responses=`, `openapi_extra=`) instead of letting
FastAPI validate and re-serialise through them: the domain functions already build the bodies and
check the input (a template's JSON Schema names the licence field in Chinese and English; raw
bodies are signed bytes or documents), and a second pass through a model would change what
clients get — drop members other work adds, rewrite times, turn a 400 into a 422.  So response
models allow extra members, and the contract is held by schemathesis against the live service
(.ci/api-contract) and by tests/web/test_openapi_contract.py.

`openapi.py` has the building blocks (component registry, problem responses, binary bodies);
`common.py` the shapes several modules share.
"""
