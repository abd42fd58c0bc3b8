"""HTTP routes, one module per area.  Each is a thin adapter over domain functions.

The rule for the event loop: nothing that verifies, signs, renders or touches the database runs
on it, because one such call stalls every other request of the worker.

- A route is a plain `def`; FastAPI runs it in its thread pool.
- A route is `async def` only when it reads the request body itself (raw bytes, a multipart
  upload).  It awaits that read, checks nothing heavier than a query parameter, and ends with
  `return await run_in_threadpool(work, ...)`: parsing, the domain call and building the response
  all happen in `work`.  tests/license_svc/test_web_event_loop.py holds every route to this.
"""
