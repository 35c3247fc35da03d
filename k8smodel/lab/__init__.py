"""Check the load-distribution model against real nginx and HAProxy on 127.0.0.1.

``k8smodel.lab`` starts ``n`` local backend pods (asyncio HTTP servers, each a FIFO queue in
front of ``concurrency`` servers with exponential or given service times), puts a real nginx
or HAProxy in front of them with the balancing policy under test, drives it with an
open-loop Poisson client, and compares measured shares and response times with
``k8smodel.lb``'s predictions for the same policy and load.

Everything listens on 127.0.0.1 only, on ports chosen free at run time; request counts and
run durations are bounded; every process is stopped by its id on every exit path.

Main entry points: :func:`run_validation` (measure), :func:`compare_with_model`
(predict and judge), :func:`plot_comparison`; building blocks :func:`start_backends`,
:func:`start_balancer`, :func:`run_client`, :func:`calibrate_overhead`,
:func:`haproxy_ring_shares`.
"""

from k8smodel.lab.backends import Backends, draw_service_times, start_backends
from k8smodel.lab.balancers import (
    HAPROXY_POLICIES,
    NGINX_POLICIES,
    Balancer,
    BalancerUnavailable,
    check_config,
    find_binary,
    haproxy_config,
    nginx_config,
    start_balancer,
)
from k8smodel.lab.cli import measured_part, validation_record
from k8smodel.lab.client import CLIENT_COLUMNS, poisson_arrivals, run_client
from k8smodel.lab.compare import (
    COMPARISON_COLUMNS,
    compare_with_model,
    exact_theory,
    model_spec,
    plot_comparison,
    predict,
    verdict,
)
from k8smodel.lab.harness import (
    DEFAULT_CASES,
    Case,
    calibrate_overhead,
    machine_description,
    measure_case,
    run_validation,
    summarize_requests,
)
from k8smodel.lb.semantics import haproxy_full_hash, haproxy_ring_shares

__all__ = [
    "Backends",
    "Balancer",
    "BalancerUnavailable",
    "CLIENT_COLUMNS",
    "COMPARISON_COLUMNS",
    "Case",
    "DEFAULT_CASES",
    "HAPROXY_POLICIES",
    "NGINX_POLICIES",
    "calibrate_overhead",
    "check_config",
    "compare_with_model",
    "draw_service_times",
    "exact_theory",
    "find_binary",
    "haproxy_config",
    "haproxy_full_hash",
    "haproxy_ring_shares",
    "machine_description",
    "measure_case",
    "measured_part",
    "model_spec",
    "nginx_config",
    "plot_comparison",
    "poisson_arrivals",
    "predict",
    "run_client",
    "run_validation",
    "start_backends",
    "start_balancer",
    "summarize_requests",
    "validation_record",
    "verdict",
]
