"""Records a data protection officer asks for: access log, retention, legal holds, erasure.

- :mod:`~dronegis.records.access`: the append-only, hash-chained access log (``records/access.log``);
- :mod:`~dronegis.records.recorder`: the ASGI middleware that appends every read of an internal
  layer, a raw frame or a download, and the log filter that redacts tokens from server logs;
- :mod:`~dronegis.records.holds`: legal holds (``dronegis hold``);
- :mod:`~dronegis.records.retention`: the retention policy per purpose and its dry run / apply;
- :mod:`~dronegis.records.erasure`: erasure of a flight from everything, journaled.
"""
