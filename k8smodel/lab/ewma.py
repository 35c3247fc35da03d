"""ingress-nginx's real ``balancer/ewma.lua`` inside nginx, in front of the lab's pods.

The ingress-nginx source is never part of k8smodel: the caller passes a local checkout (or
an extracted ``rootfs/etc/nginx/lua`` tree) and nginx loads ``balancer/ewma.lua`` and what
it requires (``util``, ``util.split``, ``resty.lock``) from there. nginx needs Debian's
``libnginx-mod-http-lua``, ``lua-resty-core`` and ``lua-resty-lrucache``.

What k8smodel writes around it (:func:`ewma_nginx_config`) follows how ingress-nginx drives
a balancer (``rootfs/etc/nginx/lua/balancer.lua``: ``balance()`` in the balancer phase then
``ngx.balancer.set_current_peer``; ``log()`` calls ``after_balance()``; the shared
dictionaries of ``rootfs/etc/nginx/template/nginx.tmpl``: ``balancer_ewma``,
``balancer_ewma_last_touched_at``, ``balancer_ewma_locks``), with one endpoint per pod.
Debian has no ``lua-resty-lock``, so :data:`RESTY_LOCK_SHIM` stands in for it.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path

from k8smodel.lab import _procs
from k8smodel.lab.balancers import (
    Balancer,
    BalancerUnavailable,
    _check_ports,
    find_binary,
    nginx_preamble,
)

__all__ = [
    "LUA_MODULE_PATHS",
    "RESTY_LOCK_SHIM",
    "ewma_nginx_config",
    "ingress_nginx_lua_dir",
    "lua_module_path",
    "start_ewma_balancer",
]

#: Where Debian's packages put the nginx Lua module and resty.core.
LUA_MODULE_PATHS = {
    "ndk": "/usr/lib/nginx/modules/ndk_http_module.so",
    "lua": "/usr/lib/nginx/modules/ngx_http_lua_module.so",
    "resty_core": "/usr/share/lua/5.1/resty/core.lua",
}

#: A minimal ``resty.lock`` (openresty/lua-resty-lock ``lib/resty/lock.lua``) for the one
#: use ``ewma.lua`` makes of it: ``new(dict, {timeout = 0, exptime = 0.1})``, ``lock(key)``
#: and ``unlock()``. As in the original, ``lock`` is a shared-dict ``add`` of the key with
#: the ``exptime``; with ``timeout = 0`` a key already held by another worker returns
#: ``nil, "timeout"`` at once (the original only waits when ``timeout > 0``), a lock object
#: already holding a key returns ``nil, "locked"``, and ``unlock`` deletes the key.
RESTY_LOCK_SHIM = """\
-- k8smodel shim for resty.lock (openresty/lua-resty-lock lib/resty/lock.lua), timeout 0 only
local _M = {}
local mt = { __index = _M }

function _M.new(_, dict_name, opts)
  local dict = ngx.shared[dict_name]
  if not dict then
    return nil, "dictionary not found"
  end
  opts = opts or {}
  if opts.timeout and opts.timeout ~= 0 then
    return nil, "k8smodel's resty.lock shim supports timeout = 0 only"
  end
  return setmetatable({ dict = dict, exptime = opts.exptime or 30, key = nil }, mt)
end

function _M.lock(self, key)
  if self.key then
    return nil, "locked"
  end
  local ok, err = self.dict:add(key, true, self.exptime)
  if ok then
    self.key = key
    return 0
  end
  if err ~= "exists" then
    return nil, err
  end
  return nil, "timeout"
end

function _M.unlock(self)
  if not self.key then
    return nil, "unlocked"
  end
  local ok, err = self.dict:delete(self.key)
  self.key = nil
  if not ok then
    return nil, err
  end
  return 1
end

return _M
"""


def lua_module_path() -> str:
    """Path of nginx's Lua module, after checking that resty.core is installed too.

    Returns
    -------
    str
        The ``ngx_http_lua_module.so`` to load.

    Raises
    ------
    BalancerUnavailable
        If nginx, the Lua module or resty.core is missing (the message says what to install).
    """
    find_binary("nginx")
    missing = [p for p in LUA_MODULE_PATHS.values() if not os.path.exists(p)]
    if missing:
        raise BalancerUnavailable(
            f"nginx's Lua module is not installed ({', '.join(missing)} missing); as root: "
            "apt-get install -y libnginx-mod-http-lua lua-resty-core lua-resty-lrucache"
        )
    return LUA_MODULE_PATHS["lua"]


def ingress_nginx_lua_dir(path: str | os.PathLike) -> Path:
    """The folder holding ingress-nginx's Lua modules, from a checkout or an extracted tree.

    Parameters
    ----------
    path : path
        A kubernetes/ingress-nginx checkout (its root), or its ``rootfs/etc/nginx/lua``.

    Returns
    -------
    pathlib.Path
        The folder with ``balancer/ewma.lua``, ``util.lua`` and ``util/split.lua``.

    Raises
    ------
    TypeError
        If ``path`` is not a path.
    ValueError
        If no ``balancer/ewma.lua`` is found there.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"ingress_nginx must be a path; got {type(path).__name__}")
    root = Path(path).expanduser()
    for lua in (root / "rootfs" / "etc" / "nginx" / "lua", root):
        if all((lua / f).is_file() for f in ("balancer/ewma.lua", "util.lua", "util/split.lua")):
            return lua.resolve()
    raise ValueError(
        "ingress_nginx must be a kubernetes/ingress-nginx checkout or its rootfs/etc/nginx/lua "
        f"(with balancer/ewma.lua, util.lua, util/split.lua); got {str(path)!r}"
    )


def _lua_string(text: str) -> str:
    if any(c in text for c in '"\\\n'):
        raise ValueError(f"paths must not contain quotes, backslashes or newlines; got {text!r}")
    return f'"{text}"'


def ewma_nginx_config(
    *,
    listen_port: int,
    backend_ports,
    workdir: str | Path,
    lua_dir: str | Path,
    shim_dir: str | Path,
    workers: int = 1,
    run_as_root: bool = False,
    lua_module: str = LUA_MODULE_PATHS["lua"],
    ndk_module: str = LUA_MODULE_PATHS["ndk"],
) -> str:
    """The nginx configuration that balances with ingress-nginx's ``balancer/ewma.lua``.

    Parameters
    ----------
    listen_port : int
        Port nginx listens on (127.0.0.1 only).
    backend_ports : sequence of int
        The pods' ports on 127.0.0.1; endpoint ``i`` is ``127.0.0.1:backend_ports[i]``.
    workdir : path
        Folder for the pid file, error log and temporary files.
    lua_dir : path
        ingress-nginx's ``rootfs/etc/nginx/lua`` (see :func:`ingress_nginx_lua_dir`).
    shim_dir : path
        Folder holding ``resty/lock.lua`` (:data:`RESTY_LOCK_SHIM`); searched after
        ``lua_dir`` and before the system's Lua path.
    workers : int, default 1
        ``worker_processes`` (``reuseport`` when more than one, as in
        :func:`k8smodel.lab.nginx_config`). The scores live in shared dictionaries, so
        every worker reads and updates the same ones.
    run_as_root : bool, default False
        Add ``user nobody nogroup;``.
    lua_module, ndk_module : str
        The dynamic modules to load (Debian's paths by default).

    Returns
    -------
    str
        The configuration text.

    Notes
    -----
    As ingress-nginx (``rootfs/etc/nginx/lua/balancer.lua``, ``balance`` and ``log``;
    ``rootfs/etc/nginx/template/nginx.tmpl``): the ``upstream`` has a placeholder server
    and a ``balancer_by_lua_block`` that calls the ewma instance's ``balance()`` and
    ``ngx.balancer.set_current_peer`` with the endpoint it names; ``log_by_lua_block``
    calls ``after_balance()``; ``$balancer_ewma_score`` is declared for ``balance()`` to
    set. Endpoints are given to ``ewma:new`` (all scores start absent, i.e. 0). Every
    worker seeds ``math.random`` differently (ingress-nginx's ``lua_ingress.lua``
    ``randomseed`` seeds each worker from ``/dev/urandom``, falling back to
    ``ngx.now() * 1000 + ngx.worker.pid()``, the seed used here). Requests are proxied
    with a new upstream connection each and no retry (``proxy_next_upstream off``), as in
    the other lab configurations.
    """
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1; got {workers!r}")
    ports = _check_ports(listen_port, backend_ports)
    work = Path(workdir)
    endpoints = ", ".join(f'{{address = "127.0.0.1", port = "{p}"}}' for p in ports)
    lua_path = f"{lua_dir}/?.lua;{shim_dir}/?.lua;;"
    lines = [
        "# generated by k8smodel.lab (ingress-nginx balancer/ewma.lua)",
        *nginx_preamble(
            work, workers=workers, run_as_root=run_as_root, modules=(ndk_module, lua_module)
        ),
        f"    lua_package_path {_lua_string(lua_path)};",
        "    lua_shared_dict balancer_ewma 1M;",
        "    lua_shared_dict balancer_ewma_last_touched_at 1M;",
        "    lua_shared_dict balancer_ewma_locks 512k;",
        "    init_by_lua_block {",
        '        ewma_balancer = require("balancer.ewma")',
        "    }",
        "    init_worker_by_lua_block {",
        "        math.randomseed(ngx.now() * 1000 + ngx.worker.pid())",
        f"        ewma_instance = ewma_balancer:new({{endpoints = {{{endpoints}}}}})",
        "    }",
        "    upstream lab_pods {",
        "        server 0.0.0.1;  # placeholder: balancer_by_lua_block picks the peer",
        "        balancer_by_lua_block {",
        '            local ngx_balancer = require("ngx.balancer")',
        "            local peer = ewma_instance:balance()",
        '            local host, port = peer:match("^(.+):(%d+)$")',
        "            local ok, err = ngx_balancer.set_current_peer(host, tonumber(port))",
        "            if not ok then",
        '                ngx.log(ngx.ERR, "set_current_peer failed: ", err)',
        "            end",
        "        }",
        "    }",
        "    server {",
        f"        listen 127.0.0.1:{int(listen_port)}{' reuseport' if workers > 1 else ''};",
        "        location / {",
        "            set $balancer_ewma_score -1;",
        "            proxy_pass http://lab_pods;",
        "            proxy_next_upstream off;",
        "            proxy_read_timeout 60s;",
        "            log_by_lua_block {",
        "                ewma_instance:after_balance()",
        "            }",
        "        }",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _write(work: Path, port: int, backend_ports, lua_dir: Path, workers: int) -> tuple[Path, str]:
    shim = work / "lua"
    (shim / "resty").mkdir(parents=True, exist_ok=True)
    (shim / "resty" / "lock.lua").write_text(RESTY_LOCK_SHIM)
    text = ewma_nginx_config(
        listen_port=port,
        backend_ports=backend_ports,
        workdir=work,
        lua_dir=lua_dir,
        shim_dir=shim,
        workers=workers,
        run_as_root=hasattr(os, "geteuid") and os.geteuid() == 0,
        lua_module=lua_module_path(),
    )
    path = work / "nginx.conf"
    path.write_text(text)
    return path, text


def _command(binary: str, path: Path, work: Path, check: bool = False) -> list[str]:
    return [binary, *(["-t"] if check else []), "-q", "-p", str(work), "-e",
            str(work / "error.log"), "-c", str(path)]  # fmt: skip


def start_ewma_balancer(
    backend_ports,
    *,
    ingress_nginx: str | os.PathLike,
    workers: int = 1,
    startup_timeout_s: float = 10.0,
) -> Balancer:
    """Start nginx with ingress-nginx's ewma balancer on a free 127.0.0.1 port.

    Parameters
    ----------
    backend_ports : sequence of int
        The pods' ports on 127.0.0.1.
    ingress_nginx : path
        A kubernetes/ingress-nginx checkout or its ``rootfs/etc/nginx/lua``.
    workers : int, default 1
        nginx worker processes.
    startup_timeout_s : float, default 10
        How long to wait for the port to accept connections.

    Returns
    -------
    Balancer
        ``kind="nginx"``, ``policy="ewma"``; use as a context manager.

    Raises
    ------
    BalancerUnavailable
        If nginx or its Lua module is missing (nothing is started).
    ValueError
        If ``ingress_nginx`` holds no ``balancer/ewma.lua``.
    RuntimeError
        If nginx does not come up (its log quoted).
    """
    lua_dir = ingress_nginx_lua_dir(ingress_nginx)
    binary = find_binary("nginx")
    lua_module_path()

    def configure(work: Path, port: int) -> tuple[list[str], str]:
        path, text = _write(work, port, backend_ports, lua_dir, workers)
        return _command(binary, path, work), text

    run = _procs.launch(
        "nginx (ingress-nginx ewma)", configure, startup_timeout_s=startup_timeout_s
    )
    return Balancer("nginx", "ewma", run.port, int(workers), True, run.text, run.proc, run.work,
                    run.owned)  # fmt: skip
