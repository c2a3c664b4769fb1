"""The teacher's view: who is connected, their requests, errors and open streams, live.

`python -m ollama_nb.server --teacher` serves it at `/teacher` (a page a projector can show:
large type, high contrast) and `/teacher/stats.json` (what the page polls every second).
Plain HTML and a few lines of JavaScript, so it needs nothing beyond the server itself.
"""

from __future__ import annotations

import json
import time

import tornado.web

from .marks import Unmarked

ONLINE_SECONDS = 120  # a learner seen this recently counts as connected


def snapshot(classroom) -> dict:
    """The figures the page shows, as one JSON-ready dict."""
    now = time.time()
    streams = classroom.streams()
    open_by: dict[str, int] = {}
    for who, _, _ in streams:
        open_by[who] = open_by.get(who, 0) + 1
    rows = []
    for who, entry in classroom.activity.items():
        rows.append(
            {
                "learner": who or "(shared /api)",
                "requests": entry.requests,
                "errors": entry.errors,
                "streams": open_by.get(who, 0),
                "last_seen_s": round(now - entry.last_seen, 1),
                "connected": now - entry.last_seen < ONLINE_SECONDS or who in open_by,
                "last_error": entry.last_error,
            }
        )
    rows.sort(key=lambda r: (not r["connected"], r["learner"]))
    return {
        "learners": rows,
        "connected": sum(1 for r in rows if r["connected"]),
        "stores": len(classroom.learners),
        "max_learners": classroom.max_learners,
        "requests": sum(r["requests"] for r in rows),
        "errors": sum(r["errors"] for r in rows),
        "streams": len(streams),
        "uptime_s": round(now - classroom.started),
    }


class Stats(Unmarked):
    def initialize(self, classroom) -> None:
        self.classroom = classroom

    def get(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        if self.classroom.workers > 1:  # the next poll may be another worker's (workers.py)
            self.set_header("Connection", "close")
        self.finish(json.dumps(snapshot(self.classroom), ensure_ascii=False))


class Page(Unmarked):
    def initialize(self, classroom) -> None:
        self.classroom = classroom

    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(PAGE.replace("__WORKERS__", str(self.classroom.workers)))


class Missing(Unmarked, tornado.web.ErrorHandler):
    """Tornado's 404 for any other path under /teacher/, with the server's marks."""


def teacher_app(classroom) -> tornado.web.Application:
    """The page, and its statistics: `stats.json`, or with several worker processes one
    `w/<i>/stats.json` each (each worker knows only its own learners), merged by the page.

    The API's Origin and Host checks guard it too: learner names are the room's business,
    not a foreign web page's (nor a DNS-rebinding one's). Its state also gives the marks."""
    from .routes import GuardedApplication

    return GuardedApplication(
        classroom.state,
        [
            (r"/teacher/?", Page, {"classroom": classroom}),
            (r"/teacher/stats\.json", Stats, {"classroom": classroom}),
            (r"/teacher/w/\d+/stats\.json", Stats, {"classroom": classroom}),
        ],
        default_handler_class=Missing,
        default_handler_args={"status_code": 404},
        log_function=lambda handler: None,
    )


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Practice server: the room</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body { font: 22px/1.4 system-ui, sans-serif; margin: 1.2em; background: #fff; color: #111; }
 h1 { font-size: 1.6em; margin: 0 0 .3em; }
 .totals { display: flex; gap: 1.5em; flex-wrap: wrap; margin-bottom: .8em; }
 .totals div { background: #eef; padding: .3em .7em; border-radius: .3em; }
 .totals b { font-size: 1.4em; }
 table { border-collapse: collapse; width: 100%; }
 th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid #ccc; }
 th { background: #223; color: #fff; position: sticky; top: 0; }
 td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
 tr.away td { color: #888; }
 tr.err td.errors { color: #b00; font-weight: bold; }
 .status { color: #666; font-size: .8em; }
</style></head>
<body>
<h1>Practice server: the room</h1>
<div class="totals">
 <div>connected <b id="connected">0</b></div>
 <div>stores <b id="stores">0</b> / <span id="max">0</span></div>
 <div>requests <b id="requests">0</b></div>
 <div>errors <b id="errors">0</b></div>
 <div>streams now <b id="streams">0</b></div>
</div>
<table><thead><tr><th>learner</th><th class="n">requests</th><th class="n">errors</th>
<th class="n">streams</th>
<th>last seen</th><th>last error</th></tr></thead><tbody id="rows"></tbody></table>
<p class="status" id="status">loading…</p>
<script>
function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
}
const WORKERS = __WORKERS__;
async function stats() {
  const base = location.pathname.replace(/\\/?$/, "/");
  if (WORKERS === 1)
    return (await fetch(base + "stats.json", {cache: "no-store"})).json();
  const parts = await Promise.all([...Array(WORKERS).keys()].map(async (i) =>
    (await fetch(base + "w/" + i + "/stats.json", {cache: "no-store"})).json()));
  const data = {...parts[0], learners: parts.flatMap((p) => p.learners)};
  for (const key of ["connected", "stores", "requests", "errors", "streams"])
    data[key] = parts.reduce((sum, p) => sum + p[key], 0);
  data.uptime_s = Math.max(...parts.map((p) => p.uptime_s));
  data.learners.sort((a, b) => (a.connected === b.connected ? 0 : a.connected ? -1 : 1)
    || a.learner.localeCompare(b.learner));
  return data;
}
async function refresh() {
  try {
    const data = await stats();
    for (const key of ["connected", "stores", "requests", "errors", "streams"])
      document.getElementById(key).textContent = data[key];
    document.getElementById("max").textContent = data.max_learners;
    const body = document.getElementById("rows");
    body.replaceChildren();
    for (const r of data.learners) {
      const row = document.createElement("tr");
      row.className = (r.connected ? "" : "away") + (r.errors ? " err" : "");
      cell(row, r.learner);
      cell(row, r.requests, "n");
      cell(row, r.errors, "n errors");
      cell(row, r.streams, "n");
      cell(row, r.last_seen_s < 2 ? "now" : Math.round(r.last_seen_s) + " s ago");
      cell(row, r.last_error);
      body.appendChild(row);
    }
    document.getElementById("status").textContent =
      "updated " + new Date().toLocaleTimeString() + " · up " + data.uptime_s + " s";
  } catch (e) {
    document.getElementById("status").textContent = "the server does not answer: " + e;
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body></html>
"""
