"""ingress-nginx's real ewma balancer in the lab: config writer, checkout lookup, prediction.

No nginx needed here; the live run is in tests/test_lab_ewma_live.py.
"""

import math
import re

import numpy as np
import pytest

from k8smodel.lab import ewma as lab_ewma
from k8smodel.lab.cli import validate, validate_ewma
from k8smodel.lab.ewma_validation import predict_ewma

# The shared dictionaries kubernetes/ingress-nginx rootfs/etc/nginx/lua/balancer/ewma.lua uses
# (dbb11b9): resty_lock:new("balancer_ewma_locks", ...) (line 29),
# ngx.shared.balancer_ewma_last_touched_at (line 66), ngx.shared.balancer_ewma (line 74).
EWMA_DICTS = {"balancer_ewma", "balancer_ewma_last_touched_at", "balancer_ewma_locks"}


def _config(workers=1, ports=(9001, 9002, 9003)):
    return lab_ewma.ewma_nginx_config(
        listen_port=8080,
        backend_ports=list(ports),
        workdir="/tmp/w",
        lua_dir="/src/ingress-nginx/rootfs/etc/nginx/lua",
        shim_dir="/tmp/w/lua",
        workers=workers,
    )


def test_config_declares_the_dictionaries_ewma_lua_uses():
    text = _config()
    assert set(re.findall(r"lua_shared_dict (\S+) ", text)) == EWMA_DICTS


def test_config_lists_every_pod_as_an_endpoint_and_loads_the_lua_module():
    text = _config(ports=(9001, 9002, 9003, 9004))
    found = re.findall(r'address = "127\.0\.0\.1", port = "(\d+)"', text)
    assert found == ["9001", "9002", "9003", "9004"]
    assert "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;" in text
    # ingress-nginx's own modules come first, the shim (resty.lock) next, then the system's.
    path = re.search(r'lua_package_path "([^"]+)";', text).group(1)
    assert path.split(";")[:2] == [
        "/src/ingress-nginx/rootfs/etc/nginx/lua/?.lua",
        "/tmp/w/lua/?.lua",
    ]
    assert path.endswith(";;")


def test_config_calls_balance_and_after_balance_in_their_phases():
    text = _config()
    balancer = re.search(r"balancer_by_lua_block \{(.*?)\n        \}", text, re.S).group(1)
    assert "ewma_instance:balance()" in balancer
    assert "set_current_peer" in balancer
    log = re.search(r"log_by_lua_block \{(.*?)\}", text, re.S).group(1)
    assert "ewma_instance:after_balance()" in log
    # balance() assigns ngx.var.balancer_ewma_score, which must be declared.
    assert "set $balancer_ewma_score" in text


@pytest.mark.parametrize("workers, reuse", [(1, False), (4, True)])
def test_config_workers(workers, reuse):
    text = _config(workers=workers)
    assert f"worker_processes {workers};" in text
    assert ("reuseport" in text) == reuse


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"workers": 0}, "workers must be an integer >= 1; got 0"),
        ({"ports": ()}, "backend_ports must name at least one pod port"),
        ({"ports": (70000,)}, "ports must be integers in 1..65535; got 70000"),
    ],
)
def test_config_refuses_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        _config(**kwargs)


def test_config_refuses_a_path_that_would_break_the_lua_string():
    with pytest.raises(ValueError, match="paths must not contain quotes"):
        lab_ewma.ewma_nginx_config(
            listen_port=8080, backend_ports=[9001], workdir="/w", lua_dir='/a"b', shim_dir="/s"
        )


def _fake_checkout(root):
    lua = root / "rootfs" / "etc" / "nginx" / "lua"
    (lua / "balancer").mkdir(parents=True)
    (lua / "util").mkdir()
    for name in ("balancer/ewma.lua", "util.lua", "util/split.lua"):
        (lua / name).write_text("-- placeholder\n")
    return lua


def test_lua_dir_from_a_checkout_or_the_lua_tree(tmp_path):
    lua = _fake_checkout(tmp_path)
    assert lab_ewma.ingress_nginx_lua_dir(tmp_path) == lua.resolve()
    assert lab_ewma.ingress_nginx_lua_dir(str(lua)) == lua.resolve()


def test_lua_dir_refuses_other_folders_and_types(tmp_path):
    with pytest.raises(ValueError, match="ingress_nginx must be a kubernetes/ingress-nginx"):
        lab_ewma.ingress_nginx_lua_dir(tmp_path)
    with pytest.raises(TypeError, match="ingress_nginx must be a path; got int"):
        lab_ewma.ingress_nginx_lua_dir(3)


def test_resty_lock_shim_keeps_the_three_calls_ewma_lua_makes():
    shim = lab_ewma.RESTY_LOCK_SHIM
    for fn in ("function _M.new", "function _M.lock", "function _M.unlock"):
        assert fn in shim
    # timeout = 0: a held key is reported as "timeout" without waiting (no sleep in the shim).
    assert 'return nil, "timeout"' in shim and "ngx.sleep" not in shim


def test_ewma_cases_are_skipped_with_a_message_without_the_checkout(tmp_path, capsys):
    assert validate(ewma_only=True, ingress_nginx=None) == 2
    assert "EWMA cases skipped: pass --ingress-nginx PATH" in capsys.readouterr().err
    assert validate_ewma(tmp_path) == 2
    assert "EWMA cases skipped" in capsys.readouterr().err


def test_prediction_with_one_pod_is_mm1():
    # One pod: ewma has nothing to choose, so the pod is an M/M/1 queue. Sojourn is
    # exponential with rate mu - lambda: mean 1 / (mu - lambda), p95 ln(20) / (mu - lambda).
    s, rho, reps = 0.02, 0.5, 24
    p = predict_ewma(
        pods=1, utilization=rho, mean_service_s=s, requests=6000, replications=reps, rng=5
    )
    mean = s / (1 - rho)
    # Spread of one replication's mean from the 95 % range across replications.
    sd = (p["mean_s_hi"] - p["mean_s_lo"]) / (2 * 1.96)
    assert abs(p["mean_s"] - mean) <= 4 * sd / math.sqrt(reps)
    sd95 = (p["p95_s_hi"] - p["p95_s_lo"]) / (2 * 1.96)
    assert abs(p["p95_s"] - math.log(20) * mean) <= 4 * sd95 / math.sqrt(reps)
    assert p["max_share"] == 1.0
    np.testing.assert_allclose(p["shares"], [1.0])
