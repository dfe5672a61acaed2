"""Run a local Neo4j 5.26 LTS Community server assembled from Maven Central jars.

No Docker and no Neo4j tarball are needed: ``mvn`` copies the server's jar closure
(``graph/neo4j_runtime/pom.xml``) into ``<home>/lib`` and the server runs as a single
JVM (``org.neo4j.server.CommunityEntryPoint``) on the machine's Java 17 or 21.

Layout of ``home`` (see :func:`default_home`)::

    home/lib/           jars (Maven closure, ~130 MB), recreated by install()
    home/conf/          neo4j.conf rendered from graph/neo4j_runtime/neo4j.conf on each start
    home/data/          databases (persist across restarts)
    home/logs/          console.log (JVM stdout/stderr), neo4j.log, debug.log, ...
    home/run/neo4j.pid  pid of the running JVM
    home/import/        default folder for LOAD CSV / neo4j-admin import files
    home/plugins/       APOC Core (installed) and any other plugin jars; first on the class path

The server listens on 127.0.0.1 only, with authentication disabled; it is meant for
local development, tests and a single analyst. The CLI (``shadowfleet neo4j
start|stop|status``) wraps :class:`Neo4jServer`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["RUNTIME_DIR", "Neo4jServer", "Neo4jServerError", "default_home"]

#: Folder holding the pom.xml and neo4j.conf template shipped with the project.
RUNTIME_DIR: Path = Path(__file__).resolve().parent / "neo4j_runtime"

_MAIN_CLASS = "org.neo4j.server.CommunityEntryPoint"
_ADMIN_CLASS = "org.neo4j.cli.AdminTool"
_INSTALL_MARKER = ".shadowfleet-installed"
_SUPPORTED_JAVA = (17, 21)

# JVM flags from the stock 5.26 neo4j.conf (server.jvm.additional); a direct start of
# CommunityEntryPoint does not read those lines, so they are passed here.
_JVM_FLAGS: tuple[str, ...] = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
)


class Neo4jServerError(RuntimeError):
    """A local Neo4j server operation failed; the message says what failed and what to do."""


def default_home() -> Path:
    """Return the default server home: ``$SHADOWFLEET_HOME/neo4j`` (``./.shadowfleet/neo4j``)."""
    base = Path(os.environ.get("SHADOWFLEET_HOME") or ".shadowfleet").expanduser()
    return (base / "neo4j").resolve()


def _pom_version(pom: Path, prop: str = "neo4j.version") -> str:
    """Read a ``<properties>`` value (e.g. the Neo4j version) from the runtime pom."""
    match = re.search(rf"<{re.escape(prop)}>\s*([^<\s]+)\s*</{re.escape(prop)}>", pom.read_text())
    return match.group(1) if match else "unknown"


def _java_major(java: str) -> int | None:
    """Return the major version of the ``java`` executable, or None if it cannot be run."""
    try:
        out = subprocess.run(
            [java, "-XshowSettings:properties", "-version"],
            capture_output=True,
            text=True,
            timeout=60,
        ).stderr
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"java\.specification\.version = (\d+)", out)
    return int(match.group(1)) if match else None


def _find_java() -> str:
    """Locate a Java 17 or 21 runtime (Neo4j 5.26 supports only those).

    Order: ``$SHADOWFLEET_JAVA``, ``$JAVA_HOME/bin/java``, ``java`` on PATH, then
    ``/usr/lib/jvm/*/bin/java``. The first supported one wins.
    """
    candidates: list[str] = []
    if os.environ.get("SHADOWFLEET_JAVA"):
        candidates.append(os.environ["SHADOWFLEET_JAVA"])
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(on_path)
    candidates += [str(p) for p in sorted(Path("/usr/lib/jvm").glob("*/bin/java"))]
    seen: dict[str, int | None] = {}
    for cand in candidates:
        if cand in seen or not os.access(cand, os.X_OK):
            continue
        seen[cand] = major = _java_major(cand)
        if major in _SUPPORTED_JAVA:
            return cand
    found = ", ".join(f"{c} ({v or '?'})" for c, v in seen.items()) or "none"
    raise Neo4jServerError(
        f"no Java 17 or 21 runtime found for Neo4j 5.26 (found: {found}); "
        "install openjdk-17-jre-headless or set SHADOWFLEET_JAVA to a Java 17/21 binary"
    )


def _tail(path: Path, lines: int = 6, width: int = 300) -> str:
    """Return the last non-empty ``lines`` of ``path`` joined on one line (for error messages)."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no console.log)"
    picked = [ln.strip()[:width] for ln in text if ln.strip()][-lines:]
    return " | ".join(picked) if picked else "(console.log is empty)"


def _port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    """True if ``pid`` is a live (non-zombie) process."""
    try:
        # Reap it if it happens to be our own child, so a dead JVM is not a zombie.
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` (serialises install/start across processes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Neo4jServer:
    """A Neo4j 5.26 Community server living entirely in ``home``.

    Args:
        home: folder holding lib/, conf/, data/, logs/, run/, import/ and plugins/.
        bolt_port: Bolt port on 127.0.0.1.
        http_port: HTTP port on 127.0.0.1 (Neo4j Browser at ``/browser/``).
        heap: JVM heap (``-Xms``/``-Xmx``), Neo4j size syntax such as ``"1g"`` or ``"512m"``.
        pagecache: ``server.memory.pagecache.size``; raise it toward the store size for big graphs.
    """

    def __init__(
        self,
        home: Path,
        bolt_port: int = 7687,
        http_port: int = 7474,
        heap: str = "1g",
        pagecache: str = "1g",
    ) -> None:
        self.home: Path = Path(home).expanduser().absolute()
        self.bolt_port = int(bolt_port)
        self.http_port = int(http_port)
        self.heap = heap
        self.pagecache = pagecache
        self.pom: Path = RUNTIME_DIR / "pom.xml"
        self.conf_template: Path = RUNTIME_DIR / "neo4j.conf"

    # ------------------------------------------------------------------ paths
    @property
    def lib_dir(self) -> Path:
        """Folder of the server's jars."""
        return self.home / "lib"

    @property
    def conf_dir(self) -> Path:
        """Folder holding the rendered neo4j.conf (NEO4J_CONF)."""
        return self.home / "conf"

    @property
    def logs_dir(self) -> Path:
        """Folder of Neo4j's logs and console.log."""
        return self.home / "logs"

    @property
    def pid_file(self) -> Path:
        """``home/run/neo4j.pid``."""
        return self.home / "run" / "neo4j.pid"

    @property
    def console_log(self) -> Path:
        """JVM stdout/stderr of the current (or last) run."""
        return self.logs_dir / "console.log"

    @property
    def bolt_uri(self) -> str:
        """Bolt URI of this server, e.g. ``bolt://127.0.0.1:7687``."""
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def http_url(self) -> str:
        """Root of the HTTP API, e.g. ``http://127.0.0.1:7474/``."""
        return f"http://127.0.0.1:{self.http_port}/"

    @property
    def browser_url(self) -> str:
        """Neo4j Browser URL, e.g. ``http://127.0.0.1:7474/browser/``."""
        return f"{self.http_url}browser/"

    @property
    def version(self) -> str:
        """Installed Neo4j version (from the jar name), else the version the pom pins."""
        if self.lib_dir.is_dir():
            for jar in self.lib_dir.glob("neo4j-*.jar"):
                match = re.fullmatch(r"neo4j-(\d+\.\d+\.\d+)\.jar", jar.name)
                if match:
                    return match.group(1)
        return _pom_version(self.pom)

    # --------------------------------------------------------------- install
    def _pom_digest(self) -> str:
        return hashlib.sha256(self.pom.read_bytes()).hexdigest()

    def is_installed(self) -> bool:
        """True if ``home/lib`` holds the jars for the current pom (marker file matches)."""
        marker = self.lib_dir / _INSTALL_MARKER
        try:
            return marker.read_text().strip() == self._pom_digest()
        except OSError:
            return False

    def install(self, progress: Callable[[str], None] | None = None) -> None:
        """Download the server jars from Maven Central into ``home/lib`` (skipped when installed).

        Runs ``mvn -B -q -f home/runtime/pom.xml package -Dneo4j.lib=home/lib.partial
        -Dneo4j.plugins=home/lib.partial/_plugins`` and then renames lib.partial to lib,
        so an interrupted install leaves no half-filled lib/. The plugin jars (APOC) replace
        any ``apoc-*.jar`` in ``home/plugins``; other jars there are left alone. Jars are
        cached in ``~/.m2``, so a reinstall (e.g. after a version bump in the pom) is fast.
        """
        say = progress or (lambda _msg: None)
        if self.is_installed():
            say(f"Neo4j {self.version} already installed in {self.lib_dir}")
            return
        with _file_lock(self.home / "run" / "install.lock"):
            if self.is_installed():  # another process finished it while we waited
                say(f"Neo4j {self.version} already installed in {self.lib_dir}")
                return
            self._install(say)

    def _install(self, say: Callable[[str], None]) -> None:
        """Do the Maven install; the caller holds install.lock."""
        mvn = shutil.which("mvn")
        if not mvn:
            raise Neo4jServerError(
                "Maven (mvn) is not on PATH, so the Neo4j jars cannot be fetched; "
                "install it (apt-get install maven) and retry"
            )
        runtime = self.home / "runtime"
        runtime.mkdir(parents=True, exist_ok=True)
        pom_copy = runtime / "pom.xml"
        shutil.copyfile(self.pom, pom_copy)
        partial = self.home / "lib.partial"
        shutil.rmtree(partial, ignore_errors=True)
        version = _pom_version(self.pom)
        say(
            f"Fetching Neo4j {version} jars from Maven Central into {self.lib_dir} "
            "(about 130 MB on first use; cached in ~/.m2)"
        )
        staged_plugins = partial / "_plugins"
        cmd = [
            mvn,
            "-B",
            "-q",
            "-f",
            str(pom_copy),
            "package",
            f"-Dneo4j.lib={partial}",
            f"-Dneo4j.plugins={staged_plugins}",
        ]
        started = time.monotonic()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        except subprocess.TimeoutExpired as exc:
            raise Neo4jServerError(
                "mvn did not finish within an hour while fetching Neo4j jars; "
                "check access to Maven Central and retry"
            ) from exc
        if proc.returncode != 0 or not any(partial.glob("neo4j-*.jar")):
            out = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-6:])[-1500:]
            raise Neo4jServerError(
                f"mvn failed to fetch the Neo4j jars (exit {proc.returncode}): {out}; "
                f"check access to Maven Central, then rerun (command: {' '.join(cmd)})"
            )
        plugins = self.home / "plugins"
        plugins.mkdir(parents=True, exist_ok=True)
        for old in plugins.glob("apoc-*.jar"):
            old.unlink()
        if staged_plugins.is_dir():
            for jar in staged_plugins.glob("*.jar"):
                jar.replace(plugins / jar.name)
            shutil.rmtree(staged_plugins)
        (partial / _INSTALL_MARKER).write_text(self._pom_digest() + "\n")
        shutil.rmtree(self.lib_dir, ignore_errors=True)
        partial.rename(self.lib_dir)
        jars = list(self.lib_dir.glob("*.jar"))
        size_mb = sum(j.stat().st_size for j in jars) / 1e6
        say(
            f"Installed Neo4j {self.version}: {len(jars)} jars, {size_mb:.0f} MB "
            f"in {time.monotonic() - started:.0f}s"
        )

    # ----------------------------------------------------------------- config
    def _prepare_home(self) -> None:
        """Create the home folders and render conf/neo4j.conf from the template."""
        for sub in ("conf", "data", "logs", "run", "import", "plugins"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        text = self.conf_template.read_text()
        for token, value in {
            "@BOLT_PORT@": str(self.bolt_port),
            "@HTTP_PORT@": str(self.http_port),
            "@HEAP@": self.heap,
            "@PAGECACHE@": self.pagecache,
        }.items():
            text = text.replace(token, value)
        (self.conf_dir / "neo4j.conf").write_text(text)

    def _classpath(self) -> str:
        return os.pathsep.join(
            [str(self.home / "plugins" / "*"), str(self.conf_dir / "*"), str(self.lib_dir / "*")]
        )

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["NEO4J_HOME"] = str(self.home)
        env["NEO4J_CONF"] = str(self.conf_dir)
        return env

    # ------------------------------------------------------------- processes
    def _read_pid(self) -> int | None:
        """Pid of the running server, or None (a stale pid file is removed)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if _pid_alive(pid) and self._is_our_jvm(pid):
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def _is_our_jvm(self, pid: int) -> bool:
        """Guard against pid reuse: the process must be CommunityEntryPoint for this home."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return True  # no /proc: trust the pid file
        return _MAIN_CLASS in cmdline and f"--home-dir={self.home}" in cmdline

    def _http_ok(self) -> bool:
        try:
            with urllib.request.urlopen(self.http_url, timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def _bolt_ok(self) -> bool:
        try:
            import neo4j  # the official driver; only needed for the readiness probe
        except ImportError as exc:
            raise Neo4jServerError(
                "the neo4j Python driver is not installed; run `pip install neo4j` in this venv"
            ) from exc
        try:
            with neo4j.GraphDatabase.driver(
                self.bolt_uri, auth=None, connection_timeout=3, max_connection_lifetime=30
            ) as driver:
                driver.verify_connectivity()
            return True
        except Exception:
            return False

    def _answering(self) -> bool:
        return self._http_ok() and self._bolt_ok()

    def is_running(self) -> bool:
        """True if this home's JVM is alive (it may still be starting)."""
        return self._read_pid() is not None

    def start(self, timeout: float = 180.0) -> None:
        """Start the server detached and wait until Bolt and HTTP answer.

        Installs the jars first if needed. A no-op if the server is already running and
        answering; if it is running but still starting, waits for it. Raises
        :class:`Neo4jServerError` (quoting console.log) if the JVM dies or ``timeout``
        seconds pass; on timeout the JVM is stopped.
        """
        deadline = time.monotonic() + timeout
        with _file_lock(self.home / "run" / "start.lock"):
            self._start_locked(deadline, timeout)

    def _start_locked(self, deadline: float, timeout: float) -> None:
        """Body of :meth:`start`; the caller holds start.lock."""
        pid = self._read_pid()
        if pid is not None:
            if self._answering():
                return
            # Started by someone else and still starting, or running on other ports.
            self._wait_ready(pid, deadline, timeout, stop_on_timeout=False)
            return
        for port in (self.bolt_port, self.http_port):
            if _port_open(port):
                raise Neo4jServerError(
                    f"port {port} on 127.0.0.1 is already in use by another process (not the "
                    f"server in {self.home}); stop that process or use other ports"
                )
        self.install()
        java = _find_java()
        self._prepare_home()
        if self.console_log.exists():
            self.console_log.replace(self.logs_dir / "console.log.1")
        cmd = [
            java,
            f"-XX:ErrorFile={self.logs_dir}/hs_err_pid%p.log",
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            *_JVM_FLAGS,
            "-cp",
            self._classpath(),
            _MAIN_CLASS,
            f"--home-dir={self.home}",
            f"--config-dir={self.conf_dir}",
            "--console-mode",
        ]
        # A short-lived sh backgrounds the JVM and records its pid, so the JVM is orphaned
        # (no zombie in this process, survives the CLI exiting) and runs in the new session
        # created for sh: Ctrl-C in the calling terminal does not reach it.
        env = self._env()
        env["SHADOWFLEET_NEO4J_PIDFILE"] = str(self.pid_file)
        with open(self.console_log, "ab") as log:
            launcher = subprocess.Popen(
                [
                    "/bin/sh",
                    "-c",
                    'exec 0</dev/null; "$@" & echo $! > "$SHADOWFLEET_NEO4J_PIDFILE"',
                    "sh",
                    *cmd,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,
                env=env,
                start_new_session=True,
            )
            launcher.wait(timeout=30)
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError) as exc:
            raise Neo4jServerError(
                f"could not launch Java for Neo4j (no pid written to {self.pid_file}); "
                f"see {self.console_log}: {_tail(self.console_log)}"
            ) from exc
        self._wait_ready(pid, deadline, timeout)

    def _wait_ready(self, pid: int, deadline: float, timeout: float, stop_on_timeout: bool = True) -> None:
        """Poll until the server answers; raise with console.log's tail if it dies or times out.

        On timeout the JVM is stopped only if ``stop_on_timeout`` (i.e. this call started it).
        """
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                self.pid_file.unlink(missing_ok=True)
                raise Neo4jServerError(
                    f"Neo4j exited during startup; fix the cause shown in {self.console_log} "
                    f"(last lines: {_tail(self.console_log)})"
                )
            if self._answering():
                # Neo4j rewrites (and on exit deletes) the same pid file; make sure it is there.
                if not self.pid_file.exists():
                    self.pid_file.write_text(f"{pid}\n")
                return
            time.sleep(0.5)
        if not stop_on_timeout:
            raise Neo4jServerError(
                f"Neo4j (pid {pid}) is running but did not answer on {self.bolt_uri} and "
                f"{self.http_url} within {timeout:.0f}s; it may use other ports or be stuck: "
                f"check {self.console_log} or run stop and start again"
            )
        self._terminate(pid, 30.0)
        raise Neo4jServerError(
            f"Neo4j did not answer on {self.bolt_uri} and {self.http_url} within {timeout:.0f}s "
            f"and was stopped; retry with a longer timeout or see {self.console_log} "
            f"(last lines: {_tail(self.console_log)})"
        )

    def _terminate(self, pid: int, timeout: float) -> None:
        """SIGTERM ``pid``, wait up to ``timeout`` s, then SIGKILL it."""
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not _pid_alive(pid):
                return
            time.sleep(0.2)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        end = time.monotonic() + 10
        while time.monotonic() < end and _pid_alive(pid):
            time.sleep(0.1)

    def stop(self, timeout: float = 60.0) -> None:
        """Stop the server: SIGTERM (clean checkpoint), then SIGKILL after ``timeout`` s.

        A no-op if it is not running. Removes the pid file.
        """
        pid = self._read_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return
        self._terminate(pid, timeout)
        if _pid_alive(pid):
            raise Neo4jServerError(
                f"Neo4j (pid {pid}) survived SIGTERM and SIGKILL; kill it by hand and remove {self.pid_file}"
            )
        self.pid_file.unlink(missing_ok=True)

    def status(self) -> dict[str, Any]:
        """Describe the server: installed, running, pid, bolt_uri, browser_url, home, version."""
        pid = self._read_pid()
        return {
            "installed": self.is_installed(),
            "running": pid is not None,
            "pid": pid,
            "bolt_uri": self.bolt_uri,
            "browser_url": self.browser_url,
            "home": str(self.home),
            "version": self.version,
        }

    # ------------------------------------------------------------------ admin
    def admin_import(self, args: list[str]) -> subprocess.CompletedProcess:
        """Run ``neo4j-admin`` (``org.neo4j.cli.AdminTool``) with ``args``; server must be stopped.

        Example: ``["database", "import", "full", "--nodes=Vessel=v.csv",
        "--relationships=OWNS=o.csv", "--overwrite-destination", "neo4j"]``.
        Relative paths in ``args`` resolve against the caller's working directory.
        Returns the CompletedProcess (text stdout/stderr captured); the caller checks
        ``returncode``. Raises :class:`Neo4jServerError` if the server is running.
        """
        if self.is_running():
            raise Neo4jServerError(
                f"neo4j-admin import needs the server stopped, but it is running "
                f"(pid {self._read_pid()}); run `shadowfleet neo4j stop` first"
            )
        self.install()
        java = _find_java()
        self._prepare_home()
        cmd = [
            java,
            f"-XX:ErrorFile={self.logs_dir}/hs_err_pid%p.log",
            f"-Xmx{self.heap}",
            *_JVM_FLAGS,
            "-cp",
            self._classpath(),
            _ADMIN_CLASS,
            *args,
        ]
        return subprocess.run(cmd, capture_output=True, text=True, env=self._env())
