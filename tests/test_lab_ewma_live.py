"""Live: ingress-nginx's real balancer/ewma.lua in nginx on 127.0.0.1.

Skipped without nginx's Lua module (Debian: libnginx-mod-http-lua, lua-resty-core,
lua-resty-lrucache) or without an ingress-nginx checkout named by the environment variable
``K8SMODEL_INGRESS_NGINX`` (its root or its rootfs/etc/nginx/lua). Bounded: 300 requests.
"""

import os

import numpy as np
import pytest

from k8smodel import lab
from k8smodel.lab import _procs
from k8smodel.lab import ewma as lab_ewma


def _missing() -> str:
    try:
        lab_ewma.lua_module_path()
    except lab.BalancerUnavailable as exc:
        return str(exc)
    path = os.environ.get("K8SMODEL_INGRESS_NGINX")
    if not path:
        return "set K8SMODEL_INGRESS_NGINX to a kubernetes/ingress-nginx checkout"
    try:
        lab_ewma.ingress_nginx_lua_dir(path)
    except ValueError as exc:
        return str(exc)
    return ""


pytestmark = [pytest.mark.live, pytest.mark.skipif(bool(_missing()), reason=_missing() or "-")]


def test_real_ewma_balances_every_request_without_lua_errors():
    with lab.start_backends(3, mean_service_s=0.02, rng=3) as pods:
        with lab_ewma.start_ewma_balancer(
            pods.ports, ingress_nginx=os.environ["K8SMODEL_INGRESS_NGINX"], workers=2
        ) as balancer:
            rows = lab.run_client(balancer.port, rate_per_s=60, requests=300, rng=4)
            log = (balancer.workdir / "error.log").read_text()
            pid = balancer.proc.pid
    assert (rows.status == "ok").all()
    # Two distinct candidates per request: every pod is drawn, none gets everything.
    counts = np.bincount(rows.pod, minlength=3)
    assert counts.min() > 0 and counts.max() < 300
    assert "[error]" not in log and "[emerg]" not in log
    assert pid not in _procs.live_pids()
