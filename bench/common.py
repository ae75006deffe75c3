"""What every benchmark needs: databases, gunicorn, a small HTTP client, statistics, results.

No Django import at module level: the orchestrator uses this module without configuring Django (each phase
runs in its own process, bound to its own database).
"""

import contextlib
import http.client
import json
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
DATA_DIR = os.environ.get("COCOTTE_DATA_DIR", "/tmp/cocotte-bench")  # noqa: S108 — the brief's data folder
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cocotte_bench"
HOST = "127.0.0.1"  # loopback only


# --- databases ----------------------------------------------------------------------------------------------


def database_url(suffix: str = "") -> str:
    """The benchmark database's URL (BENCH_DATABASE_URL overrides), its name followed by `suffix`."""
    parts = urlsplit(os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _admin_connection(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def database_exists(url: str) -> bool:
    with _admin_connection(url) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database_name(url)]).fetchone()
    return row is not None


def drop_database(url: str) -> None:
    from psycopg import sql

    with _admin_connection(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database_name(url)))
        )


def create_database(url: str) -> None:
    """A new, empty database (dropped first if it exists)."""
    from psycopg import sql

    drop_database(url)
    with _admin_connection(url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database_name(url))))


def database_label(url: str) -> str | None:
    """What the suite wrote on the database when it finished seeding it (COMMENT ON DATABASE), if anything."""
    with _admin_connection(url) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [database_name(url)],
        ).fetchone()
    return row[0] if row else None


def set_database_label(url: str, label: str) -> None:
    from psycopg import sql

    with _admin_connection(url) as conn:
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(database_name(url)), sql.Literal(label)
            )
        )


def server_settings(url: str) -> dict:
    names = ["server_version", "shared_buffers", "work_mem", "effective_cache_size", "synchronous_commit"]
    with _admin_connection(url) as conn:
        return {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in names}


# --- processes ----------------------------------------------------------------------------------------------


def django_env(url: str, *, conn_max_age: int | None = None) -> dict:
    """Environment of a process bound to the database at `url`, with the benchmark's settings module."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        COCOTTE_DATA_DIR=DATA_DIR,
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        DEBUG="false",
    )
    if conn_max_age is not None:
        env["DATABASE_CONN_MAX_AGE"] = str(conn_max_age)
    return env


def cocotte(url: str, *args: str, quiet: bool = True) -> float:
    """Run `cocotte ARGS` on the database at `url`; returns the seconds it took."""
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "cocotte"), *args],
        env=django_env(url),
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
    )
    return time.perf_counter() - started


class PhaseFailed(RuntimeError):
    pass


def run_phase(
    module: str, url: str, *args: str, conn_max_age: int | None = None, capture: bool = False
) -> dict:
    """Run `python -m bench.MODULE ARGS --out FILE` bound to `url`; returns the JSON it wrote.

    With `capture`, its error output is kept rather than shown, and a failure raises PhaseFailed with its end.
    """
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f".{module}-{os.getpid()}-{time.monotonic_ns()}.json"
    try:
        completed = subprocess.run(
            [sys.executable, "-m", f"bench.{module}", "--out", str(out), *args],
            env=django_env(url, conn_max_age=conn_max_age),
            cwd=ROOT,
            check=not capture,
            stderr=subprocess.PIPE if capture else None,
            text=True,
        )
        if completed.returncode:
            tail = [line for line in (completed.stderr or "").splitlines() if line.strip()][-3:]
            raise PhaseFailed(" / ".join(tail) or f"bench.{module} failed ({completed.returncode})")
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


def free_port(preferred: int) -> int:
    """`preferred` if nothing listens there on the loopback, else the next free port."""
    for port in range(preferred, preferred + 100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port from {preferred}")


# The server configurations measured, all `gunicorn <app> -w 2`. "per-request": DATABASE_CONN_MAX_AGE=0, a new
# database connection for every request. "persistent": DATABASE_CONN_MAX_AGE=60. "tuned": persistent, plus the
# write-lock change recommended in docs/PERFORMANCE.md applied in memory by bench.wsgi_tuned (the same as
# "persistent" once src/ has that change). None: the settings' defaults, whatever they are.
SERVERS = {
    "per-request": {"app": "cocotte.wsgi", "env": {"DATABASE_CONN_MAX_AGE": "0"}},
    "persistent": {"app": "cocotte.wsgi", "env": {"DATABASE_CONN_MAX_AGE": "60"}},
    "tuned": {"app": "bench.wsgi_tuned", "env": {"DATABASE_CONN_MAX_AGE": "60"}},
    None: {"app": "cocotte.wsgi", "env": {}},
}


def default_server() -> str:
    """Which of "per-request" and "persistent" the settings' defaults amount to (Django must be set up)."""
    from django.conf import settings

    return "persistent" if settings.DATABASES["default"].get("CONN_MAX_AGE") else "per-request"


@contextlib.contextmanager
def gunicorn(
    port: int,
    *,
    workers: int = 2,
    log_name: str = "gunicorn",
    server: str | None = None,
    url: str | None = None,
):
    """`gunicorn cocotte.wsgi -w N -b 127.0.0.1:PORT`, stopped on exit whatever happens. Yields the port.

    Bound to the database at `url`, or, from a phase process, to the environment's DATABASE_URL. `server`
    picks one of SERVERS (the application module and extra environment variables); None: the defaults.
    """
    port = free_port(port)
    (RESULTS / "logs").mkdir(parents=True, exist_ok=True)
    log = (RESULTS / "logs" / f"{log_name}.log").open("w")
    config = SERVERS[server]
    command = [str(BIN / "gunicorn"), config["app"], "-w", str(workers), "-b", f"{HOST}:{port}"]
    env = {**(django_env(url) if url else os.environ), **config["env"]}
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped (code {process.returncode}): see {log.name}")
            with contextlib.suppress(OSError):
                if request(port, "GET", "/bench/ping").status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within 60 s: see {log.name}")
            time.sleep(0.2)
        # Every worker answers (and has imported everything) before anything is measured.
        for _ in range(4 * workers):
            request(port, "GET", "/bench/ping")
        yield port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


# --- what else runs on the machine -------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _processes() -> dict[int, tuple[int, str, int]]:
    """{pid: (parent pid, command name, CPU ticks used so far)} from /proc (Linux)."""
    result = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        result[int(entry.name)] = (int(fields[1]), name, int(fields[11]) + int(fields[12]))
    return result


class CpuMonitor:
    """CPU used while it runs, in cores: by this suite (this process and its descendants: phase processes,
    gunicorn), by PostgreSQL (all its processes, whoever they serve), and by everything else (other users of
    the machine: their load makes the figures slower and noisier). Samples /proc every `every` seconds in a
    thread, so that processes that come and go in between are counted (all but their last fraction)."""

    def __init__(self, every: float = 1.0):
        import threading

        self.root = os.getpid()
        self.every = every
        self.used = {"suite": 0, "postgresql": 0, "others": 0}
        self.started = time.monotonic()
        self.last = _processes()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _ours(self, table) -> set[int]:
        children: dict[int, list[int]] = {}
        for pid, (ppid, _name, _ticks) in table.items():
            children.setdefault(ppid, []).append(pid)
        ours, stack = set(), [self.root]
        while stack:
            pid = stack.pop()
            ours.add(pid)
            stack.extend(children.get(pid, []))
        return ours

    def _sample(self) -> None:
        table = _processes()
        ours = self._ours(table)
        with self._lock:
            for pid, (_ppid, name, ticks) in table.items():
                previous = self.last.get(pid)
                # A pid seen before is the same process (kernel threads rename themselves): count what it
                # used since; a new pid, or a reused one (fewer ticks than before), counts from zero.
                delta = ticks - previous[2] if previous and ticks >= previous[2] else ticks
                if delta <= 0:
                    continue
                key = "suite" if pid in ours else "postgresql" if name.startswith("postgres") else "others"
                self.used[key] += delta
            self.last = table

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def read(self) -> dict:
        """Stop, and say the cores used on average while it ran, by whom."""
        self._stop.set()
        self._thread.join()
        self._sample()
        seconds = max(time.monotonic() - self.started, 1e-6)
        return {
            "seconds": round(seconds, 1),
            **{f"cores_{key}": round(ticks / CLOCK_TICKS / seconds, 2) for key, ticks in self.used.items()},
            "loadavg_1min": round(os.getloadavg()[0], 2),
        }


def wait_for_quiet(max_seconds: float, *, threshold: float = 0.3, window: float = 3.0) -> dict:
    """Wait (at most `max_seconds`) until other processes use less than `threshold` of a core over `window`
    seconds; returns the last reading and how long it waited."""
    started = time.monotonic()
    while True:
        monitor = CpuMonitor()
        time.sleep(window)
        reading = monitor.read()
        waited = time.monotonic() - started
        if reading["cores_others"] < threshold or waited >= max_seconds:
            return {
                **reading,
                "waited_seconds": round(waited, 1),
                "quiet": reading["cores_others"] < threshold,
            }


# --- HTTP ---------------------------------------------------------------------------------------------------


class Response:
    __slots__ = ("body", "seconds", "status")

    def __init__(self, status: int, body: bytes, seconds: float):
        self.status, self.body, self.seconds = status, body, seconds

    def json(self):
        return json.loads(self.body)


def request(
    port: int,
    method: str,
    path: str,
    *,
    body=None,
    token: str | None = None,
    timeout: float = 30,
    cookies: dict | None = None,
):
    """One request on a new connection (gunicorn's sync workers close every connection), timed end to end."""
    headers = {"Host": f"{HOST}:{port}", "Accept": "application/json"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        headers["Accept"] = "text/html"
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    return Response(response.status, data, time.perf_counter() - started)


def timed_requests(port: int, calls, *, warmup: int = 0, expect=(200,)) -> dict:
    """Send `calls` (method, path, body, token) one after the other; latencies and statuses.

    The first `warmup` calls are sent and checked but not counted.
    """
    latencies, statuses, sizes = [], {}, []
    for index, (method, path, body, token) in enumerate(calls):
        response = request(port, method, path, body=body, token=token)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        if response.status not in expect:
            raise RuntimeError(f"{method} {path} → {response.status}: {response.body[:300]!r}")
        if index >= warmup:
            latencies.append(response.seconds * 1000)
            sizes.append(len(response.body))
    result = summary(latencies)
    result["statuses"] = {str(k): v for k, v in sorted(statuses.items())}
    result["response_bytes"] = round(sum(sizes) / len(sizes)) if sizes else 0
    return result


# --- statistics ---------------------------------------------------------------------------------------------


def percentile(values, fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary(latencies_ms) -> dict:
    values = list(latencies_ms)
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return {
        "n": len(values),
        "median_ms": round(median, 2),
        "p95_ms": round(percentile(values, 0.95), 2),
        "mean_ms": round(sum(values) / len(values), 2),
        "min_ms": round(ordered[0], 2),
        "max_ms": round(ordered[-1], 2),
    }


# --- results ------------------------------------------------------------------------------------------------


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": _cpu_model(),
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def today():
    """Today in Cocotte's zone (Europe/Paris), as the seeded data sees it."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/Paris")).date()


def git_state() -> dict:
    """The code measured: the commit, and the files changed since (the tree is shared and moves)."""

    def git(*args):
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return result.stdout

    # Porcelain lines are "XY path": X may be a space, so the output is not stripped before slicing.
    changed = [line[3:] for line in git("status", "--porcelain", "--", "src").splitlines() if line.strip()]
    return {"commit": git("rev-parse", "HEAD").strip(), "src_files_changed_since": changed}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


def setup_django() -> None:
    """Configure Django in a phase process (DATABASE_URL and the settings module come from the environment)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


def backend_ticks() -> int:
    """CPU ticks used so far by the PostgreSQL backend of Django's connection (Django must be set up; the
    server must run on this machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def in_process_costs(call, count: int, warmup: int) -> dict:
    """Run `call()` `count` times after `warmup` (Django must be set up): wall time per call, and CPU time
    per call of this process (Python, Django) and of its PostgreSQL backend. CPU time hardly depends on what
    else runs on the machine: it says what a call costs, where wall time says how long it waited too."""
    for _ in range(warmup):
        call()
    walls, cpus = [], []
    backend_before = backend_ticks()
    for _ in range(count):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    backend_ms = (backend_ticks() - backend_before) / CLOCK_TICKS * 1000 / max(count, 1)
    cpu = summary(cpus)
    return {
        **summary(walls),
        "cpu_median_ms": cpu.get("median_ms"),
        "cpu_mean_ms": cpu.get("mean_ms"),
        "postgresql_cpu_mean_ms": round(backend_ms, 2),
        "cpu_total_mean_ms": round((cpu.get("mean_ms") or 0) + backend_ms, 2),
    }


def queries_of(call) -> list[str]:
    """The SQL statements that `call()` runs (Django must be set up), shortened for the record."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    return [" ".join(q["sql"].split())[:240] for q in captured.captured_queries]


def issue_token(email: str) -> str:
    """A fresh API token for this account (Django must be set up)."""
    from django.contrib.auth import get_user_model

    from cocotte.accounts.models import ApiToken

    user = get_user_model().objects.get(email=email)
    return ApiToken.issue(user, name="bench")[1]
