# A typical Python service's imports: HTTP client and server, TLS, JSON,
# SQLite, asyncio, logging, subprocesses, threads, time zones, decimal,
# ctypes, hashing, dataclasses and typing, paths and temporary files.
import argparse, asyncio, base64, concurrent.futures, contextlib, csv, ctypes, ctypes.util
import dataclasses, datetime, decimal, email.message, email.utils, enum, functools, gzip
import hashlib, hmac, http.client, http.server, importlib.metadata, io, itertools, json
import logging, logging.handlers, os, pathlib, queue, random, re, secrets, selectors, shutil
import signal, socket, sqlite3, ssl, string, struct, subprocess, sys, tempfile, textwrap
import threading, time, traceback, typing, urllib.parse, urllib.request, uuid, warnings
import weakref, zlib, zoneinfo, collections, copy, operator, pickle, inspect, glob, fnmatch
ctx = ssl.create_default_context()
assert ctx.cert_store_stats()["x509_ca"] > 0
c = sqlite3.connect(":memory:"); c.execute("create table t(x)")
ctypes.CDLL(None)
for enc in ("utf-8", "utf-16", "utf-32", "latin-1", "ascii", "cp1252", "idna", "iso8859-15", "cp437", "utf-8-sig"):
    "x".encode(enc)
async def main():
    await asyncio.sleep(0)
asyncio.run(main())
logging.getLogger().info("x")
print(decimal.Decimal("1.1") + 1, json.dumps({"ok": True}))
