"""nginx and HAProxy in front of the backend pods: config templates and running processes.

Every balancer listens on 127.0.0.1 only, on a port chosen free at run time, and proxies to
pods on 127.0.0.1. The process is started in the foreground (nginx ``daemon off``, HAProxy
``-db``) so the harness holds its id and stops it, also on error or interrupt.
"""

from __future__ import annotations

import numbers
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from k8smodel.lab import _procs

__all__ = [
    "NGINX_POLICIES",
    "HAPROXY_POLICIES",
    "Balancer",
    "BalancerUnavailable",
    "find_binary",
    "nginx_config",
    "haproxy_config",
    "start_balancer",
    "check_config",
]

#: nginx ``upstream`` balancing directives, by policy name (``ngx_http_upstream_module``,
#: https://nginx.org/en/docs/http/ngx_http_upstream_module.html). Round robin is the default
#: and has no directive.
NGINX_POLICIES = {
    "round_robin": "",
    "least_conn": "least_conn;",
    "random": "random;",
    "random_two_least_conn": "random two least_conn;",
}

#: HAProxy ``balance`` algorithms, by policy name (HAProxy ``doc/configuration.txt``,
#: section "balance").
HAPROXY_POLICIES = {
    "roundrobin": "roundrobin",
    "leastconn": "leastconn",
    "random(1)": "random(1)",
    "random(2)": "random(2)",
}


class BalancerUnavailable(RuntimeError):
    """nginx or HAProxy is not installed (the message says what to install)."""


_PACKAGES = {"nginx": "nginx-light (or nginx)", "haproxy": "haproxy"}


def find_binary(name: str) -> str:
    """Path of the ``nginx`` or ``haproxy`` executable.

    Looks on ``PATH`` and in ``/usr/sbin`` and ``/usr/local/sbin`` (where Debian installs
    them, often outside a normal user's ``PATH``).

    Parameters
    ----------
    name : {"nginx", "haproxy"}
        The executable.

    Returns
    -------
    str
        Its absolute path.

    Raises
    ------
    BalancerUnavailable
        If it is not installed; the message names the Debian package.
    """
    if name not in _PACKAGES:
        raise ValueError(f"name must be 'nginx' or 'haproxy'; got {name!r}")
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")
    if not found:
        raise BalancerUnavailable(
            f"{name} is not installed; install the Debian package {_PACKAGES[name]} "
            f"(as root: apt-get install -y {_PACKAGES[name].split()[0]}), or run `make validate` "
            "as root, which installs it"
        )
    return found


def _check_ports(listen_port, backend_ports) -> list[int]:
    ports = [int(p) for p in backend_ports]
    if not ports:
        raise ValueError("backend_ports must name at least one pod port")
    for p in [listen_port, *ports]:
        if not isinstance(p, numbers.Integral) or not 0 < int(p) < 65536:
            raise ValueError(f"ports must be integers in 1..65535; got {p!r}")
    return ports


def nginx_preamble(
    work: Path, *, workers: int, run_as_root: bool, modules: tuple[str, ...] = ()
) -> list[str]:
    """The lines every lab nginx configuration starts with, up to the open ``http {`` block.

    Foreground master with ``workers`` workers, pid, error log and every temporary path
    inside ``work``; ``modules`` are ``load_module`` paths.
    """
    return [
        *(f"load_module {m};" for m in modules),
        "daemon off;",
        "master_process on;",
        *(["user nobody nogroup;"] if run_as_root else []),
        f"worker_processes {int(workers)};",
        f"pid {work / 'nginx.pid'};",
        f"error_log {work / 'error.log'} warn;",
        "events {",
        "    worker_connections 4096;",
        "}",
        "http {",
        "    access_log off;",
        *(f"    {name}_temp_path {work / name};" for name in _TEMP_PATHS),
    ]


_TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def nginx_config(
    policy: str,
    *,
    listen_port: int,
    backend_ports,
    workdir: str | Path,
    workers: int = 1,
    zone: bool = False,
    run_as_root: bool = False,
) -> str:
    """The nginx configuration for one balancing policy.

    Parameters
    ----------
    policy : {"round_robin", "least_conn", "random", "random_two_least_conn"}
        The ``upstream`` balancing method.
    listen_port : int
        Port nginx listens on (127.0.0.1 only).
    backend_ports : sequence of int
        The pods' ports on 127.0.0.1, in pod order.
    workdir : path
        Folder for the pid file, error log and temporary files.
    workers : int, default 1
        ``worker_processes``. With more than one, the listening socket uses ``reuseport``
        (one accept queue per worker), so the kernel spreads the client connections over
        the workers; ingress-nginx does the same by default (ConfigMap ``reuse-port``,
        default true, kubernetes/ingress-nginx
        ``internal/ingress/controller/config/config.go``).
    zone : bool, default False
        Add ``zone`` to the upstream: the peers' state (connection counts, round-robin
        weights) then lives in shared memory and is common to all workers. Without it each
        worker balances with its own counts.
    run_as_root : bool, default False
        Add ``user nobody nogroup;`` so workers drop root privileges when nginx runs as root.

    Returns
    -------
    str
        The configuration text.

    Notes
    -----
    Semantics, from ``ngx_http_upstream_module`` and its sources: ``least_conn`` passes a
    request to the server with the fewest active connections, ties broken by weighted round
    robin (``ngx_http_upstream_least_conn_module.c``); ``random two least_conn`` draws two
    *distinct* servers and keeps the one with fewer connections (in
    ``ngx_http_upstream_get_random2_peer`` a second draw equal to the first is redrawn);
    without ``zone`` these counts are per worker process (an nginx developer on the nginx
    mailing list, 2022-08-08: "enabling upstream zone moves internal peer state storage to
    shared memory, such that loadbalancing becomes consistent among worker processes").
    Requests are proxied with HTTP/1.0 and a new upstream connection each (nginx's default,
    no ``keepalive``), so "active connections" are in-flight requests.
    """
    if policy not in NGINX_POLICIES:
        raise ValueError(f"policy must be one of {sorted(NGINX_POLICIES)}; got {policy!r}")
    if not isinstance(workers, numbers.Integral) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1; got {workers!r}")
    ports = _check_ports(listen_port, backend_ports)
    work = Path(workdir)
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in ports)
    method = NGINX_POLICIES[policy]
    lines = [
        "# generated by k8smodel.lab",
        *nginx_preamble(work, workers=workers, run_as_root=run_as_root),
        "    upstream lab_pods {",
        *([f"        {method}"] if method else []),
        *(["        zone lab_pods 256k;"] if zone else []),
        servers,
        "    }",
        "    server {",
        f"        listen 127.0.0.1:{int(listen_port)}{' reuseport' if workers > 1 else ''};",
        "        location / {",
        "            proxy_pass http://lab_pods;",
        "            proxy_next_upstream off;",
        "            proxy_read_timeout 60s;",
        "        }",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def haproxy_config(policy: str, *, listen_port: int, backend_ports, threads: int = 1) -> str:
    """The HAProxy configuration for one balancing algorithm.

    Parameters
    ----------
    policy : {"roundrobin", "leastconn", "random(1)", "random(2)"}
        The ``balance`` algorithm.
    listen_port : int
        Port HAProxy listens on (127.0.0.1 only).
    backend_ports : sequence of int
        The pods' ports on 127.0.0.1; server ``pod{i}`` gets id ``i + 1``.
    threads : int, default 1
        ``nbthread``.

    Returns
    -------
    str
        The configuration text.

    Notes
    -----
    Semantics (``doc/configuration.txt``, "balance"; ``src/backend.c``
    ``get_server_rnd``): ``leastconn`` picks the server with the fewest served requests,
    round-robin among equals; ``random(d)`` draws ``d`` servers *with replacement* from the
    consistent-hash ring and keeps the one with the fewest served requests. With the default
    weight 1 each server has only 16 points on the ring (``lb_chash.c``,
    ``BE_WEIGHT_SCALE``), so ``random(1)`` is not uniform with few servers (see
    :func:`k8smodel.lab.haproxy_ring_shares`).
    """
    if policy not in HAPROXY_POLICIES:
        raise ValueError(f"policy must be one of {sorted(HAPROXY_POLICIES)}; got {policy!r}")
    if not isinstance(threads, numbers.Integral) or threads < 1:
        raise ValueError(f"threads must be an integer >= 1; got {threads!r}")
    ports = _check_ports(listen_port, backend_ports)
    servers = "\n".join(f"    server pod{i} 127.0.0.1:{p}" for i, p in enumerate(ports))
    return (
        "# generated by k8smodel.lab\n"
        "global\n"
        f"    nbthread {int(threads)}\n"
        "    maxconn 4096\n"
        "defaults\n"
        "    mode http\n"
        "    timeout connect 5s\n"
        "    timeout client 60s\n"
        "    timeout server 60s\n"
        "    retries 0\n"
        "frontend lab_in\n"
        f"    bind 127.0.0.1:{int(listen_port)}\n"
        "    default_backend lab_pods\n"
        "backend lab_pods\n"
        f"    balance {HAPROXY_POLICIES[policy]}\n"
        f"{servers}\n"
    )


@dataclass
class Balancer:
    """A running nginx or HAProxy; a context manager that stops it by its process id.

    Attributes
    ----------
    kind : {"nginx", "haproxy"}
    policy : str
    port : int
        Where it listens on 127.0.0.1.
    workers : int
    zone : bool
    config : str
        The configuration it runs.
    proc : subprocess.Popen
    """

    kind: str
    policy: str
    port: int
    workers: int
    zone: bool
    config: str
    proc: subprocess.Popen
    workdir: Path
    _owned_dir: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop the balancer (and any worker it forked) and remove its files."""
        _procs.stop(self.proc)
        if self._owned_dir is not None:
            self._owned_dir.cleanup()
            self._owned_dir = None

    def __enter__(self) -> Balancer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _is_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0


def _write_config(kind, policy, port, backend_ports, work, workers, zone) -> tuple[Path, str]:
    if kind == "nginx":
        text = nginx_config(
            policy,
            listen_port=port,
            backend_ports=backend_ports,
            workdir=work,
            workers=workers,
            zone=zone,
            run_as_root=_is_root(),
        )
        path = work / "nginx.conf"
    else:
        if zone:
            raise ValueError("zone applies to nginx only")
        text = haproxy_config(policy, listen_port=port, backend_ports=backend_ports)
        path = work / "haproxy.cfg"
    path.write_text(text)
    return path, text


def _command(kind: str, binary: str, path: Path, work: Path, check: bool) -> list[str]:
    if kind == "nginx":
        return [binary, *(["-t"] if check else []), "-q", "-p", str(work), "-e",
                str(work / "error.log"), "-c", str(path)]  # fmt: skip
    return [binary, "-c" if check else "-db", "-q", "-f", str(path)]


def check_config(
    kind: str, policy: str, *, backend_ports=(1,), workers: int = 1, zone: bool = False
) -> None:
    """Ask the real binary to validate a generated configuration (``nginx -t``, ``haproxy -c``).

    Parameters
    ----------
    kind : {"nginx", "haproxy"}
        Which balancer.
    policy : str
        A key of ``NGINX_POLICIES`` or ``HAPROXY_POLICIES``.
    backend_ports : sequence of int, default (1,)
        Ports of the upstream servers written into the configuration.
    workers : int, default 1
        nginx worker processes.
    zone : bool, default False
        nginx shared ``zone``.

    Raises
    ------
    BalancerUnavailable
        If the binary is missing.
    ValueError
        If the binary rejects the configuration (its message included).
    """
    if kind not in ("nginx", "haproxy"):
        raise ValueError(f"kind must be 'nginx' or 'haproxy'; got {kind!r}")
    binary = find_binary(kind)
    with tempfile.TemporaryDirectory(prefix="k8smodel-lab-check-") as tmp:
        work = Path(tmp)
        port = _procs.free_port()
        path, _ = _write_config(kind, policy, port, backend_ports, work, workers, zone)
        out = subprocess.run(
            _command(kind, binary, path, work, check=True),
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
        log = work / "error.log"
        extra = log.read_text(errors="replace") if log.exists() else ""
        if out.returncode != 0:
            raise ValueError(f"{kind} rejected the configuration: {out.stderr}{out.stdout}{extra}")


def start_balancer(
    kind: str,
    policy: str,
    backend_ports,
    *,
    workers: int = 1,
    zone: bool = False,
    startup_timeout_s: float = 10.0,
    attempts: int = 3,
) -> Balancer:
    """Start nginx or HAProxy on a free 127.0.0.1 port in front of ``backend_ports``.

    Parameters
    ----------
    kind : {"nginx", "haproxy"}
    policy : str
        A key of :data:`NGINX_POLICIES` or :data:`HAPROXY_POLICIES`.
    backend_ports : sequence of int
        The pods' ports on 127.0.0.1.
    workers : int, default 1
        nginx worker processes (HAProxy runs one thread).
    zone : bool, default False
        nginx only: share the upstream state between workers.
    startup_timeout_s : float, default 10
        How long to wait for the port to accept connections.
    attempts : int, default 3
        Tries with a fresh port if the chosen one was taken in the meantime.

    Returns
    -------
    Balancer
        Use as a context manager, or call :meth:`Balancer.stop`.

    Raises
    ------
    BalancerUnavailable
        If the binary is missing (nothing is started).
    RuntimeError
        If it does not come up (the process is stopped, its log quoted).
    """
    if kind not in ("nginx", "haproxy"):
        raise ValueError(f"kind must be 'nginx' or 'haproxy'; got {kind!r}")
    if kind == "haproxy" and workers != 1:
        raise ValueError(f"workers applies to nginx only; got workers={workers!r} for haproxy")
    binary = find_binary(kind)

    def configure(work: Path, port: int) -> tuple[list[str], str]:
        path, text = _write_config(kind, policy, port, backend_ports, work, workers, zone)
        return _command(kind, binary, path, work, check=False), text

    run = _procs.launch(kind, configure, startup_timeout_s=startup_timeout_s, attempts=attempts)
    return Balancer(kind, policy, run.port, workers, zone, run.text, run.proc, run.work, run.owned)
