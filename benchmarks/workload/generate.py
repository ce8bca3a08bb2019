"""Generate the `tokenopt bench` workload: one simulated day of a user's LLM requests.

Why a generator and not hand-written JSON: the day needs large realistic pastes (logs, tool
output) that nobody should type by hand, and it must be reproducible byte for byte so the
benchmark can be re-run and diffed. Every template below carries its labels (tier, task
type, skills) written by hand from the labelling guide in docs/routing.md section 1, next to
the text they describe; no label is computed. Randomness only picks phrasings, fills facts
and sizes pastes, always through one `random.Random(SEED)`.

Run `python benchmarks/workload/generate.py` to rewrite day.jsonl and held_out.jsonl, and
`--check` to verify the checked-in files match (exit 1 if not).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

SEED = 20250313
HERE = Path(__file__).resolve().parent
DAY_FILE = HERE / "day.jsonl"
HELD_OUT_FILE = HERE / "held_out.jsonl"
HELD_OUT_SHARE = 0.25
DATE = "2025-03-13"  # a Thursday; the date stamped into pasted logs

Turn = dict[str, object]
Draft = tuple[str, list[Turn], list[tuple[str, int]]]  # title, turns, (probe fact, turn index)
Template = Callable[[random.Random], Draft]

PEOPLE = ["Priya", "Marco", "Jonas", "Aiko", "Femi", "Lena", "Tomás", "Sven", "Hannah", "Ravi"]
HOSTS = ["web-01", "web-02", "api-03", "db-01", "db-02", "worker-04", "ci-runner-2", "edge-lb-1"]
SERVICES = ["payments-api", "checkout", "search-svc", "auth-gw", "orders-worker", "media-proc"]


def turn(user: str, reply: str, tier: int, task_type: str, skills: list[str] | None = None) -> Turn:
    """One labelled turn; the labels are the arguments, typed by hand at each call site."""
    return {
        "user": user,
        "reply": reply,
        "tier": tier,
        "task_type": task_type,
        "skills": list(skills or []),
    }


def pick(r: random.Random, options: list[str]) -> str:
    """Choose a phrasing; a list (never a set) keeps the choice reproducible."""
    return options[r.randrange(len(options))]


def hms(sec: int) -> str:
    """Seconds since midnight as HH:MM:SS, for log timestamps."""
    sec %= 86400
    return f"{sec // 3600:02d}:{sec % 3600 // 60:02d}:{sec % 60:02d}"


def ip(r: random.Random) -> str:
    """A client address from a few realistic ranges."""
    first = pick(r, ["10.0", "172.16", "81.2", "94.130", "203.0"])
    return f"{first}.{r.randint(1, 254)}.{r.randint(1, 254)}"


# --- replies ---------------------------------------------------------------------------------

CONNECTORS = [
    "Start here because it is the cheapest thing to rule out.",
    "This matters because the rest of the plan depends on it.",
    "If this does not hold, stop and re-check before going further.",
    "Keep a note of the result; you will want it for the write-up.",
    "This is usually where the problem hides in setups like yours.",
    "Do this before touching anything else so you can compare before and after.",
]


# Sections a long answer walks through after the template's own points (for a code
# answer the code is the point and these explain it).
DETAIL_POINTS = [
    "what changed and why: the smallest edit that fixes the cause, not the symptom",
    "edge cases: empty input, None values, very large inputs and concurrent callers",
    "how to verify it: run the existing tests, then the one that failed before the change",
    "what to watch after merging: error rates and logs for the code path you touched",
]


def answer(r: random.Random, lead: str, points: list[str], tokens: int, code: str = "",
           lang: str = "", close: str = "") -> str:
    """Assistant reply of roughly `tokens` tokens (chars/4) built from the template's facts.

    Short answers are the lead plus bullets; long ones repeat numbered sections filled from
    the same points, the way a real long answer walks through each item in more depth.
    """
    parts = [lead]
    if points:
        parts.append("\n".join(f"- {p}" for p in points))
    if code:
        parts.append(f"```{lang}\n{code.rstrip()}\n```")
    body = "\n\n".join(parts)
    target = tokens * 4
    more = points + DETAIL_POINTS
    n = 0
    while len(body) < target - 200:
        p = more[n % len(more)]
        body += (
            f"\n\n### {n + 1}. {p[:1].upper()}{p[1:60].rstrip(' ,.')}\n\n"
            f"{p[:1].upper()}{p[1:]}. {' '.join(r.sample(CONNECTORS, 2))}"
        )
        n += 1
    if close:
        body += "\n\n" + close
    return body


def tok1(r: random.Random) -> int:
    """Target size for a tier-1 answer (40-300 tokens)."""
    return r.randint(60, 260)


def tok2(r: random.Random) -> int:
    """Target size for a tier-2/3 answer (300-1,200 tokens)."""
    return r.randint(380, 1100)


# --- pasted material -------------------------------------------------------------------------

PATHS = ["/api/v1/charge", "/api/v1/cart", "/api/v1/orders", "/healthz", "/static/app.js",
         "/api/v1/search?q=shoes", "/api/v1/session", "/img/banner.webp", "/api/v1/refund"]
UAS = ["okhttp/4.9.3", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15",
       "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/122.0", "kube-probe/1.29",
       "python-requests/2.31.0", "curl/8.5.0"]


def nginx_access(r: random.Random, n: int, t0: int, bad_from: int = 10**9) -> str:
    """nginx access log in the common `main` format plus upstream timings."""
    lines = []
    t = t0
    for _ in range(n):
        t += r.randint(0, 2)
        path = pick(r, PATHS)
        bad = t >= bad_from and path.startswith("/api/v1/c") and r.random() < 0.7
        status = 502 if bad else pick(r, ["200", "200", "200", "200", "304", "404", "201"])
        rt = 30.0 + r.random() / 100 if bad else r.random() * 0.4
        urt = f"{rt:.3f}" if not path.startswith(("/static", "/img")) else "-"
        lines.append(
            f'{ip(r)} - - [13/Mar/2025:{hms(t)} +0000] "{pick(r, ["GET", "GET", "POST"])} '
            f'{path} HTTP/1.1" {status} {r.randint(120, 48000)} "-" "{pick(r, UAS)}" '
            f'rt={rt:.3f} uct="0.001" urt="{urt}"'
        )
    return "\n".join(lines)


def nginx_error(r: random.Random, n: int, t0: int, upstream: str = "10.0.4.21:8080") -> str:
    """nginx error log lines: upstream timeouts and resets."""
    msgs = [
        "upstream timed out (110: Connection timed out) while reading response header from "
        "upstream",
        "recv() failed (104: Connection reset by peer) while reading response header from "
        "upstream",
        "connect() failed (111: Connection refused) while connecting to upstream",
        "no live upstreams while connecting to upstream",
    ]
    lines = []
    t = t0
    for i in range(n):
        t += r.randint(0, 4)
        lines.append(
            f"2025/03/13 {hms(t)} [error] {r.randint(2800, 2830)}#{r.randint(2800, 2830)}: "
            f"*{184000 + i * 7} {pick(r, msgs)}, client: {ip(r)}, server: api.shopfront.io, "
            f'request: "POST /api/v1/charge HTTP/1.1", upstream: "http://{upstream}'
            f'/api/v1/charge", host: "api.shopfront.io"'
        )
    return "\n".join(lines)


def journal(r: random.Random, n: int, host: str, unit: str, msgs: list[str], t0: int) -> str:
    """journalctl short format lines for one unit."""
    lines = []
    t = t0
    pid = r.randint(900, 32000)
    for _ in range(n):
        t += r.randint(1, 40)
        h = hms(t)
        lines.append(f"Mar 13 {h} {host} {unit}[{pid}]: {pick(r, msgs)}")
    return "\n".join(lines)


def kubectl_describe(pod: str, ns: str, image: str, reason: str, code: int, restarts: int,
                     mem: str) -> str:
    """`kubectl describe pod` output for a crashing container."""
    return f"""Name:             {pod}
Namespace:        {ns}
Priority:         0
Service Account:  default
Node:             ip-10-0-3-41.eu-west-1.compute.internal/10.0.3.41
Start Time:       Thu, 13 Mar 2025 09:12:44 +0000
Labels:           app={pod.rsplit('-', 2)[0]}
                  pod-template-hash={pod.rsplit('-', 2)[1]}
Status:           Running
IP:               10.0.7.18
Controlled By:    ReplicaSet/{pod.rsplit('-', 1)[0]}
Containers:
  app:
    Container ID:   containerd://4f1c0a9e8b7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2918
    Image:          {image}
    Port:           8080/TCP
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       {reason}
      Exit Code:    {code}
      Started:      Thu, 13 Mar 2025 10:41:02 +0000
      Finished:     Thu, 13 Mar 2025 10:41:39 +0000
    Ready:          False
    Restart Count:  {restarts}
    Limits:
      cpu:     500m
      memory:  {mem}
    Requests:
      cpu:      250m
      memory:   {mem}
    Liveness:   http-get http://:8080/healthz delay=10s timeout=1s period=10s #failure=3
    Readiness:  http-get http://:8080/ready delay=5s timeout=1s period=5s #failure=3
    Environment:
      JAVA_OPTS:  -Xms256m -Xmx1g
      DB_HOST:    pg-primary.{ns}.svc
Conditions:
  Type              Status
  Initialized       True
  Ready             False
  ContainersReady   False
  PodScheduled      True
Events:
  Type     Reason     Age                  From     Message
  ----     ------     ----                 ----     -------
  Normal   Pulled     12m (x{restarts} over 41m)  kubelet  Container image "{image}" already present
  Normal   Created    12m (x{restarts} over 41m)  kubelet  Created container app
  Normal   Started    12m (x{restarts} over 41m)  kubelet  Started container app
  Warning  BackOff    2m (x{restarts * 9} over 40m)  kubelet  Back-off restarting failed container"""  # noqa: E501


def kube_events(r: random.Random, n: int, ns: str) -> str:
    """`kubectl get events` rows."""
    rows = ["LAST SEEN   TYPE      REASON              OBJECT                          MESSAGE"]
    kinds = [
        ("Warning", "BackOff", "pod/media-proc-7d9f8-x2kqp",
         "Back-off restarting failed container"),
        ("Warning", "Unhealthy", "pod/search-svc-5c7b-9lq2d",
         "Readiness probe failed: HTTP probe failed with statuscode: 503"),
        ("Normal", "Scheduled", "pod/orders-worker-6f8-kk1zq",
         "Successfully assigned prod/orders-worker-6f8-kk1zq to ip-10-0-3-77"),
        ("Warning", "FailedScheduling", "pod/checkout-84c-7rw2m",
         "0/6 nodes are available: 6 Insufficient memory."),
        ("Normal", "Killing", "pod/auth-gw-59d-ppx4s", "Stopping container auth-gw"),
        ("Warning", "OOMKilling", "node/ip-10-0-3-41",
         "Memory cgroup out of memory: Killed process 31822 (java)"),
        ("Normal", "SuccessfulCreate", "replicaset/checkout-84c",
         "Created pod: checkout-84c-7rw2m"),
    ]
    for _ in range(n):
        typ, reason, obj, msg = kinds[r.randrange(len(kinds))]
        age = f"{r.randint(1, 59)}m"
        rows.append(f"{age:<11} {typ:<9} {reason:<19} {obj:<31} {msg}")
    return "\n".join(rows)


def docker_logs(r: random.Random, n: int, svc: str, t0: int, err: str = "") -> str:
    """`docker logs` output with ISO timestamps, an error woven in every so often."""
    infos = [
        "processed job id={} in {}ms",
        "GET /internal/status 200 {}ms",
        "cache hit ratio=0.{} keys={}",
        "flushed {} events to kafka topic=orders.v2",
        "heartbeat ok lag={}ms",
    ]
    lines = []
    t = t0
    for i in range(n):
        t += r.randint(0, 3)
        ms = r.randint(0, 999)
        if err and i % 17 == 16:
            lines.append(f"{DATE}T{hms(t)}.{ms:03d}Z ERROR [{svc}] {err}")
        else:
            msg = pick(r, infos).format(r.randint(10, 99999), r.randint(2, 900))
            lines.append(f"{DATE}T{hms(t)}.{ms:03d}Z INFO  [{svc}] {msg}")
    return "\n".join(lines)


def pytest_output(r: random.Random, n_pass: int, fails: list[tuple[str, str, str]]) -> str:
    """pytest -q style output: progress dots, a FAILURES section, the summary line."""
    total = n_pass + len(fails)
    dots = "".join("." if i >= len(fails) else "F" for i in range(total))
    dots = "".join(dots[i] for i in sorted(range(total), key=lambda _: r.random()))
    rows = ["============================= test session starts ==============================",
            "platform linux -- Python 3.11.7, pytest-8.1.1, pluggy-1.4.0",
            "rootdir: /home/runner/work/shopfront/shopfront",
            "configfile: pyproject.toml",
            "plugins: asyncio-0.23.5, cov-4.1.0, xdist-3.5.0",
            f"collected {total} items", ""]
    for i in range(0, total, 80):
        rows.append(dots[i:i + 80])
    rows.append("")
    rows.append("=================================== FAILURES ===================================")
    for test, where, err in fails:
        rows += [f"_________________________ {test} _________________________", "",
                 "    def " + test.split("::")[-1] + "(client, db):",
                 "        resp = client.post('/api/v1/charge', json=payload())",
                 ">       assert resp.status_code == 200",
                 f"E       {err}", "", f"{where}: AssertionError"]
    rows.append("=========================== short test summary info ============================")
    for test, _, err in fails:
        rows.append(f"FAILED {test} - {err[:70]}")
    secs = r.randint(30, 400) + r.random()
    rows.append(f"============ {len(fails)} failed, {n_pass} passed in {secs:.2f}s ============")
    return "\n".join(rows)


def traceback(frames: list[tuple[str, int, str, str]], exc: str) -> str:
    """A Python traceback from (file, line, function, source) frames."""
    rows = ["Traceback (most recent call last):"]
    for f, line, fn, src in frames:
        rows.append(f'  File "{f}", line {line}, in {fn}')
        rows.append(f"    {src}")
    rows.append(exc)
    return "\n".join(rows)


def csv_text(header: list[str], rows: list[list[object]]) -> str:
    """CSV as pasted from a spreadsheet export."""
    return "\n".join([",".join(header)] + [",".join(str(c) for c in row) for row in rows])


def df_output(r: random.Random, host: str, full: str) -> str:
    """`df -h` on a host, with one mount nearly full."""
    rows = ["Filesystem      Size  Used Avail Use% Mounted on"]
    mounts = [("/dev/nvme0n1p1", "/", 50), ("/dev/nvme1n1", "/var/lib/postgresql", 500),
              ("tmpfs", "/run", 4), ("/dev/nvme2n1", "/data", 1000),
              ("/dev/nvme0n1p15", "/boot/efi", 1)]
    for dev, mnt, size in mounts:
        pct = r.randint(93, 99) if mnt == full else r.randint(8, 61)
        used = size * pct / 100
        rows.append(f"{dev:<15} {size:>4}G {used:>4.0f}G {size - used:>4.0f}G {pct:>3}% {mnt}")
    return f"{host}$ df -h\n" + "\n".join(rows)


def top_output(r: random.Random, host: str) -> str:
    """A `top -bn1` header and the busiest processes."""
    load = [round(r.uniform(0.4, 9.5), 2) for _ in range(3)]
    rows = [f"top - 06:00:01 up {r.randint(3, 240)} days,  2 users,  load average: "
            f"{load[0]}, {load[1]}, {load[2]}",
            f"Tasks: {r.randint(180, 420)} total,   2 running, sleeping,   0 stopped,   0 zombie",
            f"%Cpu(s): {r.uniform(3, 80):.1f} us,  2.1 sy,  0.0 ni, {r.uniform(10, 90):.1f} id",
            f"MiB Mem :  {r.choice([15890, 31871, 64302]):.1f} total,   {r.uniform(300, 9000):.1f} "
            f"free,  {r.uniform(4000, 20000):.1f} used",
            "",
            "    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND"]
    for cmd in ["postgres", "java", "node", "nginx", "python3", "containerd"]:
        user = pick(r, ["postgres", "app", "www-data", "root"])
        rows.append(f"{r.randint(400, 40000):>7} {user:<9}"
                    f" 20   0 {r.randint(100, 9000):>6}m {r.randint(20, 4000):>5}m "
                    f"{r.randint(5, 300):>5}m S {r.uniform(0, 95):>5.1f} {r.uniform(0, 30):>5.1f} "
                    f"{r.randint(0, 900)}:{r.randint(0, 59):02d}.{r.randint(0, 99):02d} {cmd}")
    return f"{host}$ top -bn1 | head -12\n" + "\n".join(rows)


def restic_log(r: random.Random, host: str, fail: bool, n_lines: int) -> str:
    """restic backup run output as the nightly wrapper script logs it."""
    rows = [f"[{DATE} 02:00:01] backup start host={host} repo=s3:s3.eu-central-1.amazonaws.com"
            f"/acme-backups/{host}"]
    t = 7201
    for _ in range(n_lines):
        t += r.randint(1, 30)
        rows.append(f"[{DATE} {hms(t)}] " + pick(r, [
            f"scan: {r.randint(1000, 90000)} files, {r.uniform(1, 90):.2f} GiB",
            f"processed {r.randint(100, 9000)} files, {r.uniform(10, 900):.1f} MiB",
            f"pg_dump shopfront -> /var/backups/pg/shopfront-{DATE}.dump ok",
            "lock refreshed",
        ]))
    if fail:
        rows += [f"[{DATE} {hms(t + 3)}] Fatal: unable to save snapshot: "
                 "Put \"https://s3.eu-central-1.amazonaws.com/acme-backups/"
                 f"{host}/snapshots/3f9e\": dial tcp 52.219.170.40:443: i/o timeout",
                 f"[{DATE} {hms(t + 4)}] backup FAILED exit=1 duration={t - 7200}s"]
    else:
        rows += [f"[{DATE} {hms(t + 2)}] snapshot {r.randrange(16**8):08x} saved",
                 f"[{DATE} {hms(t + 3)}] forget --keep-daily 7 --keep-weekly 4: removed 1 snapshot",
                 f"[{DATE} {hms(t + 4)}] backup OK duration={t - 7200}s"]
    return "\n".join(rows)


def gha_log(r: random.Random, n: int, error: str) -> str:
    """GitHub Actions job log: setup noise, a long build, the error near the end."""
    rows = [f"{DATE}T16:02:11.4100000Z ##[group]Run actions/checkout@v4",
            f"{DATE}T16:02:11.4110000Z with:", f"{DATE}T16:02:11.4120000Z   fetch-depth: 1",
            f"{DATE}T16:02:13.9020000Z ##[endgroup]"]
    t = 57733
    pkgs = ["numpy", "pydantic", "httpx", "sqlalchemy", "alembic", "uvicorn", "fastapi",
            "orjson", "redis", "psycopg", "boto3", "botocore", "structlog", "tenacity"]
    for _ in range(n):
        t += r.randint(0, 2)
        ms = r.randint(0, 9999999)
        p = pick(r, pkgs)
        rows.append(f"{DATE}T{hms(t)}.{ms:07d}Z " + pick(r, [
            f"  Downloading {p}-{r.randint(1, 3)}.{r.randint(0, 30)}.{r.randint(0, 9)}"
            "-py3-none-any.whl "
            f"({r.randint(20, 900)} kB)",
            f"Collecting {p}>={r.randint(1, 3)}.{r.randint(0, 9)}",
            f"  Using cached {p}-{r.randint(1, 3)}.{r.randint(0, 30)}.0.tar.gz",
            f"Requirement already satisfied: {p} in /opt/hostedtoolcache/Python/3.11.7/x64",
            "#12 [build 4/9] RUN pip install --no-cache-dir -r requirements.txt  "
            f"{r.uniform(1, 90):.1f}s",
            f"warning: {p} {r.randint(1, 9)}.{r.randint(0, 9)} is deprecated; see changelog",
        ]))
    rows += [f"{DATE}T{hms(t + 5)}.0000000Z {error}",
             f"{DATE}T{hms(t + 5)}.1000000Z ##[error]Process completed with exit code 1."]
    return "\n".join(rows)


def pg_slow_log(r: random.Random, n: int) -> str:
    """postgresql.log lines with log_min_duration_statement hits."""
    qs = [
        "SELECT * FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 50",
        "UPDATE inventory SET reserved = reserved + $1 WHERE sku = $2",
        "SELECT count(*) FROM events WHERE created_at > now() - interval '1 day'",
        "DELETE FROM sessions WHERE expires_at < now()",
        "SELECT o.id, sum(l.qty) FROM orders o JOIN order_lines l ON l.order_id = o.id "
        "GROUP BY o.id",
    ]
    rows = []
    t = 0
    for _ in range(n):
        t += r.randint(10, 900)
        rows.append(f"{DATE} {hms(t)}.{r.randint(0, 999):03d} UTC [{r.randint(1000, 90000)}] "
                    f"app@shopfront LOG:  duration: {r.uniform(500, 42000):.3f} ms  statement: "
                    f"{pick(r, qs)}")
    return "\n".join(rows)


def explain_plan(table: str, rows: int, ms: float) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a query doing a sequential scan."""
    return f"""                                   QUERY PLAN
------------------------------------------------------------------------------------------
 Limit  (cost=0.00..98231.44 rows=50 width=212) (actual time={ms - 3:.3f}..{ms:.3f} rows=50 loops=1)
   Buffers: shared hit=1204 read=88211
   ->  Sort  (cost=98231.44..98240.02 rows=3431 width=212) (actual time={ms - 4:.3f}..{ms - 3:.3f} rows=50 loops=1)
         Sort Key: created_at DESC
         Sort Method: top-N heapsort  Memory: 61kB
         ->  Seq Scan on {table}  (cost=0.00..98117.40 rows=3431 width=212) (actual time=0.041..{ms - 6:.3f} rows=3398 loops=1)
               Filter: (customer_id = 48213)
               Rows Removed by Filter: {rows}
               Buffers: shared hit=1204 read=88211
 Planning Time: 0.212 ms
 Execution Time: {ms:.3f} ms
(11 rows)"""  # noqa: E501


def prose(r: random.Random, sentences: list[str], n: int) -> str:
    """Paragraphs of report or transcript text drawn from a template's sentence pool."""
    out = []
    para: list[str] = []
    for i in range(n):
        para.append(sentences[r.randrange(len(sentences))])
        if i % 5 == 4:
            out.append(" ".join(para))
            para = []
    if para:
        out.append(" ".join(para))
    return "\n\n".join(out)


def transcript(r: random.Random, speakers: list[str], lines: list[str], n: int, t0: int) -> str:
    """A meeting transcript with timestamps and speaker names."""
    rows = []
    t = t0
    for _ in range(n):
        t += r.randint(4, 50)
        rows.append(f"[{hms(t)}] {pick(r, speakers)}: {pick(r, lines)}")
    return "\n".join(rows)


def git_diff_synthetic(r: random.Random, files: int, hunks: int) -> str:
    """A large but plausible `git diff` across handler modules, for a code review ask."""
    out = []
    for f in range(files):
        mod = pick(r, ["orders", "refunds", "cart", "auth", "search", "billing"])
        path = f"src/shopfront/{mod}/handlers_{f}.py"
        out.append(f"diff --git a/{path} b/{path}\nindex {r.randrange(16**7):07x}.."
                   f"{r.randrange(16**7):07x}"
                   f" 100644\n--- a/{path}\n+++ b/{path}")
        line = r.randint(10, 40)
        for h in range(hunks):
            line += r.randint(20, 60)
            fn = f"handle_{mod}_{h}"
            out.append(
                f"@@ -{line},9 +{line},14 @@ class {mod.title()}Handler:\n"
                f"     def {fn}(self, req: Request) -> Response:\n"
                f"-        data = req.json()\n"
                f"+        data = await req.json()\n"
                f"+        if not data.get('id'):\n"
                f"+            raise HTTPError(400, 'missing id')\n"
                f"         item = self.repo.get(data['id'])\n"
                f"-        if item is None:\n"
                f"-            return Response(status=404)\n"
                f"+        if item == None:\n"
                f"+            log.warning('not found %s', data['id'])\n"
                f"+            return Response(status=404)\n"
                f"+        self.cache[data['id']] = item\n"
                f"         return Response(json=item.to_dict())"
            )
    return "\n".join(out)


def jsonl_tool(obj: object) -> str:
    """Tool output as the agent harness pastes it: pretty JSON."""
    return json.dumps(obj, indent=2, ensure_ascii=False)


# --- direct_chat templates -------------------------------------------------------------------
# Each returns (title, turns, probes). Labels at every turn() call are hand-written.


def d_smalltalk(r: random.Random) -> Draft:
    """Small talk: the cheapest requests of the day."""
    opener = pick(r, ["morning! coffee hasnt kicked in yet", "hey, how's it going",
                      "ugh mondays. well thursday but feels like monday",
                      "tell me something fun before my 9am", "hi :)"])
    turns = [turn(opener, answer(r, pick(r, [
        "Morning! Hope the coffee shows up soon.",
        "Doing well, thanks for asking. What are you working on today?",
        "Fun fact: octopuses have three hearts and blue blood.",
    ]), ["Happy to help with whatever is on the list today."], r.randint(40, 80)), 1, "chat")]
    if r.random() < 0.6:
        turns.append(turn(pick(r, ["haha ok", "thx", "nice one", "lol true"]),
                          "Anytime. Shout if you need anything.", 1, "chat"))
    return "small talk", turns, []


def d_general_q(r: random.Random) -> Draft:
    """Short factual questions whose answer fits in a few lines."""
    q, a, pts = [
        ("why is the sky blue, short version", "Rayleigh scattering: air molecules scatter "
         "short (blue) wavelengths much more than long (red) ones.",
         ["scattering goes with 1/wavelength^4", "sunsets look red because the light "
          "crosses more air and the blue is scattered away"]),
        ("whats the difference between baking soda and baking powder",
         "Baking soda is pure sodium bicarbonate and needs an acid in the recipe; baking "
         "powder already contains the acid.", ["swap 1 tsp soda for ~3 tsp powder",
                                               "too much soda tastes soapy"]),
        ("how many tbsp in a cup", "16 tablespoons in a US cup.",
         ["a metric cup is 250 ml, about 16.9 tbsp", "1 tbsp = 3 tsp"]),
        ("is it effect or affect here: 'the change will ___ everyone'",
         "Use **affect** (the verb).", ["effect is usually the noun", "'to effect change' "
                                        "is the exception: it means to bring about"]),
        ("who wrote the mythical man month", "Fred Brooks, 1975.",
         ["famous for Brooks's law: adding people to a late project makes it later"]),
    ][r.randrange(5)]
    turns = [turn(q, answer(r, a, pts, tok1(r)), 1, "chat")]
    if r.random() < 0.5:
        turns.append(turn(pick(r, ["thx", "ok cool", "got it ty"]), "You're welcome!", 1,
                          "chat"))
    return q[:40], turns, []


def d_rephrase(r: random.Random) -> Draft:
    """Short writing help with the typical 'shorter'/'more formal' follow-ups."""
    who = pick(r, PEOPLE)
    draft = pick(r, [
        f"hey {who}, so basically the thing is we cant make the friday deadline because "
        "the vendor api keeps changing and also half the team is out, can we move it to "
        "next wed?? sorry",
        f"hi {who} just checking in on the invoice from feb, we still didnt get paid and its "
        "been 45 days, can u look into it",
        "We are writing to inform you that due to unforeseen circumstances the meetup on "
        "the 20th will unfortunately need to be postponed to a later date TBD.",
    ])
    ask = pick(r, ["can you make this sound more professional:\n\n",
                   "rephrase pls, too blunt:\n\n", "fix this email, make it nicer\n\n"])
    fixed = (f"Hi {who},\n\nI wanted to give you an early heads-up: we won't be able to hit "
             "Friday's deadline. The vendor API has changed twice this week and several of us "
             "are out. Would next Wednesday work instead?\n\nThanks for understanding,")
    turns = [turn(ask + draft, answer(r, "Here's a cleaner version:", [], r.randint(70, 140),
                                      close=fixed), 1, "chat", ["aria-writing"])]
    follow = [
        ("shorter", f"Hi {who}, we can't make Friday (vendor API changes, people out). "
         "Could we move to next Wednesday? Thanks!", ["aria-writing"]),
        ("more formal pls", f"Dear {who},\n\nRegrettably, we will be unable to meet the "
         "Friday deadline. May we propose next Wednesday instead?\n\nKind regards,",
         ["aria-writing"]),
        ("perfect thx", "Glad it works. Good luck!", []),
        ("can u drop the apology", "Done: I removed the apology line and kept the rest.",
         ["aria-writing"]),
    ]
    for i in range(r.randint(1, 2)):
        u, a, sk = follow[(i + r.randint(0, 1)) % len(follow)]
        turns.append(turn(u, a, 1, "chat", sk))
    return "rephrase an email", turns, []


def d_commit_msg(r: random.Random) -> Draft:
    """Commit message from a small diff: short writing about code."""
    diff = """diff --git a/src/cli.py b/src/cli.py
@@ -41,7 +41,9 @@ def main(argv=None):
-    timeout = 30
+    timeout = int(os.environ.get("SHOP_TIMEOUT", "30"))
+    if timeout <= 0:
+        parser.error("SHOP_TIMEOUT must be positive")
     client = Client(base_url=args.url, timeout=timeout)"""
    turns = [turn(pick(r, ["commit msg for this pls\n", "write me a commit message\n\n"]) + diff,
                  answer(r, "```\nRead the client timeout from SHOP_TIMEOUT (default 30 s)\n\n"
                         "Reject non-positive values with a usage error.\n```", [], 60),
                  1, "code")]
    if r.random() < 0.5:
        turns.append(turn("conventional commits style?", "```\nfeat(cli): read client timeout "
                          "from SHOP_TIMEOUT\n```", 1, "code"))
    return "commit message", turns, []


def d_oneliner(r: random.Random) -> Draft:
    """Shell one-liners: tier 1 ops, with the skill the subject needs."""
    q, code, sk = [
        ("how do i count unique ips in access.log", "awk '{print $1}' /var/log/nginx/access.log "
         "| sort | uniq -c | sort -rn | head", ["aria-logs"]),
        ("find files bigger than 1G under /var", "sudo find /var -xdev -type f -size +1G "
         "-exec ls -lh {} + | sort -k5 -h", ["aria-health"]),
        ("one liner to see which dir is eating disk in /home", "sudo du -xh --max-depth=1 /home "
         "| sort -h | tail", ["aria-health"]),
        ("grep all 5xx from nginx log in the last hour?", "awk -v t=\"$(date -d '1 hour ago' "
         "+%d/%b/%Y:%H)\" '$4 > \"[\"t && $9 ~ /^5/' /var/log/nginx/access.log", ["aria-logs"]),
        ("tail journal for nginx and follow", "journalctl -u nginx -f -n 100", ["aria-logs"]),
        ("how to check which process listens on 8080", "sudo ss -ltnp 'sport = :8080'",
         ["aria-health"]),
    ][r.randrange(6)]
    turns = [turn(q, answer(r, "This does it:", ["add `sudo` if you get permission errors"],
                            tok1(r), code=code, lang="bash"), 1, "ops", sk)]
    if r.random() < 0.5:
        turns.append(turn(pick(r, ["and on macos?", "explain the flags pls"]),
                          answer(r, "Short version:", ["on macOS use `gdate`/`gfind` from "
                                 "coreutils or BSD flags", "each flag narrows the output"],
                                 tok1(r)), 1, "ops", sk))
    return q[:40], turns, []


def d_regex(r: random.Random) -> Draft:
    """One-line regexes: trivial code."""
    q, rx = [
        ("regex to match a uk postcode", r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"),
        ("regex for an ISO date like 2025-03-13", r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"),
        ("python regex to pull the request id out of 'req_id=ab12-cd34 status=200'",
         r"req_id=([\w-]+)"),
    ][r.randrange(3)]
    turns = [turn(q, answer(r, f"`{rx}`", ["anchor with ^ and $ if you validate whole strings",
                                           "use re.fullmatch in Python for validation"],
                            tok1(r)), 1, "code")]
    if r.random() < 0.4:
        turns.append(turn("case insensitive?", "Add the `re.IGNORECASE` flag (or `(?i)` at the "
                          "start).", 1, "code"))
    return "regex", turns, []


def d_explain_error(r: random.Random) -> Draft:
    """Explain a short error message: tier 1."""
    err, a, tt, sk = [
        ("psql: error: connection to server at \"localhost\" (127.0.0.1), port 5432 failed: "
         "Connection refused", "Nothing is listening on 5432: Postgres is stopped or bound "
         "elsewhere.", "ops", ["aria-database"]),
        ("TypeError: 'NoneType' object is not subscriptable", "You indexed something that is "
         "None, usually a function that returned nothing.", "code", []),
        ("fatal: refusing to merge unrelated histories", "The two branches share no common "
         "commit; pass --allow-unrelated-histories if that is intended.", "code", []),
        ("x509: certificate has expired or is not yet valid", "The server's TLS certificate "
         "is outside its validity window, or the client clock is wrong.", "ops",
         ["aria-security"]),
    ][r.randrange(4)]
    turns = [turn(pick(r, ["what does this mean\n", "wtf is this error\n", "explain pls: "]) + err,
                  answer(r, a, ["check the obvious cause first", "the fix is usually one "
                                "command"], tok1(r)), 1, tt, sk)]
    return "explain an error", turns, []


def d_service_howto(r: random.Random) -> Draft:
    """Simple ops how-to."""
    svc = pick(r, ["nginx", "postgresql", "docker", "redis-server"])
    turns = [turn(pick(r, [f"how do i restart {svc} and check its ok",
                           f"{svc} seems stuck, how to restart it safely"]),
                  answer(r, "Restart it with systemd and confirm it came back:",
                         ["`systemctl status` should show active (running)",
                          "look at the last log lines if it fails"], tok1(r),
                         code=f"sudo systemctl restart {svc}\nsystemctl status {svc} --no-pager\n"
                         f"journalctl -u {svc} -n 50 --no-pager", lang="bash"),
                  1, "ops", ["aria-health"])]
    if r.random() < 0.6:
        turns.append(turn("and make it start on boot?", answer(r, "Enable it:", [],
                          60, code=f"sudo systemctl enable --now {svc}", lang="bash"), 1, "ops"))
    return f"restart {svc}", turns, []


def d_timezone(r: random.Random) -> Draft:
    """Calendar: time zone conversion and a short invite."""
    who = pick(r, PEOPLE)
    city, local = [("Tokyo", "23:00"), ("New York", "10:00"), ("São Paulo", "11:00"),
                   ("Singapore", "22:00")][r.randrange(4)]
    turns = [turn(pick(r, [f"whats 3pm berlin in {city.lower()} next tuesday",
                           f"when is 15:00 CET for {who} in {city}?"]),
                  answer(r, f"15:00 in Berlin next Tuesday (18 March) is {local} in {city}. "
                         "Careful in these weeks: the US moved to summer time on 9 March and "
                         "Europe only moves on 30 March, so US gaps are one hour shorter.",
                         ["double-check the invite shows both zones"], tok1(r)),
                  1, "chat", ["aria-calendar"])]
    if r.random() < 0.7:
        turns.append(turn(f"ok draft a short invite to {who} for a 30 min sync on the migration",
                          answer(r, f"**Subject:** 30-min sync: migration next steps\n\nHi {who}, "
                                 "could we do 30 minutes next Tuesday at 15:00 Berlin time to "
                                 "agree the migration next steps? Agenda: status, blockers, "
                                 "owners.", [], r.randint(60, 120)),
                          1, "chat", ["aria-calendar"]))
    return "time zone and invite", turns, []


def d_tasks_list(r: random.Random) -> Draft:
    """Running task list over many turns: probes on owners and due dates."""
    a, b = r.sample(PEOPLE, 2)
    due = pick(r, ["Friday 17:00", "Monday noon", "March 21"])
    n_extra = r.randint(7, 12)
    turns = [
        turn(f"brain dump incoming, make it a todo list pls: renew the domain before it lapses, "
             f"chase {a} about the vendor contract, book dentist, review {b}'s PR #482, "
             f"prep q2 budget sheet due {due}, buy bday present for mum",
             answer(r, "Here's your list, most urgent first:", [
                 "Renew the domain (expires soon, 5 min)",
                 f"Q2 budget sheet, due {due}",
                 f"Review {b}'s PR #482",
                 f"Chase {a} about the vendor contract (waiting-on)",
                 "Book dentist", "Birthday present for mum"], tok1(r)),
             1, "chat", ["aria-tasks"]),
        turn(f"{a} said the contract is with legal, move it to waiting on and remind me thursday",
             f"Moved: *Vendor contract (waiting on legal via {a})*, reminder set for Thursday.",
             1, "chat", ["aria-tasks"]),
    ]
    pool = [
        ("done with the domain", "Ticked off. 5 items left.", []),
        ("whats on my plate today", answer(r, "Today:", [f"Q2 budget sheet (due {due})",
               f"PR #482 review for {b}", "dentist call before 17:00"], tok1(r)), ["aria-tasks"]),
        ("add: send slides to marketing by 4", "Added *Send slides to marketing*, due 16:00 "
         "today.", ["aria-tasks"]),
        ("what should i do next, i have 40 min", "Do the PR review: it unblocks someone else "
         "and fits in 40 minutes.", ["aria-tasks"]),
        ("dentist booked for the 24th", "Done and removed.", []),
        ("im overwhelmed lol", answer(r, "Fair. Let's shrink it:", [
            "pick one thing you can finish in 25 minutes", "everything else waits"],
            tok1(r)), ["aria-tasks"]),
        ("move the present to the weekend", "Moved to Saturday.", []),
        ("ok thx", "Anytime.", []),
        ("remind me what i'm waiting on", f"Waiting on: vendor contract (legal, via {a}).",
         ["aria-tasks"]),
        ("pr done", "Nice, PR #482 ticked off.", []),
    ]
    for i in range(n_extra):
        u, rep, sk = pool[i % len(pool)]
        turns.append(turn(u, rep, 1, "chat", sk))
    turns.append(turn("is the budget thing still due when i said?",
                      f"Yes, the Q2 budget sheet is still due {due}.", 1, "chat", ["aria-tasks"]))
    probes = [(f"due {due}", 0), ("PR #482", 0)]
    return "todo list for the week", turns, probes


def d_meeting_notes(r: random.Random) -> Draft:
    """Tidy rough meeting bullets, then pull action items."""
    a, b, c = r.sample(PEOPLE, 3)
    date = pick(r, ["April 2", "March 28", "end of sprint 14"])
    notes = (f"notes from infra sync\n- {a}: k8s 1.29 upgrade blocked on the ingress chart\n"
             f"- decided: freeze deploys during upgrade window sat 06:00-09:00\n"
             f"- {b} to check pg replica lag alerts, they fire too often\n"
             f"- budget for observability tool, maybe grafana cloud vs datadog?? {c} has numbers\n"
             f"- next sync {date}\n- someone pls own the runbook for cert renewals\n"
             "- misc: new laptop policy, dont care\n") * r.randint(1, 2)
    turns = [turn("clean these up into proper notes pls\n\n" + notes,
                  answer(r, "## Infra sync\n\n**Decisions**", [
                      "Deploy freeze during the upgrade window, Sat 06:00-09:00",
                      f"{a}: Kubernetes 1.29 upgrade blocked on the ingress chart",
                      f"{b}: tune replica-lag alerts", f"{c}: bring tool cost numbers",
                      f"Next sync: {date}"], r.randint(150, 280)),
                  1, "chat", ["aria-notes"])]
    turns.append(turn("now just the action items with owners",
                      answer(r, "Action items:", [f"{a} — unblock the ingress chart",
                                                  f"{b} — tune pg replica lag alerts",
                                                  f"{c} — cost comparison",
                                                  "unassigned — cert renewal runbook"], 90),
                      1, "chat", ["aria-tasks"]))
    if r.random() < 0.5:
        turns.append(turn("who owns the runbook thing", "Nobody yet; it was left unassigned.",
                          1, "chat"))
        turns.append(turn(f"put {c} on it and tag these notes #infra", f"Done: {c} owns the cert "
                          "renewal runbook; notes tagged #infra.", 1, "chat", ["aria-notes"]))
        return "clean up infra sync notes", turns, [("Sat 06:00-09:00", 0),
                                                    (f"next sync {date}", 0)]
    return "clean up infra sync notes", turns, []


SLACK_LINES = [
    "i think we should just bump the timeout", "no the timeout isnt the problem, its the retries",
    "can someone check grafana", "pinging on-call", "ok the retry storm stops if we cap at 3",
    "who approved the config change?", "lets not do blame here pls", "agreed, cap at 3 + jitter",
    "i'll write it up", "also the dashboard is wrong, it double counts", "+1", "ship it",
    "wait, does this affect the mobile client too?", "only the web checkout afaik",
]


def d_summarise_thread(r: random.Random) -> Draft:
    """Summarise a short pasted Slack thread (< 3,000 tokens): tier 1."""
    people = r.sample(PEOPLE, 4)
    thread = transcript(r, people, SLACK_LINES, r.randint(25, 60), 40000)
    turns = [turn(pick(r, ["tldr of this thread pls\n\n", "what did i miss\n", "sum up:\n\n"])
                  + thread,
                  answer(r, "**TL;DR**: the checkout errors came from a retry storm; the team "
                         "agreed to cap retries at 3 with jitter.", [
                             "Decision: cap retries at 3 + jitter",
                             f"{people[0]} is writing it up",
                             "Open question: whether the mobile client is affected",
                             "Side note: the dashboard double counts"], tok1(r)),
                  1, "chat", ["aria-summarize"])]
    if r.random() < 0.5:
        turns.append(turn("any action for me?", "Only if you own the dashboard: it double "
                          "counts and nobody took that.", 1, "chat"))
    return "tl;dr of a slack thread", turns, []


REPORT_SENTENCES = [
    "Quarterly revenue grew 14% year on year, driven mainly by the enterprise tier.",
    "Gross margin fell by 2.1 points because hosting costs rose faster than usage.",
    "The self-serve funnel converted 3.4% of trials, down from 3.9% last quarter.",
    "Churn in the SMB segment rose after the July price change.",
    "Headcount grew from 84 to 97, mostly in engineering and support.",
    "The board asked for a plan to bring hosting cost per customer down by 20%.",
    "Support ticket volume per customer fell 11% after the new onboarding flow.",
    "Two enterprise deals slipped into the next quarter due to security reviews.",
    "Cash runway stands at 26 months at the current burn rate.",
    "The data platform migration is 70% complete and on budget.",
    "NPS rose from 31 to 38, with onboarding cited most often in positive comments.",
    "The EU expansion is paused pending the legal review of data residency.",
]


def d_summarise_report(r: random.Random) -> Draft:
    """Summarise a long pasted report (> 3,000 tokens, not code): tier 2."""
    report = prose(r, REPORT_SENTENCES, r.randint(180, 260))
    turns = [turn("summarise this for the exec team, 5 bullets max\n\n" + report,
                  answer(r, "**Executive summary**", [
                      "Revenue +14% YoY, led by enterprise; two deals slipped on security "
                      "reviews", "Margin -2.1 pts: hosting costs outpace usage; board wants "
                      "-20% hosting cost per customer", "Self-serve conversion down to 3.4%, "
                      "SMB churn up after the July price change", "Runway 26 months; "
                      "headcount 97", "EU expansion paused on data residency"], tok2(r)),
                  2, "chat", ["aria-summarize"])]
    turns.append(turn("what should we worry about most", answer(r, "Margin first:", [
        "hosting cost growth is structural", "SMB churn is second"], tok1(r)), 1, "analysis"))
    return "summarise quarterly report", turns, []


def d_newsletter(r: random.Random) -> Draft:
    """Newsletter work: subject lines (tier 1) and an issue draft (tier 2 prose)."""
    topic = pick(r, ["our v3 launch", "the spring sale", "march product updates"])
    turns = [
        turn(f"5 subject lines for this week's newsletter about {topic}",
             answer(r, "Options:", [f"{topic.capitalize()}: what's new", "3 things you asked "
                    "for are here", "Faster, lighter, offline", "Your March update (2 min read)",
                    "We shipped it"], tok1(r)), 1, "chat", ["aria-newsletter"]),
        turn("draft the full issue, intro + 3 sections + cta, friendly tone",
             answer(r, f"**Subject:** {topic.capitalize()}: what's new\n\nHi there,", [
                 "Intro: why this release matters", "Section 1: offline mode",
                 "Section 2: 2x faster sync", "Section 3: what's next", "CTA: try it today"],
                 tok2(r)), 2, "chat", ["aria-newsletter", "aria-writing"]),
    ]
    if r.random() < 0.5:
        turns.append(turn("our open rate dropped to 23% from 41%, brevo says spf ok. what else "
                          "do i check", answer(r, "Check authentication and reputation:", [
                              "DKIM signing with your own domain", "a DMARC record (p=none to "
                              "start)", "a sudden list import can hurt reputation"], tok1(r)),
                          1, "chat", ["aria-newsletter"]))
    return "newsletter issue", turns, []


def d_social(r: random.Random) -> Draft:
    """Social posts: short writing, tier 1."""
    thing = pick(r, ["our open-source CLI hit 1.0", "we're hiring two SREs",
                     "my talk at PyCon DE got accepted"])
    turns = [turn(f"linkedin post: {thing}. not cringe pls",
                  answer(r, f"Short and human:\n\n> {thing[0].upper()}{thing[1:]}.", [
                      "one line on why it matters", "one concrete detail", "a link, no hashtag "
                      "wall"], tok1(r)), 1, "chat", ["aria-social"])]
    if r.random() < 0.7:
        turns.append(turn("now a 3 tweet thread version", answer(r, "Thread:", [
            "1/ the news", "2/ the detail people care about", "3/ the link"], tok1(r)),
            1, "chat", ["aria-social"]))
    return "social post", turns, []


def d_presentation(r: random.Random) -> Draft:
    """Slide outline with speaker notes: length in prose, tier 2."""
    topic = pick(r, ["q1 infra review", "why we moved to postgres 16",
                     "lessons from the checkout outage"])
    turns = [
        turn(f"need a 10 slide deck outline for all-hands: {topic}. with speaker notes",
             answer(r, f"# {topic.title()}", [f"Slide {i}: " + s for i, s in enumerate([
                 "title and one-line takeaway", "where we were", "what changed", "the numbers",
                 "what went wrong", "what we learned", "what's next", "asks for the team",
                 "thanks", "Q&A"], 1)], tok2(r)), 2, "chat", ["aria-presentation"]),
        turn("too long, 6 slides", answer(r, "Six slides:", [
            "title", "the problem", "what we did", "the numbers", "what's next", "Q&A"],
            tok1(r)), 1, "chat", ["aria-presentation"]),
    ]
    return "all-hands deck outline", turns, []


def d_sql(r: random.Random) -> Draft:
    """Analytical SQL: a one-liner is tier 1, a cohort query with CTEs is tier 3 code."""
    turns = [turn(pick(r, ["sql for daily signups last 30 days, postgres",
                           "quick query: count signups per day for last month"]),
                  answer(r, "Group by day:", [], tok1(r),
                         code="SELECT date_trunc('day', created_at) AS day, count(*)\n"
                         "FROM users\nWHERE created_at >= now() - interval '30 days'\n"
                         "GROUP BY 1 ORDER BY 1;", lang="sql"), 1, "code", ["aria-sql"])]
    if r.random() < 0.7:
        turns.append(turn(
            "now weekly retention by signup cohort, week 0-8, users table + events(user_id, ts)",
            answer(r, "Cohort retention with a CTE per step:", [
                "cohort = signup week", "activity week offset via date_trunc",
                "divide by cohort size"], tok2(r), code=(
                "WITH cohorts AS (\n  SELECT id AS user_id, date_trunc('week', created_at) AS "
                "cohort\n  FROM users\n),\nactivity AS (\n  SELECT DISTINCT e.user_id, "
                "c.cohort,\n    (date_trunc('week', e.ts) - c.cohort) / 7 AS wk\n  FROM events e "
                "JOIN cohorts c USING (user_id)\n)\nSELECT cohort, wk, count(*)::float / "
                "max(size) AS retained\nFROM activity JOIN (SELECT cohort, count(*) AS size "
                "FROM cohorts GROUP BY 1) s USING (cohort)\nWHERE wk BETWEEN 0 AND 8\n"
                "GROUP BY 1, 2 ORDER BY 1, 2;"), lang="sql"), 3, "code", ["aria-sql"]))
        turns.append(turn("why do i get duplicates in week 0", answer(r, "Users with several "
                          "events that week are counted once per event unless DISTINCT is on "
                          "(user_id, wk).", [], tok1(r)), 1, "code", ["aria-sql"]))
    return "signup and retention sql", turns, []


def d_spreadsheet(r: random.Random) -> Draft:
    """Spreadsheet formulas and a small CSV question."""
    rows = [[f"2025-0{m}", reg, r.randint(8000, 90000)] for m in range(1, 4)
            for reg in ["North", "South", "East", "West"]]
    csv = csv_text(["month", "region", "revenue_eur"], rows)
    turns = [
        turn(pick(r, ["xlookup to pull price from sheet Prices by sku in A2?",
                      "formula to get the price for the sku in A2 from the Prices tab"]),
             answer(r, "Use XLOOKUP with a fallback:", [], tok1(r),
                    code='=XLOOKUP(A2, Prices!A:A, Prices!B:B, "not found")'),
             1, "code", ["aria-spreadsheet"]),
        turn("and total revenue per region from this\n\n" + csv,
             answer(r, "Totals per region (Jan-Mar):", [f"{reg}: see SUMIFS" for reg in
                    ["North", "South", "East", "West"]], tok1(r),
                    code='=SUMIFS(C:C, B:B, "North")'), 1, "analysis", ["aria-spreadsheet"]),
    ]
    return "spreadsheet formulas", turns, []


def d_pandas(r: random.Random) -> Draft:
    """A pandas script that merges and dedupes two exports: real code, tier 3."""
    turns = [turn("write a pandas script: merge customers.csv and crm_export.csv on email "
                  "(case insensitive), dedupe keeping newest updated_at, write merged.csv, "
                  "print counts",
                  answer(r, "Here's a script:", ["normalise email before merging",
                                                 "sort by updated_at then drop_duplicates"],
                         tok2(r), code=(
                      "import pandas as pd\n\n\ndef main() -> None:\n    a = pd.read_csv("
                      "'customers.csv')\n    b = pd.read_csv('crm_export.csv')\n    for df in "
                      "(a, b):\n        df['email'] = df['email'].str.strip().str.lower()\n"
                      "    both = pd.concat([a, b])\n    both['updated_at'] = pd.to_datetime("
                      "both['updated_at'])\n    merged = (both.sort_values('updated_at')\n"
                      "              .drop_duplicates('email', keep='last'))\n    merged.to_csv("
                      "'merged.csv', index=False)\n    print(len(a), len(b), len(merged))\n\n\n"
                      "if __name__ == '__main__':\n    main()"), lang="python"),
                  3, "code", ["aria-spreadsheet"])]
    turns.append(turn("dates are like 13/03/2025 tho", answer(r, "Pass dayfirst=True:", [],
                      60, code="pd.to_datetime(both['updated_at'], dayfirst=True)",
                      lang="python"), 1, "code", ["aria-spreadsheet"]))
    return "merge two csv exports", turns, []


RETRY_CODE = '''import functools
import random
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def retry(times: int = 5, base: float = 0.5, cap: float = 30.0,
          on: tuple[type[Exception], ...] = (Exception,)) -> Callable:
    """Retry with exponential backoff and full jitter."""
    def deco(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs) -> T:
            for attempt in range(times):
                try:
                    return fn(*args, **kwargs)
                except on:
                    if attempt == times - 1:
                        raise
                    time.sleep(random.uniform(0, min(cap, base * 2 ** attempt)))
            raise AssertionError("unreachable")
        return wrapper
    return deco'''


def d_write_function(r: random.Random) -> Draft:
    """Write a function then iterate: tier 3 code with tier 1 follow-ups."""
    cap = pick(r, ["30 s", "60 s", "10 s"])
    turns = [
        turn(f"write a python retry decorator w/ exponential backoff + jitter, max delay {cap}",
             answer(r, "Here's a small decorator:", [f"delay capped at {cap}",
                    "full jitter avoids thundering herds"], tok2(r), code=RETRY_CODE,
                    lang="python"), 3, "code"),
        turn("make it work for async functions too", answer(r, "Branch on "
             "`inspect.iscoroutinefunction` and use `asyncio.sleep`:", [], tok2(r),
             code=RETRY_CODE.replace("time.sleep", "await asyncio.sleep"), lang="python"),
             3, "code"),
        turn("pytest tests for it pls", answer(r, "Tests with a fake sleep:", [
            "patch time.sleep", "count calls"], tok2(r), code="def test_retries_then_raises("
            "monkeypatch):\n    calls = []\n    monkeypatch.setattr(time, 'sleep', lambda s: "
            "None)\n    ...", lang="python"), 3, "code"),
    ]
    extra = [("whats full jitter again", answer(r, "Sleep a uniform random time between 0 and "
              "the exponential delay.", [], tok1(r)), 1, "code"),
             ("shorter names pls", "Renamed `attempt` to `n` and `base` to `b`.", 1, "code"),
             ("thx", "You're welcome.", 1, "chat"),
             ("does functools.wraps keep the signature", "Yes, it copies `__name__`, `__doc__` "
              "and sets `__wrapped__`, so inspect.signature follows it.", 1, "code"),
             ("add a max_elapsed option too, total time budget", answer(r, "Track the start "
              "time and stop retrying once the budget is spent:", [], tok2(r), code="deadline "
              "= time.monotonic() + max_elapsed\n...\nif time.monotonic() + delay > deadline:"
              "\n    raise", lang="python"), 3, "code"),
             ("should i retry on every exception?", "No: retry only transient errors "
              "(timeouts, 502/503, connection resets); a ValueError will fail the same way "
              "five times.", 1, "code"),
             ("add logging on each retry", answer(r, "Log at WARNING with the attempt number "
              "and delay:", [], tok1(r), code="log.warning('retry %d/%d in %.1fs: %s', n + 1, "
              "times, delay, exc)", lang="python"), 1, "code"),
             ("ok ship it", "Done. Remember to add the decorator to the client calls only.",
              1, "chat")]
    for i in range(r.randint(2, 8)):
        u, a, tier, tt = extra[i]
        turns.append(turn(u, a, tier, tt))
    turns.append(turn("wait whats the max delay i said", f"You asked for a cap of {cap}.", 1,
                      "code"))
    return "retry decorator", turns, [(f"max delay {cap}", 0),
                                      ("full jitter avoids thundering herds", 0)]


def d_fix_traceback(r: random.Random) -> Draft:
    """Stack trace plus code plus 'fix it': tier 3."""
    tb = traceback([
        ("/app/shopfront/orders/service.py", 88, "place_order", "total = sum_lines(order.lines)"),
        ("/app/shopfront/orders/pricing.py", 31, "sum_lines",
         "return sum(l.qty * l.unit_price for l in lines)"),
    ], "TypeError: unsupported operand type(s) for *: 'int' and 'NoneType'")
    code = ("def sum_lines(lines):\n    return sum(l.qty * l.unit_price for l in lines)\n\n"
            "class Line:\n    def __init__(self, sku, qty, unit_price=None):\n"
            "        self.sku, self.qty, self.unit_price = sku, qty, unit_price")
    turns = [turn(pick(r, ["getting this in prod, fix it\n\n", "pls fix\n"]) + tb + "\n\n" + code,
                  answer(r, "`unit_price` defaults to `None` for lines created before pricing "
                         "runs. Fail loudly instead of multiplying None:", [
                             "validate at construction", "or price lines before summing"],
                         tok2(r), code="from decimal import Decimal\n\n\ndef sum_lines(lines):"
                         "\n    missing = [l.sku for l in lines if l.unit_price is None]\n"
                         "    if missing:\n        raise ValueError(f'unpriced lines: "
                         "{missing}')\n    return sum(l.qty * l.unit_price for l in lines)",
                         lang="python"), 3, "code")]
    if r.random() < 0.6:
        turns.append(turn("why did it only happen in prod?", answer(r, "Prod has old carts "
                          "created before the pricing step existed.", [], tok1(r)), 1, "code"))
    return "fix TypeError in pricing", turns, []


def d_review_diff(r: random.Random) -> Draft:
    """Review a pasted diff for bugs: tier 3."""
    diff = git_diff_synthetic(r, 2, r.randint(2, 4))
    turns = [turn("review this diff, anything wrong?\n\n" + diff,
                  answer(r, "A few problems:", [
                      "`await req.json()` inside a non-async def is a SyntaxError",
                      "`item == None` should be `is None`",
                      "the new cache dict grows without bound",
                      "logging the raw id may leak customer data"], tok2(r)), 3, "code")]
    turns.append(turn("ok fix those", answer(r, "Fixed version of the handler:", [], tok2(r),
                      code="async def handle(self, req: Request) -> Response:\n    data = await "
                      "req.json()\n    if item is None:\n        return Response(status=404)",
                      lang="python"), 3, "code"))
    return "review handler diff", turns, []


def d_explain_snippet(r: random.Random) -> Draft:
    """Explain a short snippet: code is context for a prose question, tier 1."""
    snip = pick(r, ["[x for xs in rows for x in xs if x]",
                    "ls -la | awk 'NR>1 {s+=$5} END {print s}'",
                    "git rebase -i HEAD~3"])
    turns = [turn(f"what does `{snip}` do", answer(r, "In short:", [
        "it walks the input once", "the condition filters falsy values / header line",
        "the result is printed or returned"], tok1(r)), 1, "code")]
    return "explain a snippet", turns, []


def d_compare_design(r: random.Random) -> Draft:
    """Compare options with trade-offs: tier 2 analysis."""
    a, b = pick(r, ["postgres|dynamodb", "kafka|rabbitmq",
                    "redis streams|nats jetstream"]).split("|")
    turns = [turn(f"{a} vs {b} for our order event store? ~2k writes/s, need replay, small team",
                  answer(r, f"Short answer: {a} unless you need {b}'s specific strength.", [
                      "operational load for a small team", "replay and retention model",
                      "cost at 2k writes/s", "failure modes and how you'd find out"], tok2(r)),
                  2, "analysis")]
    turns.append(turn("ok what would the migration look like if we pick the first",
                      answer(r, "A phased plan:", ["dual-write", "backfill", "shadow reads",
                                                   "cut over", "decommission"], tok2(r)),
                      2, "analysis"))
    owner = pick(r, PEOPLE)
    more = [
        (f"ok we pick {a}. {owner} writes the design doc, due next thursday",
         f"Noted: {a} chosen; {owner} owns the design doc, due next Thursday.", 1,
         "analysis"),
        ("how long do we keep events? finance wants 7 years", answer(r, "Tier it:", [
            "hot: 90 days in the primary store", "cold: object storage, partitioned by month",
            "replay from cold is slower but rare"], tok1(r)), 1, "analysis"),
        ("what are the failure modes in detail, and how do we detect each",
         answer(r, "Failure modes:", ["writer falls behind", "duplicate events on retry",
                                      "consumer replays from the wrong offset",
                                      "storage fills up", "schema drift between producers"],
                tok2(r)), 2, "analysis"),
        ("idempotency: how do consumers dedupe", "Give every event a producer-assigned id "
         "and keep a processed-ids table per consumer with a TTL longer than the replay "
         "window.", 1, "analysis"),
        ("rough cost per month at 2k/s", answer(r, "Back of the envelope:", [
            "~170M events/day at ~1 KB is ~170 GB/day raw", "compression ~4x",
            "storage dominates, not compute"], tok1(r)), 1, "analysis"),
        ("thx, outline the design doc sections", answer(r, "Sections:", [
            "context and goals", "options considered", "decision", "data model",
            "failure modes", "rollout", "open questions"], tok1(r)), 1, "analysis"),
        ("what about schema evolution", "Version the payload, only add optional fields, "
         "and keep a registry; consumers must ignore unknown fields.", 1, "analysis"),
        ("and who was writing the doc again", f"{owner}, due next Thursday.", 1, "chat"),
    ]
    if r.random() < 0.6:
        for u, rep_, tier, tt in more:
            turns.append(turn(u, rep_, tier, tt))
        return f"{a} vs {b}", turns, [(f"{owner} writes the design doc", 2),
                                      ("~2k writes/s", 0)]
    return f"{a} vs {b}", turns, []


def d_migration_plan(r: random.Random) -> Draft:
    """Plan a Postgres major upgrade over many turns: tier 2 with tier 1 follow-ups."""
    owner = pick(r, PEOPLE)
    window = pick(r, ["Sunday 02:00-04:00 UTC", "Saturday 22:00-01:00 UTC"])
    size = pick(r, ["1.8 TB", "640 GB", "3.2 TB"])
    turns = [
        turn(f"need a plan to upgrade pg 13 -> 16 on db-01, db is {size}, downtime budget 30 "
             "min, one streaming replica. thorough pls",
             answer(r, f"Plan for a {size} cluster with a 30-minute budget:", [
                 "pg_upgrade --link on a fresh replica-based copy", "rehearse on a restored "
                 "snapshot first", "freeze schema changes a week before", "analyze after "
                 "upgrade (vacuumdb --analyze-in-stages)", "rollback = promote the old "
                 "replica"], tok2(r)), 2, "analysis", ["aria-database"]),
        turn(f"decision: we go with pg_upgrade --link, window {window}, {owner} runs it",
             f"Noted: pg_upgrade --link, window {window}, {owner} is the operator.", 1,
             "analysis", ["aria-database"]),
        turn("what about extensions, we have postgis and pg_stat_statements",
             answer(r, "Both need matching versions on 16:", [
                 "install postgis for 16 before pg_upgrade", "pg_stat_statements ships "
                 "with contrib"], tok1(r)), 1, "ops", ["aria-database"]),
        turn("how do we test the backup before", answer(r, "Restore drill:", [
            "restore last night's base backup to a scratch host", "replay WAL to a target "
            "time", "run the app smoke tests against it"], tok1(r)), 1, "ops",
            ["aria-backup"]),
    ]
    pool = [
        ("write the runbook steps as a checklist", answer(r, "Runbook:", [
            "T-7d: schema freeze", "T-1d: restore drill", "T-0: stop app", "pg_upgrade --check",
            "pg_upgrade --link", "start, analyze, smoke test", "reopen traffic"], tok2(r)),
         2, "ops", ["aria-database", "aria-docs"]),
        ("how long will analyze take on that size", "Plan for 20-40 minutes with "
         "--analyze-in-stages; the app can take traffic after the first stage.", 1, "ops",
         ["aria-database"]),
        ("status page text for the window", answer(r, "Draft:", [
            "Scheduled maintenance, database upgrade", "expect up to 30 minutes of read-only"],
            tok1(r)), 1, "ops", ["aria-incident"]),
        ("cron to pause the nightly etl that night?", "Comment out the line or add a guard "
         "file check; `0 1 * * * [ -f /etc/etl.pause ] || /opt/etl/run.sh`.", 1, "ops",
         ["aria-cron"]),
        ("ok thx", "Good luck with the window.", 1, "chat", []),
        ("what's our rollback again", "Promote the untouched old replica and repoint "
         "pgbouncer; that's why --link runs on a copy.", 1, "ops", ["aria-database"]),
    ]
    for i in range(r.randint(6, 8)):
        u, a, tier, tt, sk = pool[i % len(pool)]
        turns.append(turn(u, a, tier, tt, sk))
    turns.append(turn("remind me who's running it and when", f"{owner}, during {window}.", 1,
                      "ops"))
    probes = [(f"window {window}", 1), (f"{owner} runs it", 1), (f"db is {size}", 0)]
    return "postgres 13 to 16 upgrade plan", turns, probes


def d_postmortem(r: random.Random) -> Draft:
    """Write a postmortem from a timeline: a long document, tier 2 ops."""
    owner = pick(r, PEOPLE)
    timeline = "\n".join([
        "14:02 deploy v2.15.0 payments-api", "14:05 502s start, error rate 11%",
        "14:09 page fires, on-call ack", "14:21 rollback to v2.14.3",
        "14:25 errors back to baseline", "root cause: pool min_size 2 -> 40, pgbouncer "
        "max 300 exhausted"])
    turns = [
        turn("write a blameless postmortem from this timeline, action items w owners\n\n"
             + timeline,
             answer(r, "# Postmortem: payments-api 502s after v2.15.0", [
                 "Summary: 20 minutes of elevated 502s on checkout",
                 "Impact: ~11% of payment requests failed", "Root cause: pool min_size raised "
                 "to 40 per pod exhausted pgbouncer", f"Action: {owner} adds a pool-size check "
                 "to CI by March 28", "Action: alert on pgbouncer waiting clients"], tok2(r)),
             2, "ops", ["aria-incident"]),
        turn("shorter customer facing version", answer(r, "On March 13 between 14:05 and 14:25 "
             "UTC some card payments failed. We rolled back the change and all payments now "
             "process normally.", [], tok1(r)), 1, "ops", ["aria-incident"]),
    ]
    return "payments postmortem", turns, []


def d_research(r: random.Random) -> Draft:
    """Research overview with sources: tier 2 research."""
    q = pick(r, ["whats the state of the art for speculative decoding, papers since 2023 w links",
                 "current options for vector databases, with sources, for ~50M embeddings",
                 "what are the latest options for self-hosted error tracking (sentry "
                 "alternatives)? sources pls"])
    turns = [turn(q, answer(r, "Overview, with sources to check:", [
        "the main families of approaches and how they differ",
        "what recent papers/releases report and on which benchmarks",
        "maturity and licensing of each option", "what I would shortlist for you and why"],
        tok2(r)), 2, "research", ["aria-research"])]
    if r.random() < 0.6:
        turns.append(turn("which one would you pick for us, small team", answer(r, "The "
                          "simplest one that meets the scale, because operating it is the "
                          "real cost.", [], tok1(r)), 1, "analysis"))
    return "research overview", turns, []


def d_crashloop(r: random.Random) -> Draft:
    """kubectl describe of an OOMKilled pod, short: tier 1."""
    mem = pick(r, ["512Mi", "768Mi"])
    desc = kubectl_describe("media-proc-7d9f8c6b5-x2kqp", "prod", "ghcr.io/acme/media-proc:4.2.1",
                            "OOMKilled", 137, r.randint(6, 30), mem)
    turns = [turn("why is this crashlooping\n\n" + desc,
                  answer(r, f"It's OOMKilled (exit 137): the JVM heap max is 1g but the "
                         f"container limit is {mem}.", ["raise the limit above 1.2Gi or set "
                         "-Xmx below the limit", "prefer -XX:MaxRAMPercentage=75"], tok1(r)),
                  1, "ops", ["aria-health"])]
    turns.append(turn("whats the quickest fix without a redeploy", "`kubectl set resources "
                      "deploy/media-proc --limits=memory=1536Mi` (it still rolls the pods).",
                      1, "ops", ["aria-deploy"]))
    return "pod crashloop oomkilled", turns, []


def d_disk_full(r: random.Random) -> Draft:
    """df output, disk nearly full: tier 1 ops."""
    host = pick(r, HOSTS)
    turns = [turn(f"{host} alerting disk, what do i do\n\n"
                  + df_output(r, host, "/var/lib/postgresql"),
                  answer(r, "The Postgres volume is nearly full. Safe first steps:", [
                      "check pg_wal size (a stuck replication slot keeps WAL)",
                      "find the biggest tables", "do not delete files by hand in the data dir"],
                         tok1(r), code="sudo du -sh /var/lib/postgresql/*/main/pg_wal\n"
                         "psql -c 'select slot_name, active from pg_replication_slots'",
                         lang="bash"), 1, "ops", ["aria-health", "aria-database"])]
    return f"disk alert on {host}", turns, []


def d_cron(r: random.Random) -> Draft:
    """Cron expressions and a job that did not run."""
    turns = [turn(pick(r, ["cron for weekdays 7:30am", "crontab line to run at 07:30 mon-fri"]),
                  answer(r, "`30 7 * * 1-5`", ["minute hour day month weekday",
                                               "cron uses the server's time zone"], tok1(r)),
                  1, "ops", ["aria-cron"])]
    if r.random() < 0.7:
        mail = ("From: root@web-01 (Cron Daemon)\nSubject: Cron <deploy@web-01> "
                "/opt/reports/run.sh\n\n/bin/sh: 1: /opt/reports/run.sh: Permission denied")
        turns.append(turn("also got this cron mail, job didnt run\n\n" + mail,
                          answer(r, "The script isn't executable for the deploy user.", [],
                                 tok1(r), code="chmod +x /opt/reports/run.sh", lang="bash"),
                          1, "ops", ["aria-cron"]))
    return "cron schedule", turns, []


def d_backup_restore(r: random.Random) -> Draft:
    """Restore one table from a dump: tier 1 how-to."""
    table = pick(r, ["invoices", "orders", "customers"])
    turns = [turn(f"someone deleted rows from {table}, how do i restore just that table from "
                  "last nights pg_dump -Fc",
                  answer(r, "Restore into a scratch database, then copy the rows back:", [
                      "never restore straight over prod", "compare counts before copying"],
                         tok1(r), code=f"createdb restore_tmp\npg_restore -d restore_tmp -t "
                         f"{table} /var/backups/pg/shopfront-{DATE}.dump", lang="bash"),
                  1, "ops", ["aria-backup"])]
    return f"restore {table} table", turns, []


def d_pipeline_red(r: random.Random) -> Draft:
    """A short CI failure: explain a short error, tier 1."""
    log = gha_log(r, r.randint(30, 60), "ERROR: Could not find a version that satisfies the "
                  "requirement psycopg==3.2.99 (from versions: 3.1.18, 3.2.1, 3.2.3)")
    turns = [turn("pipeline red again, why\n\n" + log,
                  answer(r, "The pinned `psycopg==3.2.99` doesn't exist; pin 3.2.3.", [
                      "it fails at pip install, not in tests"], tok1(r)), 1, "ops",
                  ["aria-deploy"])]
    return "ci pipeline red", turns, []


def d_leaked_key(r: random.Random) -> Draft:
    """Leaked credential: tier 1 how-to, security skill."""
    turns = [turn(pick(r, ["i just pushed an aws key to a public repo. what now",
                           "oops committed .env with stripe secret key to github, help"]),
                  answer(r, "Rotate first, clean up second:", [
                      "revoke/rotate the key now (history rewrites don't un-leak it)",
                      "check the provider's logs for use since the push",
                      "then remove it from history and add a secret scanner"], tok1(r)),
                  1, "ops", ["aria-security"])]
    turns.append(turn("ok rotated. how do i scrub it from history",
                      answer(r, "Use git filter-repo:", [], tok1(r),
                             code="git filter-repo --path .env --invert-paths\n"
                             "git push --force --all", lang="bash"), 1, "code",
                      ["aria-security"]))
    return "leaked secret", turns, []


def d_metrics(r: random.Random) -> Draft:
    """KPI questions: a definition is tier 1, a drop investigation is tier 2."""
    drop = pick(r, ["18%", "31%", "9%"])
    turns = [turn(f"DAU dropped {drop} yesterday on the dashboard but signups look normal. "
                  "how do i figure out if its real, step by step",
                  answer(r, "Rule out measurement first, then segment:", [
                      "did the tracking or the dashboard query change", "split by platform "
                      "and app version", "check the event pipeline lag", "compare with server "
                      "logs for the same day"], tok2(r)), 2, "analysis", ["aria-metrics"])]
    if r.random() < 0.6:
        turns.append(turn("whats a sane definition of 'activated user' for a b2b saas",
                          answer(r, "Tie it to first value:", ["e.g. invited a teammate and "
                                 "created a project within 7 days"], tok1(r)), 1, "analysis",
                          ["aria-metrics"]))
    return "dau drop", turns, []


def d_experiment(r: random.Random) -> Draft:
    """A/B test sizing and significance: short calculations, tier 1."""
    turns = [turn("ab test: baseline conversion 12%, want to detect +1.5pp, how many users per arm",
                  answer(r, "About 7,500 per arm at 80% power and alpha 0.05 (two-sided).", [
                      "run whole weeks to cover weekday effects", "don't peek and stop early"],
                         tok1(r)), 1, "analysis", ["aria-experiments"])]
    turns.append(turn("result: control 1200/10000, variant 1290/10000. significant?",
                      answer(r, "No: z ≈ 1.96 is right at the edge; p ≈ 0.05. Treat as "
                             "inconclusive.", [], tok1(r)), 1, "analysis",
                      ["aria-experiments"]))
    return "ab test sizing", turns, []


def d_forecast(r: random.Random) -> Draft:
    """Forecast from a monthly series: multi-step reasoning, tier 2."""
    base = r.randint(800, 2000)
    rows = [[f"2024-{m:02d}", int(base * (1 + 0.04 * m) * (1.2 if m in (11, 12) else 1))]
            for m in range(1, 13)]
    turns = [turn("project next quarters signups from this, how confident can we be\n\n"
                  + csv_text(["month", "signups"], rows),
                  answer(r, "Trend ~4% a month with a Nov-Dec bump:", [
                      "baseline: seasonal naive", "Holt-Winters with yearly seasonality needs "
                      "more than 12 points", "give a range, not a number"], tok2(r)),
                  2, "analysis", ["aria-forecast"])]
    return "signup forecast", turns, []


def d_market(r: random.Random) -> Draft:
    """Market data look-ups: tier 1 chat."""
    tk = pick(r, ["nvda", "aapl", "btc", "eur/usd", "the s&p"])
    turns = [turn(pick(r, [f"how's {tk} doing today", f"{tk} price?"]),
                  answer(r, f"I'll pull the latest quote for {tk.upper()}.", [
                      "last price and % change today", "52-week range"], tok1(r)),
                  1, "chat", ["aria-marketdata"])]
    if r.random() < 0.5:
        turns.append(turn("why did it move", answer(r, "Most likely the news of the day:", [
            "earnings or guidance", "macro data (CPI came out this morning)"], tok1(r)),
            1, "chat", ["aria-marketdata"]))
    return f"{tk} quote", turns, []


def d_memory(r: random.Random) -> Draft:
    """Preferences to remember across sessions."""
    t = pick(r, ["09:45", "10:00"])
    turns = [turn(f"remember: i prefer metric units and my standup is at {t} every day",
                  f"Saved: metric units; daily standup at {t}.", 1, "chat", ["aria-memory"])]
    if r.random() < 0.5:
        turns.append(turn("what do you know about me", answer(r, "What I've stored:", [
            "metric units", f"standup at {t}"], 60), 1, "chat", ["aria-memory"]))
    return "remember preferences", turns, []


def d_moltbook(r: random.Random) -> Draft:
    """The agent's Moltbook account."""
    turns = [turn("check my moltbook notifications and reply to the top comment, keep it short",
                  "Checking notifications. The top comment asks how the agent handles rate "
                  "limits; drafted reply: \"Backs off on 429 and retries after the cooldown.\" "
                  "Post it?", 1, "chat", ["aria-moltbook"]),
             turn("yes post", "Posted.", 1, "chat", ["aria-moltbook"])]
    return "moltbook reply", turns, []


def d_docs_readme(r: random.Random) -> Draft:
    """README for a pasted CLI: a document, not code, tier 2."""
    src = "\n".join([
        "import argparse", "", "def main():", "    p = argparse.ArgumentParser(prog='shopctl')",
        "    sub = p.add_subparsers(dest='cmd')", "    d = sub.add_parser('deploy')",
        "    d.add_argument('--env', choices=['staging', 'prod'], required=True)",
        "    d.add_argument('--tag')", "    s = sub.add_parser('status')",
        "    s.add_argument('--json', action='store_true')",
        "    r = sub.add_parser('rollback')", "    r.add_argument('--to', required=True)",
    ] * 4)
    turns = [turn("write a proper README for this cli, install, usage, examples\n\n" + src,
                  answer(r, "# shopctl\n\nDeploy, inspect and roll back shopfront services.", [
                      "Install: pipx install shopctl", "Usage: shopctl deploy --env staging "
                      "--tag v1.2.0", "shopctl status --json", "shopctl rollback --to v1.1.9",
                      "Exit codes and environment variables"], tok2(r)), 2, "code",
                  ["aria-docs"])]
    return "readme for shopctl", turns, []


def d_db_slow(r: random.Random) -> Draft:
    """EXPLAIN ANALYZE with an obvious seq scan: tier 1 ops."""
    plan = explain_plan("orders", r.randint(2_000_000, 9_000_000), r.uniform(900, 4000))
    turns = [turn("why is this slow\n\n" + plan,
                  answer(r, "It's a sequential scan over all orders to find one customer.", [
                      "add an index on (customer_id, created_at DESC)",
                      "create it CONCURRENTLY in prod"], tok1(r),
                         code="CREATE INDEX CONCURRENTLY orders_customer_created_idx\n"
                         "  ON orders (customer_id, created_at DESC);", lang="sql"),
                  1, "ops", ["aria-database"])]
    return "slow orders query", turns, []


def d_status_update(r: random.Random) -> Draft:
    """Short incident status update: tier 1 ops writing."""
    svc = pick(r, SERVICES)
    turns = [turn(f"{svc} is degraded, write a status page update, we're investigating",
                  answer(r, f"**Investigating** — We're seeing elevated errors on {svc}. "
                         "Some requests may fail or be slow. Next update in 30 minutes.", [],
                         r.randint(60, 120)), 1, "ops", ["aria-incident"])]
    if r.random() < 0.6:
        turns.append(turn("update: fixed, was a bad config push", answer(r, "**Resolved** — "
                          "A configuration change caused the errors; it has been reverted and "
                          "the service is healthy.", [], 70), 1, "ops", ["aria-incident"]))
    return f"{svc} status update", turns, []


def d_log_rca(r: random.Random) -> Draft:
    """Root cause over very long pasted logs (> 50k tokens in total): tier 2 ops."""
    owner = pick(r, PEOPLE)
    err = nginx_error(r, r.randint(290, 310), 50700)
    acc = nginx_access(r, r.randint(540, 580), 50400, bad_from=50700)
    app_msgs = ["HikariPool-1 - Connection is not available, request timed out after 30000ms.",
                "GET /api/v1/charge 200 41ms", "POST /api/v1/charge 500 30012ms",
                "pgbouncer: no more connections allowed (max_client_conn)",
                "Started PaymentsApplication in 8.112 seconds", "GC pause 212ms"]
    app = journal(r, r.randint(420, 460), "api-03", "payments-api", app_msgs, 50300)
    turns = [
        turn("payments 502s since about 14:05, here's the nginx error log. whats going on\n\n"
             + err,
             answer(r, "All errors point at one upstream, `10.0.4.21:8080`, timing out after "
                    "~30 s on POST /api/v1/charge:", [
                        "first timeout at 14:05, none before", "connection refused appears "
                        "later: the app is saturated, then restarting",
                        "only the charge endpoint: suspect its DB pool, not the network",
                        "next: app logs and the 14:02 deploy diff"], tok2(r)),
             2, "ops", ["aria-logs"]),
        turn("access log same window\n\n" + acc,
             answer(r, "The access log agrees: 502s start right after 14:05 and only on "
                    "/api/v1/charge and /api/v1/cart, with upstream times pinned at 30 s.", [
                        "static and health checks stay 200", "error share on charge ~70%",
                        "the pattern matches pool exhaustion in the app"], tok2(r)),
             2, "ops", ["aria-logs"]),
        turn(f"ok decision: roll back to v2.14.3 now, {owner} is doing the rollback. anything "
             "to watch", answer(r, "Watch these during the rollback:", [
                 "5xx rate on charge should drop within a few minutes", "pgbouncer waiting "
                 "clients back to 0", "keep one v2.15.0 pod's logs for the postmortem"],
                 tok1(r)), 1, "ops", ["aria-deploy"]),
        turn("app logs from api-03 meanwhile\n\n" + app,
             answer(r, "Confirmed: `HikariPool-1 - Connection is not available` and pgbouncer "
                    "`max_client_conn` errors start at 14:05; each new pod opens its full pool.",
                    ["root cause: pool min size raised in v2.15.0", "fix: smaller pool per pod "
                     "or raise pgbouncer limits", "add an alert on pool wait time"], tok2(r)),
             2, "ops", ["aria-logs"]),
        turn("rollback done 14:25, errors gone", "Good. Keep the incident open until the "
             "error rate has been flat for 30 minutes, then write it up.", 1, "ops",
             ["aria-incident"]),
        turn("write the slack summary for #incidents", answer(r, "**payments-api 502s — "
             "resolved**", ["14:05-14:25 UTC, ~70% of charge requests failed",
                            "cause: DB pool change in v2.15.0", "mitigation: rollback",
                            "postmortem to follow"], tok1(r)), 1, "ops", ["aria-incident"]),
        turn("which upstream ip was it again and who did the rollback",
             f"Upstream 10.0.4.21:8080; {owner} did the rollback.", 1, "ops"),
    ]
    probes = [("roll back to v2.14.3", 2), (f"{owner} is doing the rollback", 2),
              ("10.0.4.21:8080", 0)]
    return "payments 502s after deploy", turns, probes


CLI_CODE = '''import tomllib
from pathlib import Path

import click
import httpx

CONFIG = Path.home() / ".config" / "shopctl" / "config.toml"


def load_config() -> dict:
    """Read the config file; an absent file means defaults."""
    if not CONFIG.exists():
        return {"timeout": 20, "base_url": "https://api.shopfront.io"}
    return tomllib.loads(CONFIG.read_text())


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    ctx.obj = load_config()


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def status(cfg: dict, as_json: bool) -> None:
    resp = httpx.get(f"{cfg['base_url']}/status", timeout=cfg["timeout"])
    resp.raise_for_status()
    click.echo(resp.text if as_json else resp.json()["summary"])'''


def d_long_coding(r: random.Random) -> Draft:
    """A day-long coding session (> 20 turns): code turns tier 3, questions tier 1."""
    tmo = pick(r, ["20 s", "15 s"])
    turns = [
        turn(f"lets build a small cli called shopctl. click not argparse. config lives in "
             f"~/.config/shopctl/config.toml, default timeout {tmo}. start with a status command",
             answer(r, "Skeleton with config loading and `status`:", [
                 "config is optional; defaults apply", "--json prints raw output"], tok2(r),
                 code=CLI_CODE, lang="python"), 3, "code"),
        turn("add a deploy command: --env staging|prod required, --tag optional, confirm "
             "before prod", answer(r, "Added `deploy` with a prod confirmation:", [],
                                   tok2(r), code="@cli.command()\n@click.option('--env', "
                                   "type=click.Choice(['staging', 'prod']), required=True)\n"
                                   "@click.option('--tag')\n@click.pass_obj\ndef deploy(cfg, "
                                   "env, tag):\n    if env == 'prod':\n        click.confirm("
                                   "'Deploy to prod?', abort=True)\n    ...", lang="python"),
             3, "code", ["aria-deploy"]),
        turn("how do i install it locally in editable mode", "`pip install -e .` from the "
             "repo root (with a pyproject that declares the `shopctl` script).", 1, "code"),
        turn("pyproject for it pls", answer(r, "Minimal pyproject:", [], tok1(r),
             code="[project]\nname = \"shopctl\"\nversion = \"0.1.0\"\ndependencies = "
             "[\"click>=8.1\", \"httpx>=0.27\"]\n\n[project.scripts]\nshopctl = "
             "\"shopctl.cli:cli\"", lang="toml"), 1, "code"),
    ]
    tb = traceback([("/home/me/shopctl/shopctl/cli.py", 31, "status",
                     "click.echo(resp.text if as_json else resp.json()[\"summary\"])")],
                   "KeyError: 'summary'")
    steps = [
        ("getting this\n" + tb + "\nthe api returns {\"state\": ..., \"services\": [...]}",
         answer(r, "The API has no `summary`; build one from `services`:", [], tok2(r),
                code="data = resp.json()\nbad = [s['name'] for s in data['services'] if "
                "s['state'] != 'ok']\nclick.echo('all ok' if not bad else 'degraded: ' + "
                "', '.join(bad))", lang="python"), 3, "code", []),
        ("tests for status with httpx mocked", answer(r, "Using respx:", [], tok2(r),
         code="def test_status_degraded(respx_mock):\n    respx_mock.get(...).respond(json={"
         "'services': [{'name': 'db', 'state': 'down'}]})\n    result = CliRunner().invoke("
         "cli, ['status'])\n    assert 'degraded: db' in result.output", lang="python"),
         3, "code", []),
        ("what's respx", "A mocking library for httpx: it intercepts requests by URL and "
         "returns canned responses.", 1, "code", []),
        ("add a rollback command --to <tag>", answer(r, "Added `rollback`:", [], tok2(r),
         code="@cli.command()\n@click.option('--to', 'tag', required=True)\n@click.pass_obj\n"
         "def rollback(cfg, tag):\n    ...", lang="python"), 3, "code", ["aria-deploy"]),
        ("ruff complains B008 on the option default, ignore?", "B008 is about calls in "
         "defaults; here move the call into the body instead of ignoring.", 1, "code", []),
        ("coffee break brb", "Enjoy.", 1, "chat", []),
        ("back. how do i make --json global instead of per command", answer(r, "Put it on "
         "the group and store it on ctx.obj:", [], tok1(r)), 1, "code", []),
        ("do it", answer(r, "Moved --json to the group:", [], tok2(r), code="@click.group()\n"
         "@click.option('--json', 'as_json', is_flag=True)\n@click.pass_context\ndef cli(ctx, "
         "as_json):\n    ctx.obj = {**load_config(), 'json': as_json}", lang="python"),
         3, "code", []),
        ("tests now fail:\n" + pytest_output(r, 9, [
            ("tests/test_cli.py::test_status_json", "tests/test_cli.py:41",
             "assert 'degraded' in '{\"services\": []}'")]),
         answer(r, "The test passes --json after the subcommand; group options go before it:",
                [], tok2(r), code="result = CliRunner().invoke(cli, ['--json', 'status'])",
                lang="python"), 3, "code", []),
        ("commit msg for all this", "```\nshopctl: status, deploy, rollback; global --json\n"
         "```", 1, "code", []),
        ("write the README usage section", answer(r, "## Usage", [
            "shopctl status", "shopctl --json status", "shopctl deploy --env staging --tag "
            "v1.2.0", "shopctl rollback --to v1.1.9"], tok1(r)), 1, "code", ["aria-docs"]),
        ("should the config support env vars too", answer(r, "Yes, for CI:", [
            "SHOPCTL_BASE_URL and SHOPCTL_TIMEOUT override the file", "document the order "
            "of precedence"], tok1(r)), 1, "code", []),
        ("implement that", answer(r, "Env overrides in load_config:", [], tok2(r),
         code="for key in ('base_url', 'timeout'):\n    env = os.environ.get(f'SHOPCTL_{key."
         "upper()}')\n    if env:\n        cfg[key] = int(env) if key == 'timeout' else env",
         lang="python"), 3, "code", []),
        ("is int() safe there", "It raises ValueError on junk; wrap it and exit with a clear "
         "message.", 1, "code", []),
        ("add retries on 502/503 to the http calls, 3 tries", answer(r, "An httpx transport "
         "with retries:", [], tok2(r), code="transport = httpx.HTTPTransport(retries=3)\n"
         "client = httpx.Client(transport=transport, timeout=cfg['timeout'])", lang="python"),
         3, "code", []),
        ("wait that retries only connect errors right", "Right: HTTPTransport(retries=...) "
         "retries connection failures, not 502/503. For status codes wrap the call in your "
         "own loop.", 1, "code", []),
        ("ok do the loop", answer(r, "Status-aware retry:", [], tok2(r), code="for attempt "
         "in range(3):\n    resp = client.get(url)\n    if resp.status_code not in (502, 503):"
         "\n        break\n    time.sleep(2 ** attempt)", lang="python"), 3, "code", []),
        ("thx thats enough for today", "Nice progress. Open items: packaging and CI.", 1,
         "chat", []),
        ("what timeout did we default to and where's the config again",
         f"Default timeout {tmo.replace(' s', '')} seconds; config at "
         "~/.config/shopctl/config.toml.", 1, "code", []),
    ]
    for u, a, tier, tt, sk in steps:
        turns.append(turn(u, a, tier, tt, sk))
    probes = [("~/.config/shopctl/config.toml", 0), (f"default timeout {tmo}", 0),
              ("click not argparse", 0), ("confirm before prod", 1)]
    return "shopctl cli session", turns, probes


def d_offsite(r: random.Random) -> Draft:
    """Planning a team offsite over a long chat (> 20 turns): mostly tier 1 chat."""
    city = pick(r, ["Lisbon", "Porto", "Valencia"])
    budget = pick(r, ["€4,500", "€6,000"])
    booker = pick(r, PEOPLE)
    dates = pick(r, ["June 12-13", "June 19-20"])
    turns = [
        turn(f"planning our team offsite, 9 people, {city}, {dates}, budget {budget} total "
             "excl flights. help me plan", answer(r, f"Two days in {city} for nine people on "
             f"{budget}:", ["venue with a meeting room (half the budget)", "one team dinner",
                            "one activity", "agenda: 60% planning, 40% social"], tok2(r)),
             2, "analysis"),
        turn(f"{booker} books the venue by friday, i do dinner", f"Noted: {booker} books the "
             "venue by Friday; you handle dinner.", 1, "chat", ["aria-tasks"]),
    ]
    pool = [
        ("what time is 10am lisbon for our person in new york", "5am in New York: in June "
         "Lisbon is UTC+1 and New York UTC-4.", 1,
         "chat", ["aria-calendar"]),
        ("draft the invite email to the team", answer(r, f"**Subject:** Offsite {city}, "
         f"{dates}", ["dates and city", "what to bring", "RSVP by Friday"], tok1(r)), 1,
         "chat", ["aria-writing"]),
        ("shorter", "Offsite in " + city + ", " + dates + ". RSVP by Friday!", 1, "chat",
         ["aria-writing"]),
        ("ideas for an activity thats not a boring escape room", answer(r, "Options:", [
            "surf lesson", "food tour", "tile-painting workshop", "sailing trip"], tok1(r)),
         1, "chat", []),
        ("food tour sounds good", "Food tour it is. Book a private group slot.", 1, "chat",
         []),
        ("agenda for day 1", answer(r, "Day 1:", ["09:30 coffee", "10:00 year so far",
                                                  "11:30 roadmap", "14:00 workshops",
                                                  "17:00 food tour"], tok1(r)), 1, "chat",
         []),
        ("and day 2", answer(r, "Day 2:", ["09:30 retro", "11:00 team agreements",
                                           "13:00 lunch and wrap-up"], tok1(r)), 1, "chat",
         []),
        ("add 'collect dietary needs' to my list", "Added.", 1, "chat", ["aria-tasks"]),
        ("remember that Lena is vegetarian", "Saved: Lena is vegetarian.", 1, "chat",
         ["aria-memory"]),
        ("how much per person is left for dinner if venue is 2100", "About €150 per person "
         "if the rest is split between dinner and the activity.", 1, "chat", []),
        ("ok", "👍", 1, "chat", []),
        ("put a 30 min prep call in everyones calendar next tue 16:00", "Drafted a 30-minute "
         "'Offsite prep' for Tuesday 16:00 with all nine invitees.", 1, "chat",
         ["aria-calendar"]),
        ("whats still open", answer(r, "Open:", ["venue booking", "dinner booking",
                                                 "dietary needs", "food tour slot"], tok1(r)),
         1, "chat", ["aria-tasks"]),
        ("write a slack message hyping it", "🌊 Offsite is ON. Sun, food, and zero slides "
         "after 5pm. RSVP in the thread!", 1, "chat", ["aria-writing"]),
        ("lol too much emoji", "Offsite is on! Details in the invite, RSVP in the thread.",
         1, "chat", ["aria-writing"]),
        ("thx", "Anytime.", 1, "chat", []),
        ("venue quoted 2400 not 2100, still ok?", "Yes, tighter: about €130 a head for "
         "dinner and the tour.", 1, "chat", []),
        ("draft the dinner booking email in portuguese", answer(r, "Olá, gostaríamos de "
         "reservar uma mesa para 9 pessoas...", [], tok1(r)), 1, "chat", ["aria-writing"]),
        ("plan b if it rains", answer(r, "Indoor options:", ["cooking class",
                                                             "museum + long lunch"], tok1(r)),
         1, "chat", []),
        ("remind me the total budget and who books the venue",
         f"Budget {budget} excluding flights; {booker} books the venue.", 1, "chat",
         ["aria-tasks"]),
    ]
    for u, a, tier, tt, sk in pool:
        turns.append(turn(u, a, tier, tt, sk))
    probes = [(f"budget {budget}", 0), (f"{booker} books the venue by friday", 1),
              (dates, 0)]
    return f"team offsite in {city}", turns, probes


# --- cron_job templates ----------------------------------------------------------------------
# Machine-issued: a fixed instruction plus a fresh paste. Start times are fixed per job.


def c_backup(r: random.Random) -> Draft:
    """Nightly backup log: short, tier 1."""
    host = pick(r, ["db-01", "files-01", "db-02"])
    fail = r.random() < 0.4
    log = restic_log(r, host, fail, r.randint(20, 60))
    rep = ("**FAILED** — snapshot upload timed out (S3 i/o timeout); no snapshot saved "
           "tonight. Check network/S3 endpoint and re-run." if fail else
           "OK — snapshot saved, retention applied, no errors.")
    turns = [turn("Summarise last night's backup log below; flag failures. Max 5 lines.\n\n"
                  + log, rep, 1, "ops", ["aria-backup"])]
    return f"nightly backup summary {host}", turns, []


def c_health(r: random.Random) -> Draft:
    """Morning host health report."""
    hosts = r.sample(HOSTS, 3)
    paste = "\n\n".join(df_output(r, h, pick(r, ["/", "/data", "/var/lib/postgresql"])) + "\n"
                        + top_output(r, h) for h in hosts)
    turns = [turn("Daily host report. Flag any filesystem over 85% and any load average above "
                  "the core count (8). One line per host.\n\n" + paste,
                  answer(r, "Host report:", [f"{h}: one mount above 90% — clean up or grow "
                                             "the volume" for h in hosts], tok1(r)),
                  1, "ops", ["aria-health"])]
    return "daily host report", turns, []


def c_certs(r: random.Random) -> Draft:
    """TLS certificate expiry check."""
    rows = []
    for d in ["shopfront.io", "api.shopfront.io", "admin.shopfront.io", "status.shopfront.io",
              "cdn.shopfront.io", "grafana.acme.internal"]:
        days = r.randint(3, 80)
        rows.append(f"{d:<24} notAfter=Apr {r.randint(1, 28):02d} 12:00:00 2025 GMT  "
                    f"days_left={days}  issuer=R11")
    turns = [turn("Certificate check output below. List certs expiring within 14 days and "
                  "say whether auto-renew should have caught them.\n\n" + "\n".join(rows),
                  answer(r, "Expiring within 14 days:", [
                      "any cert with days_left under 14 — Let's Encrypt renews at 30, so "
                      "certbot's timer is probably failing on that host"], tok1(r)),
                  1, "ops", ["aria-security"])]
    return "tls expiry check", turns, []


def c_nginx_digest(r: random.Random) -> Draft:
    """Hourly-ish nginx error digest, small paste: tier 1."""
    t0 = r.randint(8, 17) * 3600
    log = nginx_error(r, r.randint(8, 18), t0)
    turns = [turn("Digest of nginx error.log since last run. Group by message, give counts, "
                  "flag anything new.\n\n" + log,
                  answer(r, "Error digest:", ["upstream timed out — most lines",
                                              "connection refused — a few",
                                              "nothing new vs the last run"], tok1(r)),
                  1, "ops", ["aria-logs"])]
    return "nginx error digest", turns, []


def c_nginx_nightly(r: random.Random) -> Draft:
    """The full-day nginx digest: a big paste (> 3,000 tokens), not code, so tier 2."""
    log = nginx_access(r, r.randint(380, 420), 0, bad_from=50700)
    turns = [turn("End-of-day access log sample below. Report request volume by hour, 5xx "
                  "rate by endpoint, and anything that needs follow-up tomorrow.\n\n" + log,
                  answer(r, "Daily report:", ["volume by hour peaks mid-afternoon",
                                              "5xx concentrated on /api/v1/charge and "
                                              "/api/v1/cart after 14:05", "follow-up: "
                                              "confirm the rollback fixed it for good"],
                         tok2(r)), 2, "ops", ["aria-logs"])]
    return "nightly nginx report", turns, []


def c_ci_nightly(r: random.Random) -> Draft:
    """Nightly CI run: pytest output, summarise failures."""
    fails = [("tests/api/test_charge.py::test_charge_idempotent", "tests/api/test_charge.py:88",
              "assert 502 == 200"),
             ("tests/api/test_refund.py::test_partial_refund", "tests/api/test_refund.py:41",
              "assert Decimal('9.99') == Decimal('10.00')")][:r.randint(1, 2)]
    out = pytest_output(r, r.randint(400, 900), fails)
    turns = [turn("Nightly CI run finished red. Summarise which tests failed and the likely "
                  "cause in 3 lines.\n\n" + out,
                  answer(r, "Nightly CI:", [f"{t.split('::')[-1]}: {e}" for t, _, e in fails],
                         tok1(r)), 1, "code", ["aria-deploy"])]
    return "nightly ci summary", turns, []


def c_standup(r: random.Random) -> Draft:
    """Morning task digest from a Jira API response."""
    issues = [{"key": f"OPS-{r.randint(100, 999)}", "summary": s, "status": st,
               "due": f"2025-03-{r.randint(10, 20)}", "assignee": "me"}
              for s, st in [("Rotate stripe webhook secret", "To Do"),
                            ("Postgres 16 upgrade rehearsal", "In Progress"),
                            ("Fix flaky refund test", "To Do"),
                            ("Write cert renewal runbook", "To Do"),
                            ("Review pgbouncer limits", "Blocked")]]
    turns = [turn("Morning digest. From the issues below list what is overdue (today is "
                  f"{DATE}), what's due today, and what's blocked.\n\n"
                  + jsonl_tool({"issues": issues}),
                  answer(r, "Today:", ["overdue: items with due before the 13th",
                                       "due today: those dated the 13th",
                                       "blocked: Review pgbouncer limits"], tok1(r)),
                  1, "chat", ["aria-tasks"])]
    return "morning task digest", turns, []


def c_calendar(r: random.Random) -> Draft:
    """Daily calendar brief."""
    evs = [{"title": t, "start": f"{DATE}T{h}:00+01:00", "minutes": m}
           for t, h, m in [("Standup", "09:45", 15), ("1:1 Priya", "11:00", 30),
                           ("Vendor call (NYC)", "15:00", 45), ("Infra sync", "15:30", 60),
                           ("Focus block", "16:30", 90)]]
    turns = [turn("Summarise my day from the calendar JSON. Times in Europe/Berlin. Flag "
                  "overlaps.\n\n" + jsonl_tool({"events": evs}),
                  answer(r, "Your day:", ["09:45 standup", "11:00 1:1 with Priya",
                                          "15:00 vendor call overlaps the 15:30 infra sync",
                                          "16:30 focus block"], tok1(r)),
                  1, "chat", ["aria-calendar"])]
    return "daily calendar brief", turns, []


def c_kpi(r: random.Random) -> Draft:
    """Daily KPI digest."""
    m = {k: {"yesterday": r.randint(lo, hi), "avg_7d": r.randint(lo, hi)}
         for k, lo, hi in [("dau", 8000, 12000), ("signups", 150, 400), ("trials_started",
                           40, 120), ("paid_conversions", 5, 30), ("churned_accounts", 1, 12)]}
    turns = [turn("Daily KPI digest. Flag any metric that moved more than 10% vs its 7-day "
                  "average and say whether it looks like a tracking issue.\n\n" + jsonl_tool(m),
                  answer(r, "KPI digest:", [f"{k}: {v['yesterday']} vs {v['avg_7d']}"
                                            for k, v in m.items()], tok1(r)),
                  1, "analysis", ["aria-metrics"])]
    return "daily kpi digest", turns, []


def c_market(r: random.Random) -> Draft:
    """Market close summary for a watchlist."""
    q = [{"symbol": s, "close": round(r.uniform(20, 900), 2), "change_pct":
          round(r.uniform(-4, 4), 2)} for s in ["NVDA", "AAPL", "MSFT", "BTC-USD", "EURUSD=X"]]
    turns = [turn("Market close summary for my watchlist, 3 lines, biggest movers first.\n\n"
                  + jsonl_tool(q), answer(r, "Close:", [f"{x['symbol']} {x['change_pct']}%"
                                                        for x in q], tok1(r)),
                  1, "chat", ["aria-marketdata"])]
    return "market close summary", turns, []


def c_audit(r: random.Random) -> Draft:
    """Weekly dependency audit (pip-audit JSON)."""
    deps = [{"name": n, "version": v, "vulns": [{"id": cve, "fix_versions": [fx]}]}
            for n, v, cve, fx in [("jinja2", "3.1.2", "CVE-2024-22195", "3.1.3"),
                                  ("requests", "2.31.0", "CVE-2024-35195", "2.32.0"),
                                  ("cryptography", "41.0.7", "CVE-2024-26130", "42.0.4"),
                                  ("idna", "3.6", "CVE-2024-3651", "3.7")][:r.randint(2, 4)]]
    turns = [turn("Weekly pip-audit result. List vulnerable packages with fix versions and "
                  "say which to upgrade first.\n\n" + jsonl_tool({"dependencies": deps}),
                  answer(r, "Upgrade:", [f"{d['name']} {d['version']} -> "
                                         f"{d['vulns'][0]['fix_versions'][0]}" for d in deps],
                         tok1(r)), 1, "ops", ["aria-security"])]
    return "weekly dependency audit", turns, []


def c_slowlog(r: random.Random) -> Draft:
    """Slow query log digest."""
    log = pg_slow_log(r, r.randint(25, 40))
    turns = [turn("Slow query digest for the last 24h. Top 3 statements by total time, and "
                  "one suggested fix each.\n\n" + log,
                  answer(r, "Top statements:", ["orders by customer_id: missing index",
                                                "count(*) on events: use an estimate or a "
                                                "rollup", "sessions delete: batch it"],
                         tok1(r)), 1, "ops", ["aria-database"])]
    return "slow query digest", turns, []


def c_kube_events(r: random.Random) -> Draft:
    """Overnight cluster events."""
    ev = kube_events(r, r.randint(25, 45), "prod")
    turns = [turn("Overnight cluster events (prod). Summarise and flag anything that needs a "
                  "human this morning.\n\n" + ev,
                  answer(r, "Needs a human:", ["media-proc keeps restarting (OOM on "
                                               "ip-10-0-3-41)", "checkout pod unschedulable: "
                                               "insufficient memory"], tok1(r)),
                  1, "ops", ["aria-health"])]
    return "overnight k8s events", turns, []


def c_cron_mail(r: random.Random) -> Draft:
    """Cron mail digest: did the jobs run?"""
    mails = "\n\n".join(
        f"From: root@{h} (Cron Daemon)\nSubject: Cron <app@{h}> {cmd}\n\n{body}"
        for h, cmd, body in [
            ("web-01", "/opt/reports/run.sh", "report written: /srv/reports/2025-03-12.pdf"),
            ("worker-04", "/usr/local/bin/cleanup-tmp", "removed 1822 files"),
            ("db-01", "/opt/etl/run.sh", pick(r, ["ERROR: relation \"stg_orders\" does not "
                                                  "exist", "etl ok rows=48211"])),
        ])
    turns = [turn("Cron mail from overnight below. Reply OK if all jobs succeeded, else list "
                  "the failures and a likely cause.\n\n" + mails,
                  answer(r, "Cron check:", ["web-01 report: ok", "worker-04 cleanup: ok",
                                            "db-01 etl: check the output line"], tok1(r)),
                  1, "ops", ["aria-cron"])]
    return "overnight cron mail", turns, []


def c_moltbook(r: random.Random) -> Draft:
    """Moltbook heartbeat: the agent's scheduled feed check."""
    feed = [{"id": f"p_{r.randrange(16**6):06x}", "submolt": pick(r, ["m/general",
             "m/showandtell", "m/ops"]), "title": pick(r, [
                 "how do you all handle rate limits?", "my human made me write tests",
                 "cron jobs are agents too", "TIL about flock", "best way to summarise logs?"]),
             "comments": r.randint(0, 40), "score": r.randint(-2, 120)} for _ in range(8)]
    turns = [turn("Moltbook heartbeat. Check the feed below; pick at most 2 posts worth a "
                  "reply and draft the replies (2 sentences each).\n\n" + jsonl_tool(feed),
                  answer(r, "Worth replying:", ["the rate-limit question: explain backoff",
                                                "the log-summary question: share the digest "
                                                "format"], tok1(r)), 1, "chat",
                  ["aria-moltbook"])]
    return "moltbook heartbeat", turns, []


def c_newsletter_stats(r: random.Random) -> Draft:
    """Weekly newsletter performance."""
    rows = [[f"issue-{i}", r.randint(9000, 9800), f"{r.uniform(20, 45):.1f}%",
             f"{r.uniform(1, 6):.1f}%", r.randint(3, 40)] for i in range(40, 46)]
    turns = [turn("Newsletter stats for the last 6 issues below. 3-line summary of the latest "
                  "issue vs the average.\n\n" + csv_text(["issue", "sent", "open_rate",
                                                          "click_rate", "unsubs"], rows),
                  answer(r, "Latest issue:", ["open rate vs average", "click rate vs average",
                                              "unsubscribes in range"], tok1(r)),
                  1, "chat", ["aria-newsletter"])]
    return "newsletter weekly stats", turns, []


def d_explain_deep(r: random.Random) -> Draft:
    """Explain a concept in depth: tier 2 analysis."""
    topic, sk, follow, fa = [
        ("how postgres MVCC and vacuum actually work, in detail", ["aria-database"],
         "so why is my events table 3x bigger than its data", "Dead tuples autovacuum "
         "hasn't reclaimed; check n_dead_tup and long-running transactions."),
        ("how raft leader election and log replication work, step by step", [],
         "what happens if two nodes time out at once", "Split vote: nobody gets a majority, "
         "both time out again with new random timeouts, and one usually wins the next "
         "term."),
        ("how TLS 1.3 handshake works, deep dive pls", ["aria-security"],
         "so where does the cert chain get checked", "The client checks it after the "
         "server's Certificate and CertificateVerify messages, before it sends Finished."),
    ][r.randrange(3)]
    turns = [turn(f"explain {topic}", answer(r, "Here's the full picture:", [
        "the core data structures involved", "what happens on each step",
        "what can go wrong and how you'd notice", "the settings that matter in practice"],
        tok2(r)), 2, "analysis", sk)]
    if r.random() < 0.7:
        turns.append(turn(follow, answer(r, fa, [], tok1(r)), 1, "analysis", sk))
    return "explain " + topic.split(",")[0][:40], turns, []


RFC_SENTENCES = [
    "We propose moving session storage from Redis to Postgres to reduce moving parts.",
    "Sessions are read on every request and written on login and logout.",
    "Peak traffic is 4,000 requests per second across 12 application pods.",
    "The migration will dual-write for two weeks before switching reads.",
    "Expired sessions will be deleted by a nightly job.",
    "We expect no user-visible change.",
    "Redis will be decommissioned once reads are switched.",
    "The sessions table will be partitioned by day.",
]


def d_review_rfc(r: random.Random) -> Draft:
    """Review a pasted proposal: a document review is tier 2 analysis."""
    doc = "# RFC-41: sessions in Postgres\n\n" + prose(r, RFC_SENTENCES, r.randint(40, 70))
    turns = [turn("review this rfc before the arch meeting. what's missing, what are the "
                  "risks\n\n" + doc,
                  answer(r, "Main gaps:", [
                      "no load estimate for Postgres: 4k reads/s moves onto the primary",
                      "rollback plan after Redis is gone", "nightly delete on a hot table; "
                      "partition drops are cheaper", "no latency budget for session reads"],
                         tok2(r)), 2, "analysis")]
    turns.append(turn("give me 3 questions to ask in the meeting", answer(r, "Ask:", [
        "what is the p99 budget for a session read?", "how do we roll back after "
        "decommissioning Redis?", "who owns the partition maintenance?"], tok1(r)),
        1, "analysis"))
    return "review sessions rfc", turns, []


def d_capacity(r: random.Random) -> Draft:
    """Capacity estimate from current numbers: tier 2 analysis."""
    rps = r.randint(800, 3000)
    turns = [turn(f"we're at {rps} rps peak on 6 nodes at ~55% cpu. black friday is ~3x. how "
                  "many nodes do we need, and what else breaks first? think it through",
                  answer(r, f"At 3x ({rps * 3} rps) CPU alone says ~20 nodes at 50% target, "
                         "but other limits usually bite first:", [
                             "database connections per pod", "the load balancer's connection "
                             "limits", "third-party payment API rate limits",
                             "autoscaling lag during the first minutes"], tok2(r)),
                  2, "analysis", ["aria-forecast"])]
    return "black friday capacity", turns, []


def d_study_plan(r: random.Random) -> Draft:
    """A study plan: planning is tier 2 analysis."""
    subj = pick(r, ["the CKA exam", "postgres internals", "rust for a python dev"])
    turns = [turn(f"make me a 6 week study plan for {subj}, ~5h a week, i learn by doing",
                  answer(r, f"Six weeks for {subj}:", [f"week {i}: one topic, one lab"
                                                        for i in range(1, 7)], tok2(r)),
                  2, "analysis")]
    if r.random() < 0.6:
        turns.append(turn("put the week 1 sessions in my calendar tue/thu evenings",
                          "Added two 2.5-hour blocks, Tuesday and Thursday 19:00.", 1, "chat",
                          ["aria-calendar"]))
    return f"study plan: {subj}", turns, []


def d_rollout_plan(r: random.Random) -> Draft:
    """Plan a safe rollout: tier 2 analysis with the deploy skill."""
    svc = pick(r, ["new auth service", "search-svc v2", "checkout rewrite"])
    turns = [turn(f"plan the rollout for the {svc}: feature flag, canary, rollback criteria. "
                  "we've been burned before so thorough pls",
                  answer(r, "Rollout plan:", ["ship dark behind a flag", "internal users first",
                                              "1% -> 10% -> 50% -> 100% with bake times",
                                              "abort criteria per step", "rollback = flag off"],
                         tok2(r)), 2, "analysis", ["aria-deploy"])]
    return f"rollout plan {svc}", turns, []


def d_k8s_rca(r: random.Random) -> Draft:
    """Root cause over a long pasted events + logs dump (> 3,000 tokens): tier 2 ops."""
    paste = (kube_events(r, r.randint(60, 80), "prod") + "\n\n"
             + docker_logs(r, r.randint(120, 160), "checkout", 7200,
                           err="redis: connection pool timeout"))
    turns = [turn("checkout was down 2-3am, here's events and logs. root cause?\n\n" + paste,
                  answer(r, "Most likely chain of events:", [
                      "node ip-10-0-3-41 ran out of memory and OOM-killed pods",
                      "checkout pods could not be rescheduled (insufficient memory)",
                      "the survivors hit redis pool timeouts under the extra load",
                      "fix: memory requests that match usage, and a PodDisruptionBudget"],
                         tok2(r)), 2, "ops", ["aria-logs"])]
    turns.append(turn("what do i tell the team in one line", "Checkout went down 02:00-03:00 "
                      "because a node ran out of memory and the pods had nowhere to go; "
                      "fixing requests and adding a PDB.", 1, "ops", ["aria-incident"]))
    return "checkout down overnight", turns, []


def d_cost_compare(r: random.Random) -> Draft:
    """Compare hosting options on cost with trade-offs: tier 2 analysis."""
    bill = pick(r, ["$8,400", "$12,900", "$5,100"])
    turns = [turn(f"our aws bill is {bill}/mo (mostly ec2 + rds). would hetzner dedicated be "
                  "worth it? compare honestly incl ops cost",
                  answer(r, "It depends on how much of the bill is managed services:", [
                      "raw compute is 3-5x cheaper on dedicated boxes",
                      "you take over database ops, backups and failover",
                      "people cost can eat the saving below ~$10k/mo",
                      "a middle path: move stateless workers first"], tok2(r)),
                  2, "analysis")]
    return "aws vs hetzner cost", turns, []


def c_ops_digest(r: random.Random) -> Draft:
    """End-of-day digest of the ops channel: a long paste (> 3,000 tokens), tier 2."""
    people = r.sample(PEOPLE, 5)
    tr = transcript(r, people, SLACK_LINES, r.randint(330, 380), 28800)
    turns = [turn("Daily digest of #ops (export below). Decisions, open issues, and who is "
                  "waiting on whom. Max 10 bullets.\n\n" + tr,
                  answer(r, "#ops today:", ["decision: cap retries at 3 + jitter",
                                            "open: dashboard double counting",
                                            "open: is the mobile client affected?",
                                            f"{people[0]} writing up the retry change"],
                         tok2(r)), 2, "chat", ["aria-summarize"])]
    return "ops channel digest", turns, []


# --- sub_agent templates ---------------------------------------------------------------------
# Instructions from an orchestrating agent: tool results pasted in, often many turns.

Step = tuple[str, str, int, str, list[str]]


def steps_to_turns(steps: list[Step]) -> list[Turn]:
    """Turn a list of hand-labelled (user, reply, tier, task_type, skills) into turns."""
    return [turn(u, a, tier, tt, sk) for u, a, tier, tt, sk in steps]


def pods_table(r: random.Random, svc: str, n: int, restarts: bool) -> str:
    """`kubectl get pods` for one deployment."""
    rows = ["NAME                               READY   STATUS             RESTARTS      AGE"]
    for _ in range(n):
        st = pick(r, ["Running", "CrashLoopBackOff"]) if restarts else "Running"
        rows.append(f"{svc}-7c9d{r.randrange(16**4):04x}-{r.randrange(36**5):05x}   "
                    f"{'0/1' if st != 'Running' else '1/1'}     {st:<18} "
                    f"{r.randint(0, 9) if restarts else 0:<13} {r.randint(5, 90)}m")
    return "\n".join(rows)


def s_investigate_502(r: random.Random) -> Draft:
    """Long multi-step investigation (30 turns, > 50k tokens of tool output)."""
    svc = "payments-api"
    owner = pick(r, PEOPLE)
    pool = pick(r, ["min_size: 40", "min_size: 32"])
    logs = docker_logs(r, r.randint(1450, 1550), svc, 50200,
                       err="psycopg_pool.PoolTimeout: couldn't get a connection after 30.00 sec")
    nerr = nginx_error(r, r.randint(140, 160), 50700)
    jr = journal(r, r.randint(180, 220), "pgbouncer-1", "pgbouncer",
                 ["LOG C-0x55d1: shopfront/app@10.0.7.18:51234 closing because: no more "
                  "connections allowed (max_client_conn) (age=0s)",
                  "LOG stats: 412 xacts/s, 1290 queries/s, in 421331 B/s, out 1840021 B/s, "
                  "xact 2410 us, query 780 us, wait 29811 us",
                  "WARNING C-0x55d1: pooler error: no more connections allowed"], 50000)
    diff = ("diff --git a/config/pool.yaml b/config/pool.yaml\n--- a/config/pool.yaml\n"
            "+++ b/config/pool.yaml\n@@ -1,5 +1,5 @@\n database:\n-  min_size: 2\n+  "
            f"{pool}\n   max_size: 40\n   timeout: 30")
    act = "\n".join(["application_name | count", "-----------------+------"]
                    + [f"{svc}-7c9d{r.randrange(16**4):04x} | {r.randint(36, 40)}"
                       for _ in range(12)] + ["(12 rows)"])
    steps: list[Step] = [
        (f"Task: find why {svc} returns 502 since 14:05 UTC and propose a mitigation. "
         f"Escalation owner: {owner}. Config path: /srv/payments/config/pool.yaml. Start by "
         "reading the pod list.\n\nTool result (kubectl get pods -n prod -l app=payments-api):"
         "\n" + pods_table(r, svc, 12, False),
         "All 12 pods are Running with no restarts, so this is not a crash loop. Next I'll "
         "read the application logs around 14:05.", 1, "ops", ["aria-logs"]),
        ("Tool result (kubectl logs deploy/payments-api -n prod --since=30m):\n" + logs,
         answer(r, "The only error pattern is `psycopg_pool.PoolTimeout` after 30 s, "
                "starting just after 14:05 and repeating every few seconds:", [
                    "requests wait the full 30 s for a DB connection", "no application "
                    "exceptions before that", "pool exhaustion, not slow queries, is the "
                    "first suspect"], tok2(r)), 2, "ops", ["aria-logs"]),
        ("Tool result (tail -n 150 /var/log/nginx/error.log on edge-lb-1):\n" + nerr,
         answer(r, "nginx confirms upstream timeouts to 10.0.4.21:8080 from 14:05; they "
                "match the pool timeouts one-to-one.", ["the load balancer is a victim, "
                                                        "not the cause"], tok2(r)),
         2, "ops", ["aria-logs"]),
        ("Tool result (psql: select application_name, count(*) from pg_stat_activity "
         "group by 1):\n" + act,
         "Each pod holds 36-40 server connections: 12 pods x ~40 = ~480, above what "
         "pgbouncer allows. That points at the pool size.", 1, "ops", ["aria-database"]),
        ("Tool result (journalctl -u pgbouncer --since 13:55 on pgbouncer-1):\n" + jr,
         answer(r, "pgbouncer is refusing clients with `max_client_conn` from 14:04:52.", [
             "it hit its limit of 300 clients", "stats show wait time jumping to ~30 ms "
             "per query", "consistent with every pod pre-opening its pool"], tok2(r)),
         2, "ops", ["aria-logs", "aria-database"]),
        ("Tool result (git diff v2.14.3 v2.15.0 -- config/pool.yaml):\n" + diff,
         f"Root cause found: v2.15.0 changed the pool to `{pool}`, so each pod opens its "
         "whole pool at start-up and pgbouncer runs out of client slots.", 1, "ops",
         ["aria-deploy"]),
        ("Report your recommendation in 3 lines for the orchestrator.",
         "1. Roll back payments-api to v2.14.3 now.\n2. Then ship min_size 2 with max_size "
         "20 per pod.\n3. Add an alert on pgbouncer cl_waiting > 0 for 2 min.", 1, "ops",
         ["aria-deploy"]),
        (f"Decision from {owner}: roll back to v2.14.3. Tool result (kubectl rollout undo "
         "deploy/payments-api -n prod):\ndeployment.apps/payments-api rolled back",
         "Rollback started. I'll watch the rollout status next.", 1, "ops", ["aria-deploy"]),
    ]
    for i in range(8):
        ready = min(12, (i + 1) * 2)
        steps.append((
            f"Tool result (kubectl rollout status deploy/payments-api -n prod, poll {i + 1}):\n"
            f"Waiting for deployment \"payments-api\" rollout to finish: {ready} of 12 "
            "updated replicas are available...",
            f"{ready}/12 replicas available. " + ("Rollout complete." if ready == 12 else
                                                 "Continuing to poll."),
            1, "ops", []))
    for i in range(6):
        rate = [11.2, 7.9, 3.1, 0.4, 0.05, 0.03][i]
        steps.append((
            f"Tool result (promql rate(http_requests_total{{status=~\"5..\",svc=\"{svc}\"}}"
            f"[5m]) / rate(http_requests_total[5m]), sample {i + 1}):\n"
            + jsonl_tool({"status": "success", "data": {"resultType": "vector", "result": [
                {"metric": {"svc": svc}, "value": [1741875900 + 60 * i, f"{rate / 100:.4f}"]}
            ]}}),
            f"5xx ratio now {rate}%." + (" Back to baseline." if rate < 0.1 else ""),
            1, "ops", []))
    steps += [
        ("Tool result (kubectl get pods -n prod -l app=payments-api):\n"
         + pods_table(r, svc, 12, False),
         "All 12 pods Running on v2.14.3.", 1, "ops", []),
        ("Write the pool settings we should ship in the fix as YAML, with one comment line "
         "per value explaining it.",
         answer(r, "Proposed pool settings:", [], tok1(r), code="database:\n  # open lazily; "
                "do not pre-open the whole pool on start-up\n  min_size: 2\n  # 12 pods x 20 "
                "= 240, under pgbouncer's 300\n  max_size: 20\n  timeout: 30", lang="yaml"),
         1, "ops", ["aria-database"]),
        ("Write a short Python check for CI that fails if replicas * max_size exceeds "
         "pgbouncer's max_client_conn, reading both from YAML files, with argparse and clear "
         "errors.",
         answer(r, "CI guard:", ["reads both files", "exits 1 with a message when over"],
                tok2(r), code="import argparse\nimport sys\n\nimport yaml\n\n\ndef main() -> "
                "int:\n    p = argparse.ArgumentParser()\n    p.add_argument('--pool')\n    "
                "p.add_argument('--bouncer')\n    p.add_argument('--replicas', type=int, "
                "required=True)\n    a = p.parse_args()\n    pool = yaml.safe_load(open(a.pool))"
                "['database']['max_size']\n    limit = yaml.safe_load(open(a.bouncer))"
                "['max_client_conn']\n    if a.replicas * pool > limit:\n        print(f'pool "
                "{a.replicas}x{pool} exceeds {limit}', file=sys.stderr)\n        return 1\n"
                "    return 0\n\n\nif __name__ == '__main__':\n    sys.exit(main())",
                lang="python"), 3, "code", []),
        ("Draft the incident timeline entry for the postmortem doc, bullet form.",
         answer(r, "Timeline:", ["14:02 v2.15.0 deployed", "14:05 502s start",
                                 "14:21 rollback", "14:27 5xx at baseline"], tok1(r)),
         1, "ops", ["aria-incident"]),
        ("Final: which config file and which value caused it, and who owns the follow-up?",
         f"The `{pool}` change in the pool config; {owner} owns the follow-up.", 1, "ops",
         []),
    ]
    probes = [("/srv/payments/config/pool.yaml", 0), (f"Escalation owner: {owner}", 0),
              ("roll back to v2.14.3", 7), (pool, 5)]
    return "payments-api 502 investigation", steps_to_turns(steps), probes


def s_ci_triage(r: random.Random) -> Draft:
    """CI triage over huge job logs (> 50k tokens): tier 2 reading, tier 3 fixing."""
    runner = pick(r, ["ci-runner-2", "ubuntu-latest"])
    big1 = gha_log(r, r.randint(1300, 1400), "E   ModuleNotFoundError: No module named "
                   "'shopfront.billing.tax'")
    big2 = gha_log(r, r.randint(1150, 1250), "##[error]The job running on runner "
                   f"{runner} has exceeded the maximum execution time of 30 minutes.")
    wf = ("name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    timeout-minutes:"
          " 30\n    steps:\n      - uses: actions/checkout@v4\n      - uses: actions/setup-python"
          "@v5\n        with: {python-version: '3.11'}\n      - run: pip install -r "
          "requirements.txt\n      - run: pytest -q")
    steps: list[Step] = [
        ("Goal: get main green again before the 17:00 release cut. Tool result (gh run view "
         "--log-failed, run 8812):\n" + big1,
         answer(r, "The first real error is an import: `No module named "
                "'shopfront.billing.tax'`.", ["everything above it is dependency noise",
                                               "the module was probably moved or not packaged"
                                               ], tok2(r)), 2, "ops", ["aria-deploy"]),
        ("Tool result (git log --oneline -5 -- src/shopfront/billing):\n"
         "a41c9e2 move tax rules to shopfront.pricing.tax\n7be0d13 billing: vat rounding\n"
         "f00c2a1 billing: split invoices module",
         "Commit a41c9e2 moved the module to `shopfront.pricing.tax`; the import in the "
         "failing test was not updated.", 1, "code", []),
        ("Fix the imports. Tool result (grep -rn 'billing.tax' src tests):\n"
         "tests/billing/test_invoice.py:3:from shopfront.billing.tax import vat_for\n"
         "src/shopfront/billing/invoice.py:7:from shopfront.billing.tax import vat_for, "
         "round_vat\nsrc/shopfront/api/checkout.py:12:from shopfront.billing import tax",
         answer(r, "Patch for the three imports:", [], tok2(r), code="--- a/tests/billing/"
                "test_invoice.py\n+++ b/tests/billing/test_invoice.py\n-from shopfront.billing."
                "tax import vat_for\n+from shopfront.pricing.tax import vat_for\n--- a/src/"
                "shopfront/billing/invoice.py\n+++ b/src/shopfront/billing/invoice.py\n-from "
                "shopfront.billing.tax import vat_for, round_vat\n+from shopfront.pricing.tax "
                "import vat_for, round_vat\n--- a/src/shopfront/api/checkout.py\n+++ b/src/"
                "shopfront/api/checkout.py\n-from shopfront.billing import tax\n+from "
                "shopfront.pricing import tax", lang="diff"), 3, "code", []),
        ("Tool result (gh run view --log-failed, run 8815):\n" + big2,
         answer(r, "New failure: the job hit the 30-minute timeout.", [
             "pip install takes ~14 minutes: no cache", "tests ran serially",
             "fix: cache pip and run pytest with xdist"], tok2(r)), 2, "ops",
         ["aria-deploy"]),
        ("Here is the workflow. Rewrite it with pip caching and pytest -n auto, keep the "
         "timeout.\n\n" + wf,
         answer(r, "Updated workflow:", ["setup-python's built-in pip cache",
                                         "pytest-xdist for parallel tests"], tok2(r),
                code=wf.replace("with: {python-version: '3.11'}", "with: {python-version: "
                                "'3.11', cache: pip}").replace("pytest -q", "pytest -q -n "
                                                               "auto"), lang="yaml"),
         3, "code", ["aria-deploy"]),
    ]
    for i in range(14):
        dur = 31 - i * 2 if i < 8 else 14 + (i % 3)
        steps.append((
            f"Tool result (gh run list --limit 1, poll {i + 1}):\n"
            f"STATUS  TITLE              WORKFLOW  BRANCH  EVENT  ID    ELAPSED\n"
            f"{'*' if i < 13 else '✓'}       ci: cache pip      ci        main    push   "
            f"{8816 + i // 5}  {dur}m",
            "Still running." if i < 13 else "Green. Main is releasable.", 1, "ops", []))
    steps += [
        ("Tool result (gh run view 8818 --log | grep -E 'passed|failed'):\n"
         + pytest_output(r, r.randint(700, 800), [])[-120:],
         "All tests passed.", 1, "code", []),
        ("Write the PR description for the workflow change, short.",
         answer(r, "**ci: cache pip, run tests in parallel**", [
             "fixes the 30-minute timeouts", "CI time down to ~15 minutes"], tok1(r)),
         1, "code", []),
        ("Summarise for the orchestrator: what broke, what you changed, is the release cut "
         "safe?", answer(r, "Summary:", ["import path after the tax-module move (fixed)",
                                         "CI timeout (pip cache + xdist)",
                                         "release cut is safe"], tok1(r)), 1, "ops",
         ["aria-deploy"]),
    ]
    probes = [("before the 17:00 release cut", 0), ("shopfront.pricing.tax", 1),
              ("maximum execution time of 30 minutes", 3)]
    return "ci red on main", steps_to_turns(steps), probes


def s_disk(r: random.Random) -> Draft:
    """Disk-filling investigation on one host: many small tool outputs, tier 1 ops."""
    host = pick(r, ["worker-04", "db-02", "web-02"])
    culprit = pick(r, ["/var/log/journal", "/var/lib/docker/overlay2", "/data/exports/tmp"])
    size = pick(r, ["212G", "168G", "94G"])
    steps: list[Step] = [
        (f"Task: {host} root disk alert at 94%. Find what is growing and free space safely; "
         "do not delete anything under /data/exports/final. Tool result (df -h):\n"
         + df_output(r, host, "/"),
         "Root is at the alert level; /data is fine. Next: du on the top-level dirs.", 1,
         "ops", ["aria-health"]),
        ("Tool result (sudo du -xh --max-depth=1 / | sort -h | tail):\n"
         f"1.2G\t/opt\n3.4G\t/usr\n9.8G\t/home\n{size}\t{culprit.rsplit('/', 1)[0]}\n"
         f"{int(size[:-1]) + 14}G\t/",
         f"Almost everything is under {culprit.rsplit('/', 1)[0]}. Drill down.", 1, "ops",
         ["aria-health"]),
        (f"Tool result (sudo du -xh --max-depth=1 {culprit.rsplit('/', 1)[0]} | sort -h | "
         f"tail -3):\n2.0G\t{culprit.rsplit('/', 1)[0]}/cache\n{size}\t{culprit}",
         f"The culprit is {culprit} at {size}.", 1, "ops", ["aria-health"]),
    ]
    followups: list[Step] = [
        (f"Tool result (ls -lt {culprit} | head):\n" + "\n".join(
            f"-rw-r----- 1 root root {r.randint(100, 900)}M Mar 13 {r.randint(0, 9):02d}:"
            f"{r.randint(0, 59):02d} part-{i:04d}" for i in range(10)),
         "Files are recent and large; something writes ~1 GB every few minutes.", 1, "ops",
         []),
        ("Tool result (sudo lsof +D " + culprit + " | head -5):\nCOMMAND   PID USER   FD   "
         "TYPE DEVICE SIZE/OFF NAME\nexporter 8812 app   5w   REG  259,1 8.1G " + culprit
         + "/part-0009", "The `exporter` process (PID 8812) is the writer.", 1, "ops",
         []),
        ("Tool result (systemctl status exporter):\n● exporter.service - nightly export\n"
         "     Loaded: loaded (/etc/systemd/system/exporter.service; enabled)\n     Active: "
         "active (running) since Thu 2025-03-13 01:00:02 UTC; 9h ago",
         "The nightly export has run for 9 hours instead of finishing; it is looping.", 1,
         "ops", ["aria-health"]),
        ("Tool result (journalctl -u exporter -n 40):\n" + journal(
            r, 40, host, "exporter", ["retrying batch 118 (cursor not advanced)",
                                      "wrote part file", "batch 118 returned 50000 rows"],
            40000),
         "The cursor never advances past batch 118, so it rewrites the same data forever.",
         1, "ops", ["aria-logs"]),
        ("Stop the service? Orchestrator approved. Tool result (sudo systemctl stop exporter):"
         "\n(no output)", "Stopped. Growth should stop now.", 1, "ops", []),
        ("Tool result (df -h / again):\n" + df_output(r, host, "/").split("\n", 2)[2],
         "Usage is flat. Safe to remove the duplicate part files now.", 1, "ops",
         []),
        (f"Give the exact command to delete part files older than 2 hours under {culprit} "
         "only.", f"`sudo find {culprit} -name 'part-*' -mmin +120 -delete`", 1, "ops",
         ["aria-health"]),
        ("Tool result (find ... -delete; df -h /):\n/dev/nvme0n1p1   50G   21G   29G  42% /",
         "Root back to 42%.", 1, "ops", []),
        ("Is there a systemd setting to stop this from filling the disk again?",
         "Add `RuntimeMaxSec=3h` to the unit so a stuck run gets killed.", 1, "ops",
         ["aria-health"]),
        ("Tool result (systemctl cat exporter):\n[Unit]\nDescription=nightly export\n[Service]"
         "\nExecStart=/opt/exporter/run --out " + culprit + "\nUser=app",
         "No limits today; add RuntimeMaxSec under [Service].", 1, "ops", ["aria-health"]),
        ("Also check the timer.\nTool result (systemctl list-timers exporter.timer):\nNEXT"
         "                        LEFT     LAST                        PASSED  UNIT\nFri "
         "2025-03-14 01:00:00 UTC 14h left Thu 2025-03-13 01:00:00 UTC 9h ago  "
         "exporter.timer", "Next run tonight at 01:00; the fix must land before then.", 1,
         "ops", ["aria-cron"]),
        ("Check memory while you're at it.\nTool result (free -m):\n               total   "
         "     used        free\nMem:           15890       11203        1211\nSwap:     "
         "       2047        1980          67", "Swap is almost full; memory pressure too, "
         "probably the same exporter. Watch it after the restart.", 1, "ops",
         ["aria-health"]),
        ("Tool result (ps aux --sort=-rss | head -3):\nUSER  PID %CPU %MEM    VSZ   RSS CMD\n"
         "app  9121  3.1 41.2 9.1g 6.5g /usr/bin/java -jar reporter.jar",
         "The reporter JVM holds 6.5 GB, unrelated to the export; flag it.", 1, "ops",
         ["aria-health"]),
        ("Note it and move on. Tool result (journalctl -k -n 5 | grep -i oom):\n(no output)",
         "No OOM kills. Moving on.", 1, "ops", []),
        ("Tool result (cat /opt/exporter/VERSION):\n1.8.0", "Version 1.8.0; the cursor "
         "regression may be in this release.", 1, "ops", []),
        ("Tool result (git -C /opt/exporter log --oneline -3):\nc0ffee1 use keyset "
         "pagination\n1a2b3c4 bump deps\n9f8e7d6 retries", "c0ffee1 switched to keyset "
         "pagination: a likely source of the stuck cursor.", 1, "code", []),
        ("Tell the owner what to fix, 2 sentences.", "Keyset pagination in c0ffee1 never "
         "advances past batch 118, so the export loops and fills the disk. Please fix the "
         "cursor update and add RuntimeMaxSec=3h to exporter.service.", 1, "ops", []),
        ("Summarise the whole investigation for the orchestrator, 5 bullets, include the "
         "path you cleaned and the space freed.",
         answer(r, "Summary:", [f"{culprit} grew to {size}", "cause: exporter stuck on "
                                "batch 118", "stopped the service, removed old part files",
                                "root disk back to 42%", "follow-up: fix c0ffee1, add "
                                "RuntimeMaxSec"], tok1(r)), 1, "ops", ["aria-health"]),
    ]
    steps += followups
    probes = [(f"{host} root disk alert at 94%", 0),
              ("do not delete anything under /data/exports/final", 0),
              (f"The culprit is {culprit} at {size}.", 2)]
    return f"disk filling on {host}", steps_to_turns(steps), probes


SOURCE_TEXT = [
    "The benchmark measured recall at 10 on 50M 768-dimension vectors.",
    "HNSW indexes gave the best latency but used roughly 1.5x the raw vector memory.",
    "IVF-PQ cut memory by 8x at a recall cost of 3-6 points.",
    "The managed offering was the most expensive option at this scale.",
    "Filtering on metadata slowed queries by 2-10x depending on selectivity.",
    "The open-source release added disk-based indexes in its latest version.",
    "Operators reported that reindexing large collections took several hours.",
    "Postgres with pgvector was adequate below 10M vectors in their tests.",
]


def s_research(r: random.Random) -> Draft:
    """Research sub-agent: search results and page fetches, then a sourced synthesis."""
    topic = pick(r, ["vector databases for 50M embeddings", "self-hosted error tracking"])
    deadline = pick(r, ["by 15:00", "before the architecture review"])
    results = [{"title": f"{pick(r, ['Benchmark', 'Review', 'Docs', 'Blog'])}: "
                f"{topic} part {i}", "url": f"https://example{i}.org/{topic.split()[0]}-{i}",
                "snippet": pick(r, SOURCE_TEXT)} for i in range(10)]
    steps: list[Step] = [
        (f"Research task: {topic}. Deliver a sourced comparison of at most 4 options "
         f"{deadline}; criteria: cost, ops burden, recall, filtering. Tool result "
         "(web_search):\n" + jsonl_tool(results),
         "Ten results; I'll fetch the benchmarks and docs first and skip the blogs unless "
         "needed.", 1, "research", ["aria-research"]),
    ]
    for i in range(8):
        page = prose(r, SOURCE_TEXT, r.randint(40, 70))
        steps.append((f"Tool result (fetch https://example{i}.org/{topic.split()[0]}-{i}):\n"
                      + page + "\n\nExtract the claims relevant to our criteria, with the URL.",
                      answer(r, f"From example{i}.org:", [pick(r, SOURCE_TEXT),
                                                          pick(r, SOURCE_TEXT)], tok1(r)),
                      1, "research", []))
        steps.append(("Anything contradicting earlier sources?",
                      pick(r, ["No contradictions so far.", "Yes: memory overhead figures "
                               "differ by about 20%; I'll note both and their dates."]), 1,
                      "research", []))
    steps += [
        ("Tool result (web_search 'pricing'):\n" + jsonl_tool(results[:4]),
         "Pricing pages found for two options; the others are open-source only.", 1,
         "research", []),
        ("Which sources are weakest?", "The two vendor blogs: self-published benchmarks "
         "without configs.", 1, "research", ["aria-research"]),
        ("Now write the comparison: table + recommendation + citations.",
         answer(r, f"## {topic.capitalize()}: comparison", [
             "options compared on cost, ops burden, recall and filtering", "recommendation "
             "with the main caveat", "citations to the fetched pages with dates",
             "what we could not verify"], tok2(r)), 2, "research", ["aria-research"]),
        ("Shorten to 5 bullets for the orchestrator.", answer(r, "Summary:", [
            "option A: best recall", "option B: cheapest", "pgvector fine below 10M",
            "filtering is the main risk", "recommend a 2-week trial"], tok1(r)), 1,
         "research", ["aria-research"]),
    ]
    probes = [(f"at most 4 options {deadline}", 0), ("criteria: cost, ops burden, recall, "
                                                    "filtering", 0)]
    return f"research: {topic}", steps_to_turns(steps), probes


def s_fix_test(r: random.Random) -> Draft:
    """Fix failing tests in a loop: tier 3 patches, tier 1 status reads."""
    test = pick(r, ["test_partial_refund", "test_vat_rounding", "test_cart_merge"])
    path = pick(r, ["src/shopfront/billing/refund.py", "src/shopfront/pricing/vat.py",
                    "src/shopfront/cart/merge.py"])
    src = ("from decimal import Decimal, ROUND_HALF_UP\n\n\ndef refund_amount(total: Decimal, "
           "share: float) -> Decimal:\n    return Decimal(total * share).quantize("
           "Decimal('0.01'))\n") * 3
    out = pytest_output(r, r.randint(60, 200), [
        (f"tests/test_billing.py::{test}", "tests/test_billing.py:41",
         "assert Decimal('9.99') == Decimal('10.00')")])
    steps: list[Step] = [
        (f"Fix {test}; the bug is in {path}. Don't change the test. Tool result (pytest -q):"
         "\n" + out, f"{test} fails on rounding: 9.99 vs 10.00. Reading {path} next.", 1,
         "code", []),
        (f"Tool result (cat {path}):\n" + src,
         answer(r, "`Decimal(total * share)` multiplies a Decimal by a float and inherits "
                "binary float error; quantize also uses the default banker's rounding.",
                ["convert share via str", "quantize with ROUND_HALF_UP"], tok2(r),
                code="def refund_amount(total: Decimal, share: float) -> Decimal:\n    "
                "return (total * Decimal(str(share))).quantize(Decimal('0.01'), "
                "rounding=ROUND_HALF_UP)", lang="python"), 3, "code", []),
        ("Tool result (pytest -q after patch):\n" + pytest_output(r, 120, [
            ("tests/test_billing.py::test_refund_zero_share", "tests/test_billing.py:55",
             "decimal.InvalidOperation: [<class 'decimal.ConversionSyntax'>]")]),
         answer(r, "A new failure: share may arrive as None for zero refunds. Handle it:",
                [], tok2(r), code="if not share:\n    return Decimal('0.00')", lang="python"),
         3, "code", []),
    ]
    extra: list[Step] = [
        ("Tool result (pytest -q):\n" + pytest_output(r, 121, [])[-160:], "All green.", 1,
         "code", []),
        ("Run ruff too? Tool result (ruff check src):\nsrc/shopfront/billing/refund.py:1:1: "
         "I001 Import block is un-sorted", "Only import order; `ruff check --fix` sorts it.",
         1, "code", []),
        ("Tool result (ruff check --fix src):\nFound 1 error (1 fixed, 0 remaining).",
         "Clean.", 1, "code", []),
        ("Add a regression test for the 9.99 case.", answer(r, "Regression test:", [],
         tok2(r), code="def test_refund_third_of_thirty():\n    assert refund_amount("
         "Decimal('30.00'), 1/3) == Decimal('10.00')", lang="python"), 3, "code", []),
        ("Tool result (pytest -q tests/test_billing.py):\n" + pytest_output(r, 14, [])[-120:],
         "Passing.", 1, "code", []),
        ("Write the commit message.", "```\nrefund: exact decimal share, half-up rounding\n\n"
         "Float shares carried binary error into the refund; convert via str and round "
         "half-up. Zero/None share refunds 0.00.\n```", 1, "code", []),
        ("Tool result (git push):\nTo github.com:acme/shopfront.git\n   4d1e2a0..9c3b7f1  "
         "fix/refund-rounding -> fix/refund-rounding", "Pushed.", 1, "code", []),
        ("Any other callers of refund_amount that pass floats?", "Two call sites in "
         "api/refunds.py pass float shares; they now go through str(), so they are safe.",
         1, "code", []),
        ("Report back in 2 lines: what was wrong, which file changed.",
         f"Float-to-Decimal conversion and banker's rounding in {path.rsplit('/', 1)[1]}; "
         "fixed and covered by a regression test.", 1, "code", []),
    ]
    steps += extra[: r.randint(7, len(extra))]
    probes = [(f"the bug is in {path}", 0), ("Don't change the test.", 0)]
    return f"fix {test}", steps_to_turns(steps), probes


def s_write_script(r: random.Random) -> Draft:
    """Write a shell program with argument parsing and error handling: tier 3."""
    keep = pick(r, ["14", "30", "7"])
    steps: list[Step] = [
        (f"Write a bash script prune-exports.sh: args --dir and --keep-days (default {keep}), "
         "dry-run flag, refuses to run on /, logs what it deletes, exits non-zero on errors.",
         answer(r, "Script:", ["set -euo pipefail", "explicit refusal on / and empty dir",
                               "--dry-run prints instead of deleting"], tok2(r),
                code=f"#!/usr/bin/env bash\nset -euo pipefail\nkeep={keep}; dry=0; dir=\n"
                "while [[ $# -gt 0 ]]; do\n  case $1 in\n    --dir) dir=$2; shift 2;;\n    "
                "--keep-days) keep=$2; shift 2;;\n    --dry-run) dry=1; shift;;\n    *) echo "
                "\"unknown arg $1\" >&2; exit 2;;\n  esac\ndone\n[[ -z $dir || $dir == / ]] "
                "&& { echo 'refusing' >&2; exit 2; }\nfind \"$dir\" -type f -mtime +\"$keep\" "
                "-print | while read -r f; do\n  echo \"delete $f\"\n  (( dry )) || rm -- "
                "\"$f\"\ndone", lang="bash"), 3, "code", []),
        ("Tool result (shellcheck prune-exports.sh):\nIn prune-exports.sh line 14:\n... | "
         "while read -r f; do\n                   ^-- SC2162: read without -r will mangle "
         "backslashes.", "False alarm on this line (it already uses -r); the real risk is "
         "newlines in names. Switch to `find -print0` and `read -d ''`.", 1, "code", []),
    ]
    if r.random() < 0.5:
        steps.append(("Make it a cron job every night at 03:10 as user app.",
                      "`10 3 * * * /usr/local/bin/prune-exports.sh --dir /data/exports/tmp "
                      ">> /var/log/prune.log 2>&1` in `crontab -u app -e`.", 1, "ops",
                      ["aria-cron"]))
    return "prune-exports script", steps_to_turns(steps), []


def s_review_pr(r: random.Random) -> Draft:
    """Review a large PR diff: tier 3."""
    diff = git_diff_synthetic(r, r.randint(8, 14), r.randint(4, 7))
    steps: list[Step] = [
        ("Review this PR for bugs and risky changes. Output a JSON list of findings "
         "{file, line, severity, message}.\n\n" + diff,
         answer(r, "Findings:", ["await inside non-async handlers (error)", "`== None` "
                                 "comparisons (warning)", "unbounded per-handler caches "
                                 "(warning)", "ids logged at warning level (info)"], tok2(r),
                code='[{"file": "src/shopfront/orders/handlers_0.py", "line": 42, '
                '"severity": "error", "message": "await in non-async def"}]', lang="json"),
         3, "code", []),
    ]
    if r.random() < 0.6:
        steps.append(("Suggest the patch for the first error finding only.",
                      answer(r, "Make the handler async:", [], tok2(r),
                             code="async def handle_orders_0(self, req: Request) -> Response:"
                             "\n    data = await req.json()", lang="python"), 3, "code", []))
    return "review PR diff", steps_to_turns(steps), []


def s_extract(r: random.Random) -> Draft:
    """Extract a table from a small JSON tool result: tier 1."""
    prs = [{"number": r.randint(300, 900), "title": pick(r, ["bump deps", "fix flaky test",
            "add retries", "docs: typo", "refactor cart"]), "author": pick(r, PEOPLE),
            "created_at": f"2025-0{r.randint(1, 3)}-{r.randint(1, 28):02d}",
            "draft": r.random() < 0.2} for _ in range(r.randint(8, 20))]
    steps: list[Step] = [
        ("From this GitHub API output, list open PRs older than 30 days (today is "
         f"{DATE}) as a markdown table: number, title, author, age in days. Skip drafts.\n\n"
         + jsonl_tool(prs),
         answer(r, "| # | title | author | age |\n|---|---|---|---|", [], tok1(r)), 1,
         "code", []),
    ]
    return "stale PR table", steps_to_turns(steps), []


def s_migration(r: random.Random) -> Draft:
    """Write and run a schema migration: tier 3 code, tier 1 ops reads."""
    col = pick(r, ["refund_reason", "tax_region", "external_ref"])
    rows = pick(r, ["41M rows", "12M rows", "88M rows"])
    steps: list[Step] = [
        (f"Add a nullable column {col} text to orders ({rows}) and backfill it from "
         "order_meta in batches of 10k; no long locks. Write the alembic migration and "
         "a separate backfill script.",
         answer(r, "Migration + backfill:", ["ADD COLUMN nullable is metadata-only",
                                             "backfill outside the migration in batches",
                                             "index CONCURRENTLY afterwards"], tok2(r),
                code=f"def upgrade() -> None:\n    op.add_column('orders', sa.Column('{col}', "
                "sa.Text(), nullable=True))\n\n\n# backfill.py\nwhile True:\n    n = conn."
                f"execute(text('UPDATE orders o SET {col} = m.value FROM order_meta m WHERE "
                f"m.order_id = o.id AND o.{col} IS NULL AND o.id IN (SELECT id FROM orders "
                f"WHERE {col} IS NULL LIMIT 10000)')).rowcount\n    if n == 0:\n        break",
                lang="python"), 3, "code", ["aria-database"]),
        ("Tool result (alembic upgrade head):\nINFO  [alembic.runtime.migration] Running "
         "upgrade 4b1f -> 7c2e, add " + col + " to orders",
         "Migration applied.", 1, "ops", ["aria-database"]),
    ]
    for i in range(r.randint(8, 11)):
        done = (i + 1) * 9
        steps.append((f"Tool result (backfill progress, check {i + 1}):\nbatches={done * 40} "
                      f"rows_updated={done * 400000} lag_ms={r.randint(10, 900)}",
                      f"{min(done, 100)}% done" + (", replica lag fine." if i % 2 else "."),
                      1, "ops", []))
    steps += [
        ("Tool result (EXPLAIN ANALYZE select * from orders where " + col + " = 'x'):\n"
         + explain_plan("orders", 9_000_000, 2210.5),
         f"Seq scan as expected; create the index on {col} CONCURRENTLY now.", 1, "ops",
         ["aria-database"]),
        ("Report: done? anything left?", f"Column {col} added and backfilled; the index is "
         "the last step.", 1, "ops", ["aria-database"]),
    ]
    probes = [("batches of 10k; no long locks", 0), (f"orders ({rows})", 0)]
    return f"add {col} column", steps_to_turns(steps), probes


MEETING_LINES = [
    "ok lets start, agenda is the q2 roadmap and the hiring plan",
    "I think search relevance has to be the top item, support tickets say so",
    "we can't do both search and the billing rewrite with four people",
    "then billing waits until q3, agreed?", "agreed, billing moves to q3",
    "who owns the search relevance spec?", "I'll take it, draft by next friday",
    "hiring: we open two backend roles, one SRE", "budget is approved for three",
    "can we make sure the interview loop is shorter this time", "+1, max four rounds",
    "any risks?", "the data team is stretched, their support might slip",
    "let's revisit in two weeks", "ok thanks everyone",
]


def s_transcript(r: random.Random) -> Draft:
    """Summarise a long meeting transcript (> 3,000 tokens, not code): tier 2."""
    people = r.sample(PEOPLE, 5)
    tr = transcript(r, people, MEETING_LINES, r.randint(280, 360), 36000)
    steps: list[Step] = [
        ("Summarise the meeting transcript below: decisions, action items with owners and "
         "dates, open risks.\n\n" + tr,
         answer(r, "## Q2 planning — summary", ["Decision: search relevance is the top "
                                                 "Q2 item; billing rewrite moves to Q3",
                                                 f"Action: {people[0]} drafts the search spec "
                                                 "by next Friday", "Decision: open two backend "
                                                 "roles and one SRE, max four interview "
                                                 "rounds", "Risk: data team capacity",
                                                 "Revisit in two weeks"], tok2(r)),
         2, "chat", ["aria-summarize"]),
        ("Turn the action items into tasks for the tracker, JSON list with owner and due.",
         jsonl_tool([{"task": "Draft search relevance spec", "owner": people[0],
                      "due": "2025-03-21"}, {"task": "Open 2 backend + 1 SRE roles",
                                             "owner": people[1], "due": "2025-03-20"}]),
         1, "chat", ["aria-tasks"]),
    ]
    if r.random() < 0.5:
        steps.append(("Draft a 4-line follow-up email to attendees.", answer(r, "Hi all, "
                      "thanks for today. Decisions: search first, billing in Q3, three "
                      "roles opening. Action items are in the tracker.", [], 70), 1, "chat",
                      ["aria-writing"]))
    qa: list[Step] = [
        ("Who objected to doing search and billing together?", f"{people[2]} and "
         f"{people[3]} raised capacity; nobody argued for doing both.", 1, "chat", []),
        ("Was the hiring budget approved or just discussed?", "Approved for three roles.",
         1, "chat", []),
        ("Any dates besides the spec?", "Only 'revisit in two weeks'; no date was set.", 1,
         "chat", []),
        ("What did they say about the interview loop?", "Shorter this time: max four "
         "rounds.", 1, "chat", []),
        ("List the open questions only.", answer(r, "Open questions:", [
            "data team capacity for search", "exact revisit date", "who runs the hiring "
            "loop"], tok1(r)), 1, "chat", []),
        ("Draft the tracker comment for the billing epic about the move to Q3.",
         "Moved to Q3 per Q2 planning: search relevance takes priority and the team can't "
         "run both.", 1, "chat", ["aria-writing"]),
        ("Anything about the data team besides the risk?", "No, only that their support "
         "might slip.", 1, "chat", []),
        ("Final: confirm the top Q2 item and who owns its spec.", "Search relevance; "
         f"{people[0]} owns the spec.", 1, "chat", []),
    ]
    steps += qa[: r.randint(5, len(qa))]
    probes = [("billing rewrite moves to Q3", 0), (f"{people[0]} drafts the search spec", 0)]
    return "q2 planning summary", steps_to_turns(steps), probes


def s_port(r: random.Random) -> Draft:
    """Port a Python function to Go: tier 3."""
    steps: list[Step] = [
        ("Port this to Go with the same behaviour and a table-driven test.\n\n" + RETRY_CODE,
         answer(r, "Go version:", ["generic over the return type", "context-aware sleep"],
                tok2(r), code="func Retry[T any](ctx context.Context, times int, base, cap "
                "time.Duration, fn func() (T, error)) (T, error) {\n\tvar zero T\n\tfor i := "
                "0; i < times; i++ {\n\t\tv, err := fn()\n\t\tif err == nil {\n\t\t\treturn "
                "v, nil\n\t\t}\n\t\tif i == times-1 {\n\t\t\treturn zero, err\n\t\t}\n\t\td := "
                "min(cap, base<<i)\n\t\tselect {\n\t\tcase <-time.After(time.Duration(rand."
                "Int63n(int64(d)))):\n\t\tcase <-ctx.Done():\n\t\t\treturn zero, ctx.Err()\n"
                "\t\t}\n\t}\n\treturn zero, errors.New(\"unreachable\")\n}", lang="go"),
         3, "code", []),
    ]
    if r.random() < 0.5:
        steps.append(("Tool result (go vet ./...):\n./retry.go:14:9: min requires go1.21 or "
                      "later (-lang was set to go1.20; check go.mod)", "Bump `go 1.21` in "
                      "go.mod or write the min by hand.", 1, "code", []))
    return "port retry to go", steps_to_turns(steps), []


def s_incident(r: random.Random) -> Draft:
    """Incident comms from a structured timeline."""
    svc = pick(r, SERVICES)
    ic = pick(r, PEOPLE)
    tl = jsonl_tool([{"t": f"{DATE}T{h}Z", "event": e} for h, e in [
        ("15:41", f"alert: {svc} p99 latency > 2s"), ("15:44", f"{ic} declared SEV2"),
        ("15:52", "cause: redis maxmemory reached, evictions"),
        ("15:58", "mitigation: raised maxmemory, flushed stale keys"),
        ("16:10", "latency back to baseline")]])
    steps: list[Step] = [
        (f"Incident comms for {svc}. Incident commander: {ic}. From the timeline, write the "
         "internal Slack update.\n\n" + tl,
         answer(r, f"**SEV2 {svc} — mitigated**", ["15:41 latency alert", "cause: Redis "
                                                   "memory limit", "mitigated 15:58",
                                                   "monitoring"], tok1(r)), 1, "ops",
         ["aria-incident"]),
        ("Now the customer-facing status page text, no internals.",
         "Between 15:41 and 16:10 UTC some requests were slow. The issue is resolved and we "
         "are monitoring.", 1, "ops", ["aria-incident"]),
        ("Write the postmortem draft with timeline, root cause, 3 action items with owners.",
         answer(r, f"# Postmortem: {svc} latency (SEV2)", ["timeline", "root cause: key "
                                                           "growth without TTLs",
                                                           f"action: {ic} adds TTLs",
                                                           "action: alert at 80% maxmemory",
                                                           "action: capacity review"],
                tok2(r)), 2, "ops", ["aria-incident"]),
    ]
    for i, (used, evicted) in enumerate([("3.9G", 1822), ("3.2G", 410), ("2.8G", 12),
                                         ("2.8G", 0), ("2.9G", 0), ("2.9G", 0)]):
        steps.append((f"Tool result (redis-cli INFO memory/stats, check {i + 1}):\n"
                      f"used_memory_human:{used}\nmaxmemory_human:6.00G\n"
                      f"evicted_keys:{evicted}\nmem_fragmentation_ratio:1.12",
                      f"{used} of 6 GB used, {evicted} evictions since the last check."
                      + (" Stable." if evicted == 0 else ""), 1, "ops", []))
    steps.append(("What was the severity and who was IC?", f"SEV2, {ic} was incident "
                  "commander.", 1, "ops", []))
    probes = [(f"Incident commander: {ic}", 0), ("redis maxmemory reached", 0)]
    return f"{svc} incident comms", steps_to_turns(steps), probes


def s_rollout(r: random.Random) -> Draft:
    """Canary rollout watch: many short status reads, a decision at the end."""
    svc = pick(r, SERVICES)
    tag = f"v{r.randint(2, 4)}.{r.randint(0, 20)}.{r.randint(0, 9)}"
    gate = pick(r, ["0.5%", "1%"])
    bad = r.random() < 0.5
    steps: list[Step] = [
        (f"Roll out {svc} {tag} as a canary: 10% -> 50% -> 100%, 5 min per step. Abort if "
         f"5xx ratio exceeds {gate}. Tool result (kubectl argo rollouts set image {svc} "
         f"app=ghcr.io/acme/{svc}:{tag}):\nrollout \"{svc}\" image updated",
         "Canary started at 10%. I'll watch the error ratio each minute.", 1, "ops",
         ["aria-deploy"]),
    ]
    n = r.randint(9, 12)
    for i in range(n):
        ratio = (0.2 + i * 0.15) if bad else 0.1 + (i % 3) * 0.05
        weight = 10 if i < 5 else 50
        verdict = ("above the gate — aborting" if bad and ratio > float(gate[:-1])
                   else "within the gate")
        steps.append((f"Tool result (metrics {i + 1}, canary weight {weight}%):\n"
                      + jsonl_tool({"svc": svc, "version": tag, "5xx_ratio_pct": round(ratio, 2),
                                    "p99_ms": r.randint(180, 900)}),
                      f"5xx {ratio:.2f}%, {verdict}.", 1, "ops",
                      ["aria-deploy"] if verdict.startswith("above") else []))
        if bad and ratio > float(gate[:-1]):
            break
    steps.append(("Final status for the orchestrator in one line?",
                  f"{svc} {tag}: " + ("aborted, rolled back to stable." if bad else
                                      "promoted to 100%."), 1, "ops", ["aria-deploy"]))
    probes = [(f"Abort if 5xx ratio exceeds {gate}", 0), (f"{svc} {tag} as a canary", 0)]
    return f"canary {svc} {tag}", steps_to_turns(steps), probes


# --- complex tasks (issue 16): more than ~2 minutes of work, played by the swarm rows ------
#
# Each complex task is one request (the whole ask) with the labelled single-call answer as
# its reply, plus what the Explorer → Worker → Validator cycle is replayed with: the
# Explorer's options, the Worker's result for each attempt (a first one deliberately
# broken on some tasks, so retries happen) and the Validator model's verdict text for each
# attempt that passes the mechanical checks. Labels (tier, type, skills) were written here
# by the guide before any rule read them; the verdict texts are written as a reviewer
# would answer and are never computed from the labels.

Swarm = dict[str, object]


def complex_task(title: str, user: str, single: str, tier: int, task_type: str,
                 skills: list[str], explorer: str, workers: list[str],
                 verdicts: list[str]) -> tuple[str, list[Turn], Swarm]:
    """One complex task: a single labelled turn and the cycle's replay texts."""
    return title, [turn(user, single, tier, task_type, skills)], {
        "explorer": explorer, "workers": workers, "verdicts": verdicts}


def options(*items: tuple[str, str, str], pick_n: int = 1) -> str:
    """The Explorer's reply: numbered options with a pro and a con, then a pick."""
    lines = [f"{i}. {name}: pro: {pro}; con: {con}." for i, (name, pro, con) in
             enumerate(items, 1)]
    return "\n".join(lines) + f"\nRecommend option {pick_n}."


def fenced(lang: str, body: str, lead: str = "", tail: str = "") -> str:
    parts = [lead] if lead else []
    parts.append(f"```{lang}\n{body.rstrip()}\n```")
    if tail:
        parts.append(tail)
    return "\n\n".join(parts)


def x_rotate_script(r: random.Random) -> tuple[str, list[Turn], Swarm]:
    keep = r.randint(5, 14)
    folder = pick(r, ["/var/log/shopctl", "/srv/app/logs", "/var/log/ingest"])
    code = f'''"""Keep the newest files in a log folder; delete the rest."""
from pathlib import Path


def rotate(folder: Path, keep: int = {keep}) -> list[Path]:
    """Delete all but the `keep` newest *.log files; return what was deleted."""
    if keep < 0:
        raise ValueError("keep must be 0 or more")
    files = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    doomed = files[keep:]
    for path in doomed:
        path.unlink()
    return doomed


def test_rotate_keeps_newest(tmp_path: Path) -> None:
    import os
    for i in range(5):
        f = tmp_path / f"{{i}}.log"
        f.write_text("x")
        os.utime(f, (i, i))
    gone = rotate(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3.log", "4.log"]
    assert len(gone) == 3
'''
    broken = code.replace("def rotate(folder: Path, keep: int = " + str(keep) + ") -> list[Path]:",
                          "def rotate(folder: Path, keep: int = " + str(keep) + ") -> list[Path]")
    user = (f"Write a Python script `rotate_logs.py` for {folder}: a function `rotate` that "
            f"keeps the newest {keep} *.log files and deletes the rest, returning what it "
            "deleted, plus a pytest test `test_rotate_keeps_newest`. Handle a bad `keep`.")
    single = fenced("python", code, "`rotate_logs.py`:", "Run `pytest rotate_logs.py`.")
    return complex_task(
        "log rotation script with tests", user, single, 3, "code", [],
        options(("sort by mtime and unlink", "short, no dependencies", "clock skew on mtime"),
                ("logrotate config", "standard tool", "not a Python function to test"),
                ("sort by name", "deterministic", "names may not sort by age")),
        [fenced("python", broken, "`rotate_logs.py`:"), fenced("python", code,
                                                               "`rotate_logs.py`:")],
        ["PASS"])


def x_token_bucket(r: random.Random) -> tuple[str, list[Turn], Swarm]:
    rate = r.choice([5, 10, 20])
    code = f'''import time


class TokenBucket:
    """Allow `rate` requests a second with bursts up to `capacity`."""

    def __init__(self, rate: float = {rate}, capacity: int = {rate * 2}, clock=time.monotonic):
        self.rate, self.capacity, self.clock = rate, capacity, clock
        self.tokens, self.stamp = float(capacity), clock()

    def allow(self) -> bool:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def test_bucket_refills() -> None:
    t = [0.0]
    bucket = TokenBucket(rate=1, capacity=1, clock=lambda: t[0])
    assert bucket.allow() and not bucket.allow()
    t[0] = 1.0
    assert bucket.allow()
'''
    locked = code.replace("import time\n", "import threading\nimport time\n").replace(
        "        now = self.clock()\n",
        "        with self.lock:\n            return self._take()\n\n"
        "    lock = threading.Lock()\n\n    def _take(self) -> bool:\n        now = self.clock()\n")
    user = (f"Write a module `ratelimit.py` with a token-bucket class `TokenBucket` (method "
            f"`allow`) for {rate} requests a second with bursts, an injectable clock, and a "
            "pytest test `test_bucket_refills`.")
    return complex_task(
        "token bucket rate limiter", user, fenced("python", code, "`ratelimit.py`:"), 3, "code", [],
        options(("token bucket", "bursts allowed, O(1)", "float drift"),
                ("sliding window log", "exact", "memory grows with the rate"),
                ("fixed window counter", "simplest", "double bursts at window edges")),
        [fenced("python", code, "`ratelimit.py`:"), fenced("python", locked, "`ratelimit.py`, "
                                                           "with a lock:")],
        ["RETRY: `allow` is not thread-safe and the task's callers are threads", "PASS"])


def x_event_schema(r: random.Random) -> tuple[str, list[Turn], Swarm]:
    currency = pick(r, ["EUR", "USD", "GBP"])
    schema = ('{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", '
              '"required": ["order_id", "amount_cents", "currency", "items"], "properties": '
              '{"order_id": {"type": "string"}, "amount_cents": {"type": "integer"}, '
              '"currency": {"enum": ["EUR", "USD", "GBP"]}, "items": {"type": "array", '
              '"items": {"type": "object", "required": ["sku", "qty"], "properties": '
              '{"sku": {"type": "string"}, "qty": {"type": "integer"}}}}}}')
    example = ('{"order_id": "o-%d", "amount_cents": %d, "currency": "%s", "items": '  # noqa: UP031
               '[{"sku": "SKU-%d", "qty": %d}]}' % (r.randint(1000, 9999),
                                                     r.randint(500, 90000), currency,
                                                     r.randint(100, 999), r.randint(1, 4)))
    bad_example = example.replace('"qty": ', '"qty": "').replace("}]}", '"}]}')
    user = ("Design and check the event contract for `order.created`: it must carry "
            "`order_id`, `amount_cents` (integer cents), `currency` and line `items` (sku, "
            "qty). Validate the example against this schema and fix whatever does not "
            "match:\n\n```json\n" + schema + "\n```")
    good = fenced("json", example, "A valid `order.created` event (`order_id`, `amount_cents`, "
                  "`currency`, `items`):", "Amounts are integer cents, never floats.")
    bad = fenced("json", bad_example, "A valid `order.created` event (`order_id`, "
                 "`amount_cents`, `currency`, `items`):")
    return complex_task(
        "order.created JSON schema", user, good, 2, "analysis", [],
        options(("JSON Schema 2020-12", "tooling everywhere", "verbose"),
                ("Avro", "compact, evolution rules", "needs a registry"),
                ("protobuf", "typed clients", "binary, harder to eyeball")),
        [bad, good], ["PASS"])


def x_config_migration(r: random.Random) -> tuple[str, list[Turn], Swarm]:
    host = pick(r, HOSTS)
    port = r.choice([5432, 6432])
    pool = r.randint(5, 40)
    schema = ('{"type": "object", "required": ["version", "database", "pool"], "properties": '
              '{"version": {"enum": [2]}, "database": {"type": "object", "required": '
              '["host", "port"], "properties": {"host": {"type": "string"}, "port": '
              '{"type": "integer"}}}, "pool": {"type": "object", "required": ["max"], '
              '"properties": {"max": {"type": "integer"}}}}}')
    v1 = f"db_host={host}\ndb_port={port}\npool_size={pool}\n"
    good = json.dumps({"version": 2, "database": {"host": host, "port": port},
                       "pool": {"max": pool}})
    missing = json.dumps({"version": 2, "database": {"host": host, "port": str(port)}})
    user = ("Migrate this v1 config to the v2 JSON format, keeping every value, and check "
            "it against the v2 schema:\n\n```ini\n" + v1 + "```\n\nv2 schema:\n\n```json\n"
            + schema + "\n```")
    return complex_task(
        f"config v1 to v2 for {host}", user, fenced("json", good), 2, "ops", [],
        options(("map keys by hand", "exact", "easy to drop a key"),
                ("a migration script", "repeatable", "more to review")),
        [fenced("json", missing), fenced("json", good)], ["PASS"])


def x_tls_runbook(r: random.Random) -> tuple[str, list[Turn], Swarm]:
    domain = pick(r, ["shop.example.com", "api.example.org", "status.example.net"])
    script = f'''set -euo pipefail
sudo certbot renew --cert-name {domain} --dry-run
sudo certbot renew --cert-name {domain}
sudo nginx -t
sudo systemctl reload nginx
echo | openssl s_client -connect {domain}:443 -servername {domain} 2>/dev/null \\
  | openssl x509 -noout -enddate
'''
    user = (f"Write a multi-step runbook to renew the TLS certificate of {domain} on nginx: "
            "dry run first, renew, check the config with `nginx`, reload via `systemctl`, "
            "then verify the new expiry with `openssl`. Include rollback.")
    good = fenced("bash", script, f"Runbook for {domain}:", "Rollback: restore "
                  "/etc/letsencrypt/archive from the backup and reload nginx.")
    return complex_task(
        f"TLS renewal runbook {domain}", user, good, 2, "ops", ["aria-security"],
        options(("certbot renew in place", "standard", "needs port 80 or DNS"),
                ("new cert alongside, switch symlink", "instant rollback", "more steps")),
        [fenced("bash", script, f"Runbook for {domain}:"), good],
        ["RETRY: the task asks for a rollback step and there is none", "PASS"])


def x_pg_backup(r: random.Random) -> tuple[str, list[Turn], Swarm]:
    db = pick(r, ["orders", "billing", "inventory"])
    script = f'''#!/usr/bin/env bash
set -euo pipefail
stamp=$(date +%Y%m%d-%H%M)
out="/backups/{db}-$stamp.dump"
pg_dump -Fc -d {db} -f "$out"
createdb {db}_restore_check
if pg_restore -d {db}_restore_check "$out"; then
  echo "restore ok: $out"
else
  echo "restore FAILED: $out" >&2
  exit 1
fi
dropdb {db}_restore_check
'''
    broken = script.replace("\nfi\n", "\n")
    user = (f"Write a bash script that backs up the `{db}` Postgres database with `pg_dump`, "
            "then proves the dump restores with `pg_restore` into a scratch database, exits "
            "non-zero on failure and cleans up.")
    return complex_task(
        f"{db} backup with restore test", user, fenced("bash", script), 3, "ops",
        ["aria-backup", "aria-database"],
        options(("pg_dump -Fc plus a scratch restore", "proves the dump", "needs space"),
                ("pg_basebackup", "whole cluster, PITR", "not one database"),
                ("restic of the data dir", "dedup", "not consistent without a snapshot")),
        [fenced("bash", broken), fenced("bash", script)], ["PASS"])


def x_k8s_rollout(r: random.Random) -> tuple[str, list[Turn], Swarm]:
    svc = pick(r, SERVICES)
    tag = f"v{r.randint(2, 5)}.{r.randint(0, 9)}.{r.randint(0, 9)}"
    script = f'''kubectl -n prod set image deploy/{svc} app=ghcr.io/acme/{svc}:{tag}
kubectl -n prod rollout status deploy/{svc} --timeout=300s || {{
  kubectl -n prod rollout undo deploy/{svc}
  exit 1
}}
kubectl -n prod get pods -l app={svc}
'''
    user = (f"Plan and script the production rollout of {svc} {tag} on Kubernetes: set the "
            "image, wait with `rollout` status, roll back automatically on failure, and list "
            "the pods at the end. Step by step, with the commands.")
    return complex_task(
        f"rollout {svc} {tag}", user, fenced("bash", script, "Steps:"), 2, "ops",
        ["aria-deploy"],
        options(("kubectl set image + rollout status", "built in", "no canary"),
                ("Argo Rollouts canary", "gradual", "needs the controller")),
        [fenced("bash", script, "Steps:")], ["PASS"])


def x_cron_to_timers(r: random.Random) -> tuple[str, list[Turn], Swarm]:
    job = pick(r, ["report", "cleanup", "sync"])
    script = f'''cat > /etc/systemd/system/{job}.service <<'UNIT'
[Unit]
Description={job} job
[Service]
Type=oneshot
ExecStart=/usr/local/bin/{job}.sh
UNIT
cat > /etc/systemd/system/{job}.timer <<'UNIT'
[Timer]
OnCalendar=*-*-* 02:30:00
Persistent=true
[Install]
WantedBy=timers.target
UNIT
systemctl daemon-reload
systemctl enable --now {job}.timer
systemctl list-timers {job}.timer
'''
    broken = script.replace("<<'UNIT'\n[Timer]", "<<'UNIT\n[Timer]")
    user = (f"Migrate the crontab line `30 2 * * * /usr/local/bin/{job}.sh` to a systemd "
            "service and timer: write both units, enable the timer with `systemctl` and show "
            "how to check it ran.")
    return complex_task(
        f"cron {job} to systemd timer", user, fenced("bash", script), 2, "ops", ["aria-cron"],
        options(("oneshot service + timer", "logs in the journal, Persistent=", "two files"),
                ("keep cron, add logging", "no change", "no catch-up after downtime")),
        [fenced("bash", broken), fenced("bash", broken)], ["PASS"])


def x_csv_report(r: random.Random) -> tuple[str, list[Turn], Swarm]:
    col = pick(r, ["revenue", "signups", "refunds"])
    code = f'''import csv
import sys
from collections import defaultdict


def totals(path: str) -> dict[str, float]:
    """Sum `{col}` per month from a CSV with `date` (YYYY-MM-DD) and `{col}` columns."""
    out: dict[str, float] = defaultdict(float)
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            out[row["date"][:7]] += float(row["{col}"] or 0)
    return dict(sorted(out.items()))


if __name__ == "__main__":
    for month, value in totals(sys.argv[1]).items():
        print(f"{{month}},{{value:.2f}}")
'''
    user = (f"Write a Python script `monthly.py` with a function `totals` that sums the "
            f"`{col}` column per month from a CSV export, treats empty cells as 0 and prints "
            "month,total lines sorted by month.")
    return complex_task(
        f"monthly {col} totals script", user, fenced("python", code, "`monthly.py`:"), 3, "code",
        ["aria-spreadsheet"],
        options(("csv module + dict", "no dependencies", "more code"),
                ("pandas groupby", "short", "heavy dependency")),
        [fenced("python", code, "`monthly.py`:")], ["Looks fine to me.", "PASS"])


def x_alert_rules(r: random.Random) -> tuple[str, list[Turn], Swarm]:
    svc = pick(r, SERVICES)
    schema = ('{"type": "array", "items": {"type": "object", "required": ["alert", "expr", '
              '"for", "severity"], "properties": {"alert": {"type": "string"}, "expr": '
              '{"type": "string"}, "for": {"type": "string"}, "severity": {"enum": '
              '["page", "ticket"]}}}}')
    job = f'{{job="{svc}"}}'
    rules = json.dumps([
        {"alert": f"{svc}High5xx", "expr": f'sum(rate(http_requests_total{{job="{svc}",'
         f'code=~"5.."}}[5m])) / sum(rate(http_requests_total{job}[5m])) > 0.02',
         "for": "10m", "severity": "page"},
        {"alert": f"{svc}SlowP99", "expr": "histogram_quantile(0.99, sum(rate("
         f"http_request_duration_seconds_bucket{job}[5m])) by (le)) > 1", "for": "15m",
         "severity": "ticket"}])
    user = (f"Design alert rules for {svc}: a paging alert on 5xx ratio and a ticket on p99 "
            "latency, as a JSON list matching this schema, with thresholds you justify:"
            "\n\n```json\n" + schema + "\n```")
    wrong = rules.replace('"severity": "ticket"', '"severity": "warning"')
    return complex_task(
        f"{svc} alert rules", user, fenced("json", rules), 2, "ops", ["aria-metrics"],
        options(("ratio of rates over 5m", "robust to traffic", "lags a little"),
                ("absolute error count", "simple", "pages at peak only")),
        [fenced("json", wrong), fenced("json", rules)], ["PASS"])


COMPLEX: list[tuple[Callable[[random.Random], tuple[str, list[Turn], Swarm]], str, str]] = [
    (x_rotate_script, "direct_chat", "09:12"), (x_event_schema, "direct_chat", "10:34"),
    (x_config_migration, "sub_agent", "11:02"), (x_tls_runbook, "direct_chat", "11:48"),
    (x_pg_backup, "sub_agent", "12:20"), (x_token_bucket, "direct_chat", "13:37"),
    (x_k8s_rollout, "sub_agent", "14:50"), (x_cron_to_timers, "direct_chat", "15:25"),
    (x_csv_report, "direct_chat", "16:05"), (x_alert_rules, "sub_agent", "17:40"),
]
COMPLEX_HELD_OUT = 3


def complex_tasks(seed: int) -> list[dict]:
    """The complex tasks, with their own RNGs (facts, then the held-out draw) so every
    other task and the rest of the held-out part stay byte for byte as they were."""
    r = random.Random(seed + 3)
    out = []
    for n, (tpl, kind, hhmm) in enumerate(COMPLEX, 1):
        title, turns, swarm = tpl(r)
        task = make_task(kind, (title, turns, []), clock(hhmm))
        task["id"], task["swarm"] = f"complex-{n:02d}", swarm
        out.append(task)
    held = random.Random(seed + 4).sample([t["id"] for t in out], COMPLEX_HELD_OUT)
    for t in out:
        t["held_out"] = t["id"] in held
    return out


# --- the day ---------------------------------------------------------------------------------

# (template, how many tasks it contributes). Counts are chosen for a realistic mix, not equal.
DIRECT: list[tuple[Template, int]] = [
    (d_smalltalk, 2), (d_general_q, 2), (d_rephrase, 2), (d_commit_msg, 1), (d_oneliner, 2),
    (d_regex, 1), (d_explain_error, 2), (d_service_howto, 1), (d_timezone, 2),
    (d_tasks_list, 2), (d_meeting_notes, 2), (d_summarise_thread, 1), (d_summarise_report, 1),
    (d_newsletter, 1), (d_social, 1), (d_presentation, 1), (d_sql, 2), (d_spreadsheet, 1),
    (d_pandas, 1), (d_write_function, 2), (d_fix_traceback, 2), (d_review_diff, 1),
    (d_explain_snippet, 1), (d_compare_design, 1), (d_migration_plan, 1), (d_postmortem, 1),
    (d_research, 2), (d_log_rca, 1), (d_crashloop, 1), (d_disk_full, 1), (d_cron, 1),
    (d_backup_restore, 1), (d_pipeline_red, 1), (d_leaked_key, 1), (d_metrics, 1),
    (d_experiment, 1), (d_forecast, 1), (d_market, 1), (d_memory, 1), (d_moltbook, 1),
    (d_docs_readme, 1), (d_db_slow, 1), (d_status_update, 1), (d_long_coding, 1),
    (d_offsite, 1), (d_explain_deep, 1), (d_review_rfc, 1), (d_capacity, 1),
    (d_study_plan, 1), (d_rollout_plan, 1), (d_k8s_rca, 1), (d_cost_compare, 1),
]

# (template, fixed start times): a cron job runs at the same time every day.
CRON: list[tuple[Template, list[str]]] = [
    (c_moltbook, ["00:05", "04:05", "12:05"]), (c_ops_digest, ["18:30"]),
    (c_kube_events, ["01:00"]),
    (c_backup, ["02:40", "02:55"]), (c_ci_nightly, ["03:30"]), (c_audit, ["04:00"]),
    (c_slowlog, ["05:00"]), (c_health, ["06:00"]), (c_certs, ["06:15"]),
    (c_cron_mail, ["06:30"]), (c_kpi, ["07:00"]), (c_calendar, ["07:45"]),
    (c_standup, ["08:30"]), (c_nginx_digest, ["09:00", "13:00", "17:00"]),
    (c_newsletter_stats, ["10:00"]), (c_market, ["22:15"]), (c_nginx_nightly, ["23:55"]),
]

#: An hourly status check whose input did not change all day: the same prompt, byte for
#: byte, every hour (what a result cache may honestly answer). Built with its own RNG and
#: numbered after the held-out draw, so the rest of the day is unchanged by it.
REPEATED_CRON_TIMES = ["10:10", "11:10", "12:10", "13:10", "15:10", "16:10"]


def c_status_unchanged(r: random.Random) -> Draft:
    """The hourly status check on a quiet day: every service green, nothing to flag."""
    services = ["api", "worker", "scheduler", "postgres", "redis", "nginx"]
    table = "\n".join(f"{name:<10} active (running)  since Mon 2026-11-30 06:02:11 UTC"
                      for name in services)
    return "hourly service status", [turn(
        "Hourly status check. Reply OK if every service below is active, else list the ones "
        "that are not and what to run first.\n\n" + table,
        "OK: all six services are active (running) since the Monday restart.",
        1, "ops", ["aria-health"])], []


# Chats about the 14:05 payments incident happen while it runs (14:05-14:25) or after it.
WINDOW: dict[Template, tuple[str, str]] = {d_log_rca: ("14:08", "14:12"),
                                           d_postmortem: ("15:30", "18:00")}

SUB: list[tuple[Template, int]] = [
    (s_ci_triage, 1), (s_disk, 1), (s_investigate_502, 1), (s_disk, 1), (s_research, 2),
    (s_fix_test, 3),
    (s_write_script, 2), (s_review_pr, 2), (s_extract, 2), (s_migration, 1),
    (s_transcript, 2), (s_port, 1), (s_incident, 1), (s_rollout, 2),
]

# The orchestrator runs in bursts: an incident in the afternoon, work batches otherwise.
SUB_BURSTS = ["09:40", "11:20", "14:08", "16:30", "21:10"]
TURN_GAP_S = 45
SKILLS = [
    "aria-backup", "aria-calendar", "aria-cron", "aria-database", "aria-deploy", "aria-docs",
    "aria-experiments", "aria-forecast", "aria-health", "aria-incident", "aria-logs",
    "aria-marketdata", "aria-memory", "aria-metrics", "aria-moltbook", "aria-newsletter",
    "aria-notes", "aria-presentation", "aria-research", "aria-security", "aria-social",
    "aria-spreadsheet", "aria-sql", "aria-summarize", "aria-tasks", "aria-writing",
]
TASK_TYPES = ["chat", "code", "analysis", "research", "ops"]


def clock(hhmm: str) -> int:
    """'HH:MM' as seconds since midnight."""
    h, m = hhmm.split(":")
    return int(h) * 3600 + int(m) * 60


def make_task(kind: str, draft: Draft, start_s: int) -> dict:
    """Assemble one task record (id assigned later, once the day is sorted)."""
    title, turns, probes = draft
    return {"id": "", "session_type": kind, "start_s": start_s, "held_out": False,
            "title": title, "turns": turns,
            "probes": [{"fact": f, "turn": i} for f, i in probes]}


def validate(task: dict) -> None:
    """Fail loudly on schema or probe mistakes; this checks labels' form, never decides them."""
    turns = task["turns"]
    assert turns, task["title"]
    assert 0 <= task["start_s"] <= 86399, task["title"]
    for t in turns:
        assert t["tier"] in (1, 2, 3), task["title"]
        assert t["task_type"] in TASK_TYPES, task["title"]
        for s in t["skills"]:
            assert s in SKILLS, (task["title"], s)
    probes = task["probes"]
    if len(turns) >= 4:
        assert 2 <= len(probes) <= 4, (task["title"], len(turns), len(probes))
    last_user = turns[-1]["user"]
    for p in probes:
        i = p["turn"]
        assert 0 <= i <= len(turns) - 4, (task["title"], p)
        t = turns[i]
        assert p["fact"] in t["user"] or p["fact"] in t["reply"], (task["title"], p)
        assert p["fact"] not in last_user, (task["title"], p)
    swarm = task.get("swarm")
    if swarm is not None:
        assert len(turns) == 1 and swarm["explorer"] and swarm["workers"], task["title"]
        assert all(isinstance(v, str) and v for v in swarm["verdicts"]), task["title"]


def build(seed: int = SEED) -> list[dict]:
    """All tasks of the day, both parts, ordered by start time within each session type."""
    r = random.Random(seed)
    tasks: list[dict] = []
    for tpl, n in DIRECT:
        for _ in range(n):
            draft = tpl(r)
            span = len(draft[1]) * TURN_GAP_S
            lo, hi = WINDOW.get(tpl, ("08:00", "19:00"))
            latest = min(clock(hi), clock("19:00") - span)
            tasks.append(make_task("direct_chat", draft, r.randint(clock(lo), latest)))
    for tpl, times in CRON:
        for hhmm in times:
            tasks.append(make_task("cron_job", tpl(r), clock(hhmm)))
    burst = 0
    offsets = [0] * len(SUB_BURSTS)
    for tpl, n in SUB:
        for _ in range(n):
            draft = tpl(r)
            b = burst % len(SUB_BURSTS)
            offsets[b] += r.randint(20, 240)
            tasks.append(make_task("sub_agent", draft, clock(SUB_BURSTS[b]) + offsets[b]))
            burst += 1
    ordered: list[dict] = []
    for kind in ("direct_chat", "cron_job", "sub_agent"):
        group = sorted((t for t in tasks if t["session_type"] == kind),
                       key=lambda t: (t["start_s"], t["title"]))
        for i, t in enumerate(group, 1):
            t["id"] = f"{kind}-{i:03d}"
        ordered += group
    hold = random.Random(seed + 1)
    for kind in ("direct_chat", "cron_job", "sub_agent"):
        ids = [t["id"] for t in ordered if t["session_type"] == kind]
        chosen = hold.sample(ids, round(len(ids) * HELD_OUT_SHARE))
        for t in ordered:
            if t["id"] in chosen:
                t["held_out"] = True
    repeat = random.Random(seed + 2)
    for n, hhmm in enumerate(REPEATED_CRON_TIMES, 1):
        task = make_task("cron_job", c_status_unchanged(repeat), clock(hhmm))
        task["id"] = f"cron_job-r{n:02d}"
        ordered.append(task)
    ordered += complex_tasks(seed)
    for t in ordered:
        validate(t)
    return ordered


def render(tasks: list[dict], held_out: bool) -> str:
    """One file's bytes: one JSON object per line, ordered by start_s."""
    part = sorted((t for t in tasks if t["held_out"] == held_out),
                  key=lambda t: (t["start_s"], t["id"]))
    return "".join(json.dumps(t, ensure_ascii=False, sort_keys=True) + "\n" for t in part)


def main(argv: list[str] | None = None) -> int:
    """Write the two files, or with --check compare them to a fresh build (1 if different)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if the checked-in files differ from what build() produces")
    args = ap.parse_args(argv)
    tasks = build()
    outputs = {DAY_FILE: render(tasks, False), HELD_OUT_FILE: render(tasks, True)}
    if args.check:
        stale = [p.name for p, text in outputs.items()
                 if not p.exists() or p.read_text(encoding="utf-8") != text]
        if stale:
            print(f"out of date: {', '.join(stale)}; run generate.py", file=sys.stderr)
            return 1
        print("workload files match the generator")
        return 0
    for p, text in outputs.items():
        p.write_text(text, encoding="utf-8")
    print(f"wrote {len(tasks)} tasks to {DAY_FILE.name} and {HELD_OUT_FILE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
