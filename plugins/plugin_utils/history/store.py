# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The results store: every recorded run, behind one interface, in SQLite (embedded: one file) or PostgreSQL (a
fleet's and an AWX site's: psycopg 3, a DSN) - the same schema, the same queries, the same answers.

A run is kept whole: its ``run.json`` document and its samples, so a report, the history or the regression gate can
be computed from the store alone (an AWX job's results directory dies with its container); the raw files stay
where they were written and the store names where (``location``), with each test's round trips (ping's replies,
sockperf's full log: what the report pools its latency percentiles from) kept beside the document. For SQL and
dashboards the run is also spread out: ``vnb_cells`` holds the report's cells (per row the mean of the repetitions
and its interval, computed by the report's own statistics) and ``vnb_values`` every parsed value per test, metric
and repetition. Gate verdicts go to ``vnb_verdicts``, the history's change points (history.change_points, the
report's method) to ``vnb_change_points`` - dashboards draw them as annotations.

Writing a run is idempotent: the same run (host, backend, run id) written twice is one run, the second write
replacing the first in one transaction. The schema is versioned (``vnb_schema``) and brought up to date by
:func:`Store.migrate` with the MIGRATIONS in order, under a lock (PostgreSQL: an advisory lock; SQLite: its write
lock), so two controllers that open one store at once migrate it once.

Names read from the store are checked where they are read, as ``run.json``'s are (results.check_loaded's rules):
a host is a host name, a backend a backend, a run id a run id."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
from pathlib import Path
from typing import Any, Iterable

from ansible_collections.volt.netbench.plugins.module_utils import safefs
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import PATHS
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import (
    HOST_RE, LOCAL_HOST, RUN_ID_RE, SCHEMA as RUN_SCHEMA, ResultsError, _sort_key, compared_config, fleet_hosts,
    rtts_of)
# PostgreSQL's advisory lock key of a migration (any fixed 64-bit number: 'vnbstore')
_MIGRATION_LOCK = 0x766E6273746F7265

# Each migration: the statements that bring the schema from the version before it to its own. {json} and {ts} are
# the column types of a JSON document and a point in time (PostgreSQL: jsonb and timestamptz, for SQL and
# dashboards; SQLite: text). Never edit a released migration: add the next one.
MIGRATIONS: list[tuple[int, list[str]]] = [
    (1, [
        """CREATE TABLE vnb_runs (
               host TEXT NOT NULL, backend TEXT NOT NULL, run_id TEXT NOT NULL,
               status TEXT NOT NULL, started {ts}, finished {ts}, recorded {ts} NOT NULL,
               compared TEXT NOT NULL, profile TEXT, repeat INTEGER, measured INTEGER NOT NULL,
               config {json} NOT NULL, environment {json} NOT NULL,
               location TEXT NOT NULL, document {json} NOT NULL, samples {json} NOT NULL, rtts {json} NOT NULL,
               PRIMARY KEY (host, backend, run_id))""",
        "CREATE INDEX vnb_runs_by_time ON vnb_runs (host, started)",
        """CREATE TABLE vnb_cells (
               host TEXT NOT NULL, backend TEXT NOT NULL, run_id TEXT NOT NULL,
               section TEXT NOT NULL, label TEXT NOT NULL, unit TEXT, higher_is_better INTEGER NOT NULL,
               digits INTEGER NOT NULL, n INTEGER NOT NULL, mean DOUBLE PRECISION NOT NULL,
               low DOUBLE PRECISION, high DOUBLE PRECISION, vals {json} NOT NULL,
               PRIMARY KEY (host, backend, run_id, section, label),
               FOREIGN KEY (host, backend, run_id) REFERENCES vnb_runs (host, backend, run_id) ON DELETE CASCADE)""",
        """CREATE TABLE vnb_values (
               host TEXT NOT NULL, backend TEXT NOT NULL, run_id TEXT NOT NULL,
               test TEXT NOT NULL, metric TEXT NOT NULL, repetition INTEGER NOT NULL,
               value DOUBLE PRECISION NOT NULL, unit TEXT,
               PRIMARY KEY (host, backend, run_id, test, metric, repetition),
               FOREIGN KEY (host, backend, run_id) REFERENCES vnb_runs (host, backend, run_id) ON DELETE CASCADE)""",
        """CREATE TABLE vnb_change_points (
               host TEXT NOT NULL, compared TEXT NOT NULL, backend TEXT NOT NULL, section TEXT NOT NULL,
               label TEXT NOT NULL, run_id TEXT NOT NULL, unit TEXT, before DOUBLE PRECISION NOT NULL,
               after DOUBLE PRECISION NOT NULL, change_pct DOUBLE PRECISION NOT NULL, regression INTEGER NOT NULL,
               tolerance DOUBLE PRECISION NOT NULL,
               PRIMARY KEY (host, compared, backend, section, label, run_id))""",
        """CREATE TABLE vnb_verdicts (
               host TEXT NOT NULL, run_id TEXT NOT NULL, against TEXT NOT NULL, created {ts} NOT NULL,
               tolerance DOUBLE PRECISION NOT NULL, verdict TEXT NOT NULL, regressions INTEGER NOT NULL,
               detail {json} NOT NULL,
               PRIMARY KEY (host, run_id, against))""",
    ]),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


class StoreError(ResultsError):
    """A store that cannot be opened, read or written, or that holds what is not a volt.netbench run."""


def checked_host(host: Any) -> str:
    """HOST, checked as a host name (StoreError otherwise)."""
    if not isinstance(host, str) or not HOST_RE.match(host):
        raise StoreError(f"{host!r} is not a host name")
    return host


def checked_run_id(run_id: Any) -> str:
    """RUN_ID, checked as a run id (StoreError otherwise)."""
    if not isinstance(run_id, str) or not RUN_ID_RE.match(run_id):
        raise StoreError(f"{run_id!r} is not a run id (a UTC timestamp like 20261126T173224Z)")
    return run_id


def checked_key(host: str, backend: str, run_id: str) -> tuple[str, str, str]:
    """HOST, BACKEND and RUN_ID as a run's key, each checked (StoreError names the one that is not)."""
    checked_host(host)
    if backend not in PATHS:
        raise StoreError(f"{backend!r} is not one of {', '.join(PATHS)}")
    return host, backend, checked_run_id(run_id)


def _time(value: Any) -> dt.datetime | None:
    """A run's ISO time as an aware datetime (None when absent or not a time)."""
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _rtts(run: dict[str, Any]) -> dict[str, list[float]]:
    """Each test's round trips ('name#repetition' -> µs), read from its raw files while they are at hand."""
    out = {}
    for test in run.get("tests") or []:
        rtts = rtts_of(run, test) if test.get("status") == "ok" else None
        if rtts:
            out[f"{test['name']}#{int(test.get('repetition') or 1)}"] = [float(x) for x in rtts]
    return out


def _date(run_id: str) -> str:
    from ansible_collections.volt.netbench.plugins.plugin_utils.history.history import _date as date  # pylint: disable=import-outside-toplevel

    return date(run_id)


def _cells(run: dict[str, Any]) -> list[tuple]:
    from ansible_collections.volt.netbench.plugins.plugin_utils.history.history import _cells_of  # pylint: disable=import-outside-toplevel

    return _cells_of(run)


class Store:
    """One results store (open with :func:`open_store`). Subclasses say how to connect and how their SQL differs."""

    kind = ""
    PARAM = "?"
    TYPES = {"json": "TEXT", "ts": "TEXT"}

    def __init__(self, conn: Any, where: str):
        self.conn = conn
        self.where = where
        # opened read-only (open_store): no write lock is taken; empty: it has no schema yet, and reads as empty
        self.read_only = False
        self.empty = False

    # --- what differs between the engines -------------------------------------------------------------
    def _sql(self, text: str) -> str:
        return text.replace("?", self.PARAM)

    def _json(self, value: Any) -> Any:
        return json.dumps(value, sort_keys=True)

    def _from_json(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, (str, bytes)) else value

    def _ts(self, value: dt.datetime | None) -> Any:
        return value.isoformat() if value else None

    def _from_ts(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
        return str(value)

    def _lock_schema(self, cur: Any) -> None:
        """Hold the store's lock for a migration (within the transaction)."""

    def _tables(self, cur: Any) -> set[str]:
        raise NotImplementedError

    # --- the interface ---------------------------------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _execute(self, cur: Any, text: str, params: Iterable[Any] = ()) -> Any:
        cur.execute(self._sql(text), tuple(params))
        return cur

    def version(self) -> int:
        """The schema version the store is at (0: empty)."""
        cur = self.conn.cursor()
        try:
            if "vnb_schema" not in self._tables(cur):
                return 0
            row = self._execute(cur, "SELECT max(version) FROM vnb_schema").fetchone()
            return int(row[0] or 0)
        finally:
            cur.close()
            self.conn.commit()

    def migrate(self) -> list[int]:
        """Bring the schema up to date; returns the versions applied (none when it was). A store of a newer
        schema than this collection knows is refused: upgrade the collection."""
        with self._transaction() as cur:
            self._lock_schema(cur)
            if "vnb_schema" not in self._tables(cur):
                self._execute(cur, "CREATE TABLE vnb_schema (version INTEGER NOT NULL, applied TEXT NOT NULL)")
            have = int(self._execute(cur, "SELECT max(version) FROM vnb_schema").fetchone()[0] or 0)
            if have > SCHEMA_VERSION:
                raise StoreError(f"the store {self.where} is at schema {have}, newer than this collection's "
                                 f"{SCHEMA_VERSION}: upgrade volt.netbench to use it")
            applied = []
            for version, statements in MIGRATIONS:
                if version <= have:
                    continue
                for statement in statements:
                    self._execute(cur, statement.format(**self.TYPES))
                self._execute(cur, "INSERT INTO vnb_schema VALUES (?, ?)",
                              (version, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")))
                applied.append(version)
            return applied

    def _transaction(self) -> "_Transaction":
        return _Transaction(self)

    def put_run(self, run: dict[str, Any], *, host: str = LOCAL_HOST, location: str = "") -> tuple[str, str, str]:
        """Write RUN (a loaded run: results.load_run, with its samples) as HOST's, its raw files at LOCATION
        (default: the run's path). The same run written again replaces itself. Returns its key."""
        if not isinstance(run, dict) or run.get("schema") != RUN_SCHEMA:
            raise StoreError(f"not a volt.netbench run (schema {RUN_SCHEMA} expected)")
        key = checked_key(host, run.get("backend"), run.get("run_id"))
        samples = list(run.get("samples") or [])
        document = {k: v for k, v in run.items() if k not in ("samples", "path", "rtts")}
        config = run.get("config") or {}
        cells = _cells(run)
        values: dict[tuple[str, str, int], tuple] = {}
        for sample in samples:
            try:
                values[(str(sample["test"]), str(sample["metric"]), int(sample.get("repetition") or 1))] = (
                    float(sample["value"]), sample.get("unit"))
            except (KeyError, TypeError, ValueError):
                continue
        rtts = run["rtts"] if isinstance(run.get("rtts"), dict) else _rtts(run)
        with self._transaction() as cur:
            self._execute(cur, "DELETE FROM vnb_runs WHERE host = ? AND backend = ? AND run_id = ?", key)
            self._execute(cur, """
                INSERT INTO vnb_runs (host, backend, run_id, status, started, finished, recorded, compared, profile,
                                      repeat, measured, config, environment, location, document, samples, rtts)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", (
                *key, str(run.get("status") or ""), self._ts(_time(run.get("started"))),
                self._ts(_time(run.get("finished"))), self._ts(dt.datetime.now(dt.timezone.utc)),
                compared_config(run), config.get("profile"), config.get("repeat"), len(samples),
                self._json(config), self._json(run.get("environment") or {}),
                location or str(run.get("path") or ""), self._json(document), self._json(samples), self._json(rtts)))
            cur.executemany(self._sql("INSERT INTO vnb_cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                            [(*key, *cell[:-1], self._json(json.loads(cell[-1]))) for cell in cells])
            cur.executemany(self._sql("INSERT INTO vnb_values VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                            [(*key, test, metric, rep, value, unit)
                             for (test, metric, rep), (value, unit) in sorted(values.items())])
        return key

    def delete_run(self, host: str, backend: str, run_id: str) -> bool:
        """Forget one run (its cells and values with it); False when the store did not hold it."""
        with self._transaction() as cur:
            return self._execute(cur, "DELETE FROM vnb_runs WHERE host = ? AND backend = ? AND run_id = ?",
                                 checked_key(host, backend, run_id)).rowcount > 0

    def hosts(self) -> list[str]:
        """Every host the store holds runs of, sorted."""
        if self.empty:
            return []
        with self._transaction() as cur:
            rows = self._execute(cur, "SELECT DISTINCT host FROM vnb_runs").fetchall()
        return sorted(self._host(r[0]) for r in rows)

    def _host(self, value: Any) -> str:
        try:
            return checked_host(value)
        except StoreError as err:
            raise StoreError(f"{self.where}: a run's host {value!r} is not a host name") from err

    def runs(self, host: str | None = None, backend: str | None = None) -> list[dict[str, Any]]:
        """The runs (host, backend, run_id, status, started, compared, location, measured: how many samples) of
        HOST and BACKEND (default: every one), oldest first per host and backend by run id. Every name is checked
        as it is read."""
        if self.empty:
            return []
        with self._transaction() as cur:
            rows = self._execute(cur, """
                SELECT host, backend, run_id, status, started, compared, location, measured FROM vnb_runs
                WHERE (CAST(? AS TEXT) IS NULL OR host = ?) AND (CAST(? AS TEXT) IS NULL OR backend = ?)""",
                                 (host, host, backend, backend)).fetchall()
        out = []
        for row in rows:
            key = self._key(row[0], row[1], row[2])
            out.append({"host": key[0], "backend": key[1], "run_id": key[2], "status": row[3],
                        "started": self._from_ts(row[4]), "compared": row[5], "location": row[6],
                        "measured": int(row[7])})
        out.sort(key=lambda r: (r["host"], r["backend"], _sort_key(r["run_id"])))
        return out

    def _key(self, host: Any, backend: Any, run_id: Any) -> tuple[str, str, str]:
        try:
            return checked_key(host, backend, run_id)
        except StoreError as err:
            raise StoreError(f"{self.where}: a run whose key is not a run's: {err}") from err

    def load_run(self, host: str, backend: str, run_id: str) -> dict[str, Any]:
        """One run as results.load_run returns it: its run.json document with its ``samples``, its ``path`` (the
        location of its raw files) and its ``rtts``; the document's own names are checked against its key."""
        key = checked_key(host, backend, run_id)
        if self.empty:
            raise StoreError(f"the store {self.where} holds no run yet (no schema): no run {backend}/{run_id} of {host}")
        with self._transaction() as cur:
            row = self._execute(cur, """SELECT document, samples, rtts, location FROM vnb_runs
                                        WHERE host = ? AND backend = ? AND run_id = ?""", key).fetchone()
        if row is None:
            raise StoreError(f"the store {self.where} holds no run {backend}/{run_id} of {host}")
        run, samples, rtts = (self._from_json(v) for v in row[:3])
        if not isinstance(run, dict) or run.get("schema") != RUN_SCHEMA:
            raise StoreError(f"{self.where}: run {host} {backend}/{run_id} is not a volt.netbench run")
        if (run.get("backend"), run.get("run_id")) != (backend, run_id):
            raise StoreError(f"{self.where}: run {host} {backend}/{run_id} holds the document of "
                             f"{run.get('backend')!r}/{run.get('run_id')!r}")
        if not isinstance(samples, list) or any(not isinstance(s, dict) or s.get("run_id") != run_id
                                                or s.get("backend") != backend for s in samples):
            raise StoreError(f"{self.where}: run {host} {backend}/{run_id} holds another run's samples")
        run.update(samples=samples, rtts=rtts if isinstance(rtts, dict) else {}, path=str(row[3]))
        return run

    def series(self, host: str, compared: str | None = None) -> dict[tuple[str, str, str], dict[str, Any]]:
        """HOST's history as history.load_series returns it: per (backend, section, label) the unit, direction,
        digits and the runs' points in run order; only runs of the compared configuration COMPARED if given."""
        if self.empty:
            return {}
        with self._transaction() as cur:
            rows = self._execute(cur, """
                SELECT r.backend, c.section, c.label, c.unit, c.higher_is_better, c.digits, r.run_id, r.status,
                       c.n, c.mean, c.low, c.high
                FROM vnb_cells c JOIN vnb_runs r
                  ON r.host = c.host AND r.backend = c.backend AND r.run_id = c.run_id
                WHERE r.host = ? AND (CAST(? AS TEXT) IS NULL OR r.compared = ?)""", (host, compared, compared)).fetchall()
        out: dict[tuple[str, str, str], dict[str, Any]] = {}
        for backend, section, label, unit, hib, digits, run_id, status, n, mean, low, high in rows:
            series = out.setdefault((backend, section, label), {
                "backend": backend, "section": section, "label": label, "unit": unit,
                "higher_is_better": bool(hib), "digits": int(digits), "points": []})
            series["points"].append({"run_id": run_id, "date": _date(run_id), "status": status, "n": int(n),
                                     "mean": float(mean),
                                     "low": None if low is None else float(low),
                                     "high": None if high is None else float(high)})
        for series in out.values():
            series["points"].sort(key=lambda p: _sort_key(p["run_id"]))
        return out

    def refresh_change_points(self, host: str, compared: str | None = None,
                              tolerance: float | None = None) -> int:
        """Compute HOST's change points again (history.change_points on each series of its runs of the compared
        configuration COMPARED - '' or None: every run) and keep them (:meth:`put_change_points`); returns how
        many there are. An import does this; a recorded run's report keeps the ones its history found."""
        from ansible_collections.volt.netbench.plugins.plugin_utils.history.history import (  # pylint: disable=import-outside-toplevel
            DEFAULT_TOLERANCE, change_points)

        tolerance = DEFAULT_TOLERANCE if tolerance is None else float(tolerance)
        found = []
        for (backend, section, label), item in sorted(self.series(host, compared or None).items()):
            points = item["points"]
            for cp in change_points([p["mean"] for p in points], item["higher_is_better"], tolerance):
                found.append(dict(cp, backend=backend, section=section, label=label, unit=item["unit"],
                                  run_id=points[cp["index"]]["run_id"]))
        return self.put_change_points(host, compared or "", found, tolerance)

    def put_change_points(self, host: str, compared: str, found: list[dict[str, Any]], tolerance: float) -> int:
        """Keep FOUND (history.build_history's change points: backend, section, label, run_id, unit, before, after,
        change_pct, regression) as HOST's of the compared configuration COMPARED, in place of the ones kept."""
        rows = [(host, compared, c["backend"], c["section"], c["label"], c["run_id"], c.get("unit"),
                 float(c["before"]), float(c["after"]), float(c["change_pct"]), int(bool(c["regression"])),
                 float(tolerance)) for c in found]
        for row in rows:
            checked_key(host, row[2], row[5])
        with self._transaction() as cur:
            self._execute(cur, "DELETE FROM vnb_change_points WHERE host = ? AND compared = ?", (host, compared))
            cur.executemany(self._sql("INSERT INTO vnb_change_points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                            rows)
        return len(rows)

    def change_points(self, host: str | None = None) -> list[dict[str, Any]]:
        """The change points kept (of HOST, default every host), oldest run first."""
        if self.empty:
            return []
        with self._transaction() as cur:
            rows = self._execute(cur, """
                SELECT host, compared, backend, section, label, run_id, unit, before, after, change_pct, regression
                FROM vnb_change_points WHERE CAST(? AS TEXT) IS NULL OR host = ?""", (host, host)).fetchall()
        keys = ("host", "compared", "backend", "section", "label", "run_id", "unit", "before", "after", "change_pct",
                "regression")
        out = [dict(zip(keys, r), regression=bool(r[10])) for r in rows]
        out.sort(key=lambda c: (c["host"], _sort_key(c["run_id"]), c["backend"], c["label"]))
        return out

    def put_verdict(self, host: str, run_id: str, against: str, *, tolerance: float, verdict: str,
                    regressions: int, detail: dict[str, Any] | None = None) -> None:
        """Keep a gate's verdict on HOST's run RUN_ID against AGAINST (the same pair again replaces it)."""
        checked_host(host)
        checked_run_id(run_id)
        checked_run_id(against)
        with self._transaction() as cur:
            self._execute(cur, "DELETE FROM vnb_verdicts WHERE host = ? AND run_id = ? AND against = ?",
                          (host, run_id, against))
            self._execute(cur, "INSERT INTO vnb_verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (
                host, run_id, against, self._ts(dt.datetime.now(dt.timezone.utc)), float(tolerance), str(verdict),
                int(regressions), self._json(detail or {})))

    def verdicts(self, host: str | None = None) -> list[dict[str, Any]]:
        """The gate verdicts kept (of HOST, default: every host), newest run first."""
        if self.empty:
            return []
        with self._transaction() as cur:
            rows = self._execute(cur, """SELECT host, run_id, against, created, tolerance, verdict, regressions, detail
                                         FROM vnb_verdicts WHERE CAST(? AS TEXT) IS NULL OR host = ?""", (host, host)).fetchall()
        out = [{"host": self._host(r[0]), "run_id": r[1], "against": r[2], "created": self._from_ts(r[3]),
                "tolerance": float(r[4]), "verdict": r[5], "regressions": int(r[6]), "detail": self._from_json(r[7])}
               for r in rows]
        out.sort(key=lambda v: (v["host"], _sort_key(v["run_id"])), reverse=True)
        return out


class _Transaction:
    """A cursor in a transaction: committed when the block ends, rolled back when it raises."""

    def __init__(self, store: Store):
        self.store = store
        self.cur: Any = None

    def __enter__(self) -> Any:
        self.store._begin()  # pylint: disable=protected-access
        self.cur = self.store.conn.cursor()
        return self.cur

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                self.store.conn.commit()
            else:
                self.store.conn.rollback()
        finally:
            self.cur.close()


class SqliteStore(Store):
    """The embedded store: one SQLite file (the standard library's sqlite3)."""

    kind = "sqlite"

    def _begin(self) -> None:
        # the write lock from the start: two writers serialise instead of failing on a lock upgrade
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN" if self.read_only else "BEGIN IMMEDIATE")

    def _tables(self, cur: Any) -> set[str]:
        return {r[0] for r in cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}


class PostgresStore(Store):
    """A PostgreSQL store (psycopg 3): JSON as jsonb, times as timestamptz."""

    kind = "postgresql"
    PARAM = "%s"
    TYPES = {"json": "JSONB", "ts": "TIMESTAMPTZ"}

    def _begin(self) -> None:
        pass  # psycopg opens a transaction with the first statement

    def _json(self, value: Any) -> Any:
        from psycopg.types.json import Jsonb  # pylint: disable=import-outside-toplevel

        return Jsonb(value)

    def _ts(self, value: dt.datetime | None) -> Any:
        return value

    def _lock_schema(self, cur: Any) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))

    def _tables(self, cur: Any) -> set[str]:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return {r[0] for r in cur.fetchall()}


def is_dsn(spec: str) -> bool:
    """Whether SPEC names a PostgreSQL database (a postgresql:// URI or a key=value connection string)."""
    spec = str(spec or "").strip()
    return spec.startswith(("postgresql://", "postgres://")) or bool(re.match(r"^\w+\s*=", spec))


def open_store(spec: str | Path, *, migrate: bool = True, read_only: bool = False) -> Store:
    """The store SPEC names: a PostgreSQL DSN (``postgresql://...`` or ``host=... dbname=...``) or the path of an
    SQLite file (made when missing). MIGRATE (default) brings its schema up to date. READ_ONLY (what reads history
    or a baseline - check mode included - opens it so): nothing is made or migrated; a store without a schema yet,
    or an SQLite file that does not exist, reads as an empty store."""
    spec = str(spec)
    if read_only:
        migrate = False
    if is_dsn(spec):
        try:
            import psycopg  # pylint: disable=import-outside-toplevel
        except ImportError as err:
            raise StoreError("a PostgreSQL store needs psycopg 3 on the controller (pip install 'psycopg[binary]'; "
                             "requirements.txt lists it)") from err
        try:
            store: Store = PostgresStore(psycopg.connect(spec, connect_timeout=15), _redacted(spec))
        except psycopg.Error as err:
            raise StoreError(f"cannot connect to the PostgreSQL store {_redacted(spec)}: {err}") from err
    else:
        # root writes only where it means to: the file's directories must be trusted (safefs: none another user
        # could swap for a link) and the file, when it exists, a regular file of this user's - not a link
        parent = os.path.dirname(os.path.abspath(spec)) or "."
        missing = read_only and not os.path.lexists(spec)
        try:
            if not missing:
                os.close(safefs.open_dir(parent, create=not read_only, mode=0o755))
        except OSError as err:
            raise StoreError(f"the SQLite store {spec} cannot be kept safely: {err}") from err
        problem = safefs.private_file_problem(spec)
        if problem:
            raise StoreError(f"the SQLite store {spec} cannot be kept safely: {problem}")
        try:
            if missing:
                conn = sqlite3.connect(":memory:", isolation_level=None)
            elif read_only:
                conn = sqlite3.connect(Path(os.path.abspath(spec)).as_uri() + "?mode=ro", uri=True, timeout=60,
                                       isolation_level=None)
            else:
                conn = sqlite3.connect(spec, timeout=60, isolation_level=None)
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as err:
            raise StoreError(f"cannot open the SQLite store {spec}: {err}") from err
        store = SqliteStore(_SqliteConnection(conn), spec)
        store.read_only = read_only and not missing
        if missing:
            store.migrate()  # an empty store in memory: the file is not made
    if migrate:
        store.migrate()
    elif store.version() == 0:
        store.empty = True
    return store


class _SqliteConnection:
    """sqlite3 in autocommit mode with explicit transactions (BEGIN IMMEDIATE ... COMMIT), shaped like psycopg's."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def execute(self, text: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(text, tuple(params))

    def cursor(self) -> sqlite3.Cursor:
        return self._conn.cursor()

    def commit(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def close(self) -> None:
        self._conn.close()


def _redacted(dsn: str) -> str:
    """A DSN as it may be shown: its password replaced."""
    dsn = re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", dsn)
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", dsn, flags=re.IGNORECASE)


def keep_run(spec: str, run_dir: str | Path, host: str = LOCAL_HOST) -> tuple[str, str, str]:
    """Write the run recorded in RUN_DIR (its run.json, samples and round trips) as HOST's into the store SPEC
    names - after record_run, and the watchdog's recording of an interrupted run. Returns its key."""
    from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import load_run  # pylint: disable=import-outside-toplevel

    with open_store(spec) as store:
        return store.put_run(load_run(run_dir), host=host)


def keep_change_points(spec: str, host: str, history: dict[str, Any]) -> None:
    """Keep the change points a report's history found (report.build_report's ``history``, read from the store) as
    HOST's in the store SPEC names - recording a run does not compute them again (PELT on every series grows with
    the history); the report that follows it does anyway."""
    if history.get("compared") is None or not history.get("runs"):
        return
    with open_store(spec) as store:
        store.put_change_points(host, history["compared"], history.get("change_points") or [], history["tolerance"])


def keep_verdict(spec: str, host: str, model: dict[str, Any]) -> None:
    """Keep a regression gate's verdict (regression.compare_runs' MODEL) on HOST's run in the store SPEC names."""
    with open_store(spec) as store:
        store.put_verdict(host, model["current"]["run_id"], model["baseline"]["run_id"],
                          tolerance=model["tolerance"], verdict=model["verdict"],
                          regressions=len(model["regressions"]),
                          detail={"regressions": model["regressions"], "counts": model["counts"]})


def import_tree(store: Store, results_dir: str | Path, *, host: str | None = None) -> dict[str, int]:
    """Write every run of a results tree into STORE: a single host's tree (``<backend>/<run id>/``) as HOST (default
    localhost), a fleet's (``<host>/<backend>/<run id>/``) by its host directories. Runs already there are written
    again (idempotent). Returns the counts (imported, skipped: not a readable volt.netbench run)."""
    from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import load_run, run_dirs  # pylint: disable=import-outside-toplevel

    root = Path(results_dir)
    trees = {host or LOCAL_HOST: root} if run_dirs(root) else {name: root / name for name in fleet_hosts(root)}
    counts = {"imported": 0, "skipped": 0, "hosts": len(trees)}
    for name, tree in trees.items():
        for run_dir in run_dirs(tree).values():
            try:
                store.put_run(load_run(run_dir), host=name)
            except (ResultsError, StoreError):
                counts["skipped"] += 1
                continue
            counts["imported"] += 1
        for compared in sorted({r["compared"] for r in store.runs(name)}):
            store.refresh_change_points(name, compared)
    return counts


RTTS_FILE = "rtts.json"


def export_tree(store: Store, dest: str | Path, hosts: list[str] | None = None) -> dict[str, list[str]]:
    """Write what a report of each of HOSTS (default every host in STORE) counts into a results tree at DEST - a
    fleet's layout, ``<host>/<backend>/<run id>/`` with run.json, samples.jsonl and the round trips (rtts.json):
    per backend its newest run and its newest run with data, and every backend's run of the host's newest run id
    with data. Another controller's fleet is then reported from the store alone (its raw files stay where they
    were: each run.json names them). Files go through safefs (trusted directories, no link followed); a run
    directory that exists already is left as it is. Returns the run keys written per host."""
    root = Path(dest)
    wanted = store.hosts() if hosts is None else [checked_host(h) for h in hosts]
    out: dict[str, list[str]] = {}
    for host in wanted:
        runs = store.runs(host)
        with_data = [r for r in runs if r["status"] in ("complete", "partial") and r["measured"]]
        newest_id = max((r["run_id"] for r in with_data), key=_sort_key, default=None)
        keys = {(r["backend"], r["run_id"]) for r in runs if r["run_id"] == newest_id}
        for backend in PATHS:
            own = [r for r in runs if r["backend"] == backend]
            for pool in (own, [r for r in own if r in with_data]):
                if pool:
                    keys.add((backend, max(pool, key=lambda r: _sort_key(r["run_id"]))["run_id"]))
        out[host] = []
        for backend, run_id in sorted(keys, key=lambda k: (k[0], _sort_key(k[1]))):
            run_dir = root / host / backend / run_id
            if run_dir.exists():
                continue
            run = store.load_run(host, backend, run_id)
            samples, rtts = run.pop("samples"), run.pop("rtts")
            run["location"] = run.pop("path")
            safefs.make_new_dir(run_dir, mode=0o755)
            safefs.write_file(run_dir / "samples.jsonl", "".join(json.dumps(s, sort_keys=True) + "\n" for s in samples))
            safefs.write_file(run_dir / RTTS_FILE, json.dumps(rtts))
            safefs.write_file(run_dir / "run.json", json.dumps(run, indent=2, sort_keys=True) + "\n")
            out[host].append(f"{backend}/{run_id}")
    return out
